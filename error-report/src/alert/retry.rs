//! An admin asks for a given-up alert to be tried again. Only a given-up alert may be: one
//! still pending or retrying is tried anyway, and a sent one reached its channel.

use schemas::errors::AlertRetryRequested;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Alert, AlertStatus};

/// Why a retry was refused: the alert is not given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {0} alert cannot be retried: only a given-up one can")]
pub struct NotGivenUp(pub AlertStatus);

/// The event that makes `alert` due again at `at`, asked for `by` an admin.
pub fn retry(
    alert: &Alert,
    by: Uuid,
    at: OffsetDateTime,
) -> Result<AlertRetryRequested, NotGivenUp> {
    if alert.status != AlertStatus::GivenUp {
        return Err(NotGivenUp(alert.status));
    }
    Ok(AlertRetryRequested {
        alert_id: alert.raised.alert_id,
        by,
        requested_at: at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::job::tests::{ADMIN, T0, fold, given_up, raised, started};

    #[test]
    fn only_a_given_up_alert_is_retried() {
        let spent = fold(&[raised(), started(1), given_up(1)]);
        let retried = retry(&spent, ADMIN, T0).unwrap();
        assert_eq!((retried.by, retried.requested_at), (ADMIN, T0));
        for (events, status) in [
            (vec![raised()], AlertStatus::Pending),
            (vec![raised(), started(1)], AlertStatus::Sending),
        ] {
            assert_eq!(retry(&fold(&events), ADMIN, T0), Err(NotGivenUp(status)));
        }
    }

    #[test]
    fn a_refusal_names_the_alert_s_status() {
        let refused = NotGivenUp(AlertStatus::Sent);
        assert_eq!(
            refused.to_string(),
            "a sent alert cannot be retried: only a given-up one can"
        );
    }
}
