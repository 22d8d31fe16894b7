//! Where an alert is in its delivery, as the alerts read model keeps it and its listing
//! filters by it. The projector writes these names and query-api reads them: one list.

/// The status of one alert on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// Raised; no attempt yet.
    Pending,
    /// A worker is delivering it.
    Sending,
    /// The last attempt failed for now; the next one is due at a set time.
    Retrying,
    /// The channel took it (the webhook answered `2xx`, or the email was requested).
    Sent,
    /// Refused for good, or every attempt failed.
    GivenUp,
}

impl AlertStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Sending,
        Self::Retrying,
        Self::Sent,
        Self::GivenUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Retrying => "retrying",
            Self::Sent => "sent",
            Self::GivenUp => "given_up",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether a worker still has something to do with the alert.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Pending | Self::Sending | Self::Retrying)
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read models keep a status as its name; this reads one back (a text column).
impl TryFrom<String> for AlertStatus {
    type Error = schemas::errors::UnknownName;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or(schemas::errors::UnknownName(text))
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
