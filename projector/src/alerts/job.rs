//! One alert as the delivery worker sees it: the claim that starts an attempt and the
//! event that ends it, on the alert as its stream leaves it ([`error_report::alert`]).
//! Pure: the worker decides by these rules, the tests need no server.

use std::time::Duration;

use email_job::RetryPolicy;
pub use error_report::alert::{Alert, evolve};
use schemas::errors::{AlertAttemptStarted, AlertDeferred, AlertGivenUp, AlertSent, ErrorsEvent};
use time::OffsetDateTime;

/// The attempt `worker` may start on `alert` at `now`, holding it for `lease`, if one is
/// due: pending or retrying and due, or sending under a lease that ran out (its worker
/// died mid-attempt).
pub fn start(
    alert: &Alert,
    worker: &str,
    lease: Duration,
    now: OffsetDateTime,
) -> Option<AlertAttemptStarted> {
    if !alert.status.is_pending() || alert.due_at.is_none_or(|due| due > now) {
        return None;
    }
    Some(AlertAttemptStarted {
        alert_id: alert.raised.alert_id,
        attempt: alert.attempts + 1,
        worker: worker.to_owned(),
        started_at: now,
        lease_until: now + lease,
    })
}

/// How an attempt went, as the channel told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The channel took it: the webhook's answer, or the email's id.
    Delivered(String),
    /// It failed for now (a `5xx`, a `429`, a timeout, no connection); not again before
    /// `not_before` when the channel said so (`Retry-After`).
    Retry {
        reason: String,
        not_before: Option<OffsetDateTime>,
    },
    /// It failed for good (a `4xx` other than `429`).
    Refused(String),
}

/// The event that ends the attempt `alert` is in (its state after the claim): sent,
/// deferred to the later of the `policy`'s delay (spread by `jitter` in `[0, 1)`) and
/// the channel's `Retry-After`, or given up when refused or out of attempts. Attempts and
/// backoff count from an admin's last retry.
pub fn finish(
    alert: &Alert,
    delivery: Delivery,
    policy: &RetryPolicy,
    now: OffsetDateTime,
    jitter: f64,
) -> ErrorsEvent {
    let (alert_id, attempt) = (alert.raised.alert_id, alert.attempts);
    let in_round = u32::try_from(alert.attempts_in_round()).unwrap_or(u32::MAX);
    match delivery {
        Delivery::Delivered(detail) => ErrorsEvent::AlertSent(AlertSent {
            alert_id,
            attempt,
            detail,
            sent_at: now,
        }),
        Delivery::Refused(reason) => ErrorsEvent::AlertGivenUp(AlertGivenUp {
            alert_id,
            attempt,
            reason,
            given_up_at: now,
        }),
        Delivery::Retry { reason, .. } if !policy.allows_another(in_round) => {
            ErrorsEvent::AlertGivenUp(AlertGivenUp {
                alert_id,
                attempt,
                reason: format!("{reason} (no attempt left of {})", policy.max_attempts),
                given_up_at: now,
            })
        }
        Delivery::Retry { reason, not_before } => {
            let backoff = now + policy.delay(in_round, jitter);
            ErrorsEvent::AlertDeferred(AlertDeferred {
                alert_id,
                attempt,
                reason,
                failed_at: now,
                retry_at: not_before.map_or(backoff, |asked| asked.max(backoff)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use error_report::alert::AlertStatus;
    use schemas::errors::{AlertChannel, AlertRaised, AlertReason, AlertRetryRequested, Level};
    use time::{Duration as Span, macros::datetime};
    use uuid::Uuid;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-12-08 10:00 UTC);
    const LEASE: Duration = Duration::from_secs(20);

    fn raised() -> ErrorsEvent {
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

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(600),
        }
    }

    /// The alert claimed at `at` after `events`.
    fn claimed(events: &[ErrorsEvent], at: OffsetDateTime) -> Alert {
        let alert = fold(events);
        let claim = start(&alert, "w", LEASE, at).expect("due");
        evolve(Some(alert), &ErrorsEvent::AlertAttemptStarted(claim), 99).unwrap()
    }

    fn fold(events: &[ErrorsEvent]) -> Alert {
        events
            .iter()
            .zip(1..)
            .fold(None, |alert, (event, version)| {
                evolve(alert, event, version)
            })
            .unwrap()
    }

    #[test]
    fn a_raised_alert_is_due_at_once_and_claimed_with_a_lease() {
        let alert = fold(&[raised()]);
        assert_eq!(alert.status, AlertStatus::Pending);
        let claim = start(&alert, "w", LEASE, T0).unwrap();
        assert_eq!(
            (claim.attempt, claim.lease_until),
            (1, T0 + Span::seconds(20))
        );
        let sending = claimed(&[raised()], T0);
        assert_eq!(start(&sending, "v", LEASE, T0 + Span::seconds(19)), None);
        let taken_over = start(&sending, "v", LEASE, T0 + Span::seconds(20)).unwrap();
        assert_eq!(taken_over.attempt, 2);
    }

    #[test]
    fn a_failure_for_now_is_retried_after_the_backoff() {
        let alert = claimed(&[raised()], T0);
        let retry = Delivery::Retry {
            reason: "500".into(),
            not_before: None,
        };
        let ErrorsEvent::AlertDeferred(deferred) = finish(&alert, retry, &policy(3), T0, 0.5)
        else {
            panic!("deferred");
        };
        assert_eq!(deferred.retry_at, T0 + Span::seconds(10));
        let again = fold(&[raised(), ErrorsEvent::AlertDeferred(deferred.clone())]);
        assert_eq!(again.status, AlertStatus::Retrying);
        assert_eq!(
            start(
                &again,
                "w",
                LEASE,
                deferred.retry_at - Span::milliseconds(1)
            ),
            None
        );
    }

    #[test]
    fn a_retry_after_later_than_the_backoff_wins_and_an_earlier_one_does_not() {
        let alert = claimed(&[raised()], T0);
        let later = Delivery::Retry {
            reason: "429".into(),
            not_before: Some(T0 + Span::minutes(2)),
        };
        let ErrorsEvent::AlertDeferred(deferred) = finish(&alert, later, &policy(3), T0, 0.5)
        else {
            panic!("deferred");
        };
        assert_eq!(deferred.retry_at, T0 + Span::minutes(2));
        let sooner = Delivery::Retry {
            reason: "429".into(),
            not_before: Some(T0 + Span::seconds(1)),
        };
        let ErrorsEvent::AlertDeferred(deferred) = finish(&alert, sooner, &policy(3), T0, 0.5)
        else {
            panic!("deferred");
        };
        assert_eq!(deferred.retry_at, T0 + Span::seconds(10));
    }

    #[test]
    fn a_refusal_or_the_last_attempt_failing_gives_the_alert_up() {
        let alert = claimed(&[raised()], T0);
        let refused = finish(&alert, Delivery::Refused("404".into()), &policy(3), T0, 0.5);
        assert!(
            matches!(refused, ErrorsEvent::AlertGivenUp(_)),
            "{refused:?}"
        );
        let retry = Delivery::Retry {
            reason: "500".into(),
            not_before: None,
        };
        let spent = finish(&alert, retry, &policy(1), T0, 0.5);
        let ErrorsEvent::AlertGivenUp(given_up) = spent else {
            panic!("given up: {spent:?}");
        };
        assert!(
            given_up.reason.contains("no attempt left"),
            "{}",
            given_up.reason
        );
        let settled = fold(&[raised(), ErrorsEvent::AlertGivenUp(given_up)]);
        assert_eq!(start(&settled, "w", LEASE, T0 + Span::days(1)), None);
    }

    #[test]
    fn after_an_admin_s_retry_attempts_and_backoff_count_afresh() {
        let retry = || Delivery::Retry {
            reason: "500".into(),
            not_before: None,
        };
        let first = claimed(&[raised()], T0);
        let spent = finish(&first, retry(), &policy(1), T0, 0.5);
        assert!(matches!(spent, ErrorsEvent::AlertGivenUp(_)), "{spent:?}");
        let later = T0 + Span::hours(1);
        let retried = ErrorsEvent::AlertRetryRequested(AlertRetryRequested {
            alert_id: Uuid::from_u128(1),
            by: Uuid::from_u128(9),
            requested_at: later,
        });
        let history = [raised(), first_claim(), spent, retried];
        let again = claimed(&history, later);
        assert_eq!(again.attempts, 2, "attempt numbers go on");
        let ErrorsEvent::AlertDeferred(deferred) = finish(&again, retry(), &policy(2), later, 0.5)
        else {
            panic!("a second attempt of the new round is allowed");
        };
        assert_eq!(
            deferred.retry_at,
            later + Span::seconds(10),
            "the first backoff again"
        );
    }

    fn first_claim() -> ErrorsEvent {
        ErrorsEvent::AlertAttemptStarted(start(&fold(&[raised()]), "w", LEASE, T0).unwrap())
    }

    #[test]
    fn a_sent_alert_is_never_claimed_again() {
        let alert = claimed(&[raised()], T0);
        let sent = finish(
            &alert,
            Delivery::Delivered("200 ok".into()),
            &policy(3),
            T0,
            0.5,
        );
        let settled = fold(&[raised(), sent]);
        assert_eq!(settled.status, AlertStatus::Sent);
        assert_eq!(start(&settled, "w", LEASE, T0 + Span::days(1)), None);
    }
}
