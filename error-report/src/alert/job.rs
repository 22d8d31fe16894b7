//! One alert as a job: its state folded from its stream. The claim that starts an
//! attempt and the event that ends it are the delivery worker's (`projector::alerts::job`).

use schemas::errors::{AlertRaised, ErrorsEvent};
use time::OffsetDateTime;

use super::AlertStatus;

/// An alert as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub raised: AlertRaised,
    pub status: AlertStatus,
    /// Attempts started over the alert's whole life.
    pub attempts: i32,
    /// Attempts started before an admin's last retry: the allowance counts from here.
    pub attempts_before_retry: i32,
    /// When a worker may next start an attempt: none once sent or given up.
    pub due_at: Option<OffsetDateTime>,
    /// The stream's version.
    pub version: i64,
}

impl Alert {
    /// Attempts made since the alert was raised or an admin last retried it.
    pub fn attempts_in_round(&self) -> i32 {
        self.attempts - self.attempts_before_retry
    }
}

/// The alert after `event`, the stream's `version`-th; events of other kinds leave it.
pub fn evolve(alert: Option<Alert>, event: &ErrorsEvent, version: i64) -> Option<Alert> {
    let mut alert = match (alert, event) {
        (None, ErrorsEvent::AlertRaised(raised)) => {
            return Some(Alert {
                raised: raised.clone(),
                status: AlertStatus::Pending,
                attempts: 0,
                attempts_before_retry: 0,
                due_at: Some(raised.raised_at),
                version,
            });
        }
        (alert, _) => alert?,
    };
    let (status, due_at) = match event {
        ErrorsEvent::AlertAttemptStarted(e) => {
            alert.attempts = e.attempt;
            (AlertStatus::Sending, Some(e.lease_until))
        }
        ErrorsEvent::AlertSent(_) => (AlertStatus::Sent, None),
        ErrorsEvent::AlertDeferred(e) => (AlertStatus::Retrying, Some(e.retry_at)),
        ErrorsEvent::AlertGivenUp(_) => (AlertStatus::GivenUp, None),
        ErrorsEvent::AlertRetryRequested(e) => {
            alert.attempts_before_retry = alert.attempts;
            (AlertStatus::Pending, Some(e.requested_at))
        }
        _ => return Some(alert),
    };
    alert.status = status;
    alert.due_at = due_at;
    alert.version = version;
    Some(alert)
}

#[cfg(test)]
pub(crate) mod tests {
    use schemas::errors::{
        AlertAttemptStarted, AlertChannel, AlertGivenUp, AlertReason, AlertRetryRequested, Level,
    };
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    pub(crate) const T0: OffsetDateTime = datetime!(2026-12-08 10:00 UTC);
    pub(crate) const ADMIN: Uuid = Uuid::from_u128(9);

    pub(crate) fn raised() -> ErrorsEvent {
        ErrorsEvent::AlertRaised(AlertRaised {
            alert_id: Uuid::from_u128(1),
            project: 3,
            issue_id: Uuid::from_u128(2),
            reason: AlertReason::NewIssue,
            channel: AlertChannel::Slack {
                webhook_url: "http://127.0.0.1:9/hook".into(),
            },
            title: "ValueError: bad".into(),
            level: Level::Error,
            source_event_id: Uuid::from_u128(3),
            raised_at: T0,
        })
    }

    pub(crate) fn started(attempt: i32) -> ErrorsEvent {
        ErrorsEvent::AlertAttemptStarted(AlertAttemptStarted {
            alert_id: Uuid::from_u128(1),
            attempt,
            worker: "w".into(),
            started_at: T0,
            lease_until: T0 + time::Duration::seconds(20),
        })
    }

    pub(crate) fn given_up(attempt: i32) -> ErrorsEvent {
        ErrorsEvent::AlertGivenUp(AlertGivenUp {
            alert_id: Uuid::from_u128(1),
            attempt,
            reason: "500 (no attempt left of 2)".into(),
            given_up_at: T0,
        })
    }

    pub(crate) fn fold(events: &[ErrorsEvent]) -> Alert {
        events
            .iter()
            .zip(1..)
            .fold(None, |alert, (event, version)| {
                evolve(alert, event, version)
            })
            .expect("an alert")
    }

    #[test]
    fn an_admin_s_retry_makes_a_given_up_alert_due_with_a_fresh_allowance() {
        let history = [raised(), started(1), started(2), given_up(2)];
        let spent = fold(&history);
        assert_eq!(
            (spent.status, spent.due_at, spent.attempts_in_round()),
            (AlertStatus::GivenUp, None, 2)
        );
        let later = T0 + time::Duration::hours(1);
        let again = fold(&[history.as_slice(), &[retry_requested(later)]].concat());
        assert_eq!(again.status, AlertStatus::Pending);
        assert_eq!(again.due_at, Some(later));
        assert_eq!((again.attempts, again.attempts_in_round()), (2, 0));
        assert_eq!(again.version, 5);
        let next = fold(&[history.as_slice(), &[retry_requested(later), started(3)]].concat());
        assert_eq!(
            next.attempts_in_round(),
            1,
            "attempt 3 is the round's first"
        );
    }

    pub(crate) fn retry_requested(at: OffsetDateTime) -> ErrorsEvent {
        ErrorsEvent::AlertRetryRequested(AlertRetryRequested {
            alert_id: Uuid::from_u128(1),
            by: ADMIN,
            requested_at: at,
        })
    }

    #[test]
    fn events_before_the_alert_was_raised_are_no_alert() {
        assert_eq!(evolve(None, &started(1), 1), None);
    }
}
