//! Where an alert is in its delivery, as the alerts read model keeps it and its listing
//! filters by it. The projector writes these names and query-api reads them: one list.

schemas::named_enum! {
    /// The status of one alert on one channel.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AlertStatus {
        /// Raised; no attempt yet.
        Pending = "pending",
        /// A worker is delivering it.
        Sending = "sending",
        /// The last attempt failed for now; the next one is due at a set time.
        Retrying = "retrying",
        /// The channel took it (the webhook answered `2xx`, or the email was requested).
        Sent = "sent",
        /// Refused for good, or every attempt failed.
        GivenUp = "given_up",
    }
}

impl AlertStatus {
    /// Whether a worker still has something to do with the alert.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Pending | Self::Sending | Self::Retrying)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name_and_no_other() {
        for status in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AlertStatus::parse("GIVEN_UP"), None);
        assert!(AlertStatus::Retrying.is_pending());
        assert!(!AlertStatus::GivenUp.is_pending());
    }
}
