//! An attempt to deliver an email: the worker's claim, which it appends at the version it
//! read (so of two workers racing for one email, exactly one appends and the other learns
//! of it from the conflict), and the one event that records how the attempt ended.

use std::time::Duration;

use schemas::email::{
    EmailAttemptStarted, EmailDead, EmailDeferred, EmailEvent, EmailFailed, EmailSent, EmailStatus,
};
use time::OffsetDateTime;

use crate::{Email, RetryPolicy};

/// Who is claiming an email, and for how long.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The worker instance.
    pub worker: &'a str,
    /// How long the attempt may take before another worker may assume it died: longer
    /// than the longest SMTP exchange, so a live attempt is never taken over.
    pub lease: Duration,
    /// The domain of the Message-ID the first attempt fixes (`<email id@domain>`).
    pub message_domain: &'a str,
}

/// The attempt a worker may start on `email` at `now`, if it is due one: queued or
/// retrying and due, or sending under a lease that ran out (its worker died mid-attempt).
pub fn start(email: &Email, claim: &Claim<'_>, now: OffsetDateTime) -> Option<EmailAttemptStarted> {
    if !email.status.is_pending() || email.due_at.is_none_or(|due| due > now) {
        return None;
    }
    let message_id = email
        .message_id
        .clone()
        .unwrap_or_else(|| format!("<{}@{}>", email.id, claim.message_domain));
    Some(EmailAttemptStarted {
        email_id: email.id,
        requested_by: email.requested_by,
        attempt: email.attempts + 1,
        message_id,
        worker: claim.worker.to_owned(),
        started_at: now,
        lease_until: now + claim.lease,
    })
}

/// How an attempt ended, as the SMTP exchange told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server accepted the message, with this reply.
    Accepted(String),
    /// It failed for now: a 4xx reply, a timeout, no connection.
    Transient(String),
    /// The server refused it for good: a 5xx reply.
    Permanent(String),
}

/// The event that ends the attempt `email` is in (its state after the claim): sent,
/// failed for good, deferred to a time the `policy` sets (spread by `jitter` in
/// `[0, 1)`), or dead when the round's attempts are spent.
pub fn finish(
    email: &Email,
    delivery: Delivery,
    policy: &RetryPolicy,
    now: OffsetDateTime,
    jitter: f64,
) -> EmailEvent {
    debug_assert_eq!(email.status, EmailStatus::Sending, "finish follows a claim");
    let (email_id, requested_by, attempt) = (email.id, email.requested_by, email.attempts);
    match delivery {
        Delivery::Accepted(reply) => EmailEvent::Sent(EmailSent {
            email_id,
            requested_by,
            attempt,
            message_id: email.message_id.clone().unwrap_or_default(),
            reply,
            sent_at: now,
        }),
        Delivery::Permanent(reply) => EmailEvent::Failed(EmailFailed {
            email_id,
            requested_by,
            attempt,
            reply,
            failed_at: now,
        }),
        Delivery::Transient(reply) => {
            let in_round = u32::try_from(email.attempts_in_round()).unwrap_or(u32::MAX);
            if policy.allows_another(in_round) {
                EmailEvent::Deferred(EmailDeferred {
                    email_id,
                    requested_by,
                    attempt,
                    reply,
                    failed_at: now,
                    retry_at: now + policy.delay(in_round, jitter),
                })
            } else {
                EmailEvent::Dead(EmailDead {
                    email_id,
                    requested_by,
                    attempt,
                    reply,
                    died_at: now,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use schemas::email::EmailCancelled;
    use time::{Duration as Span, macros::datetime};
    use uuid::Uuid;

    use super::*;
    use crate::job::{
        evolve,
        tests::{T0, fold, requested, started},
    };

    const CLAIM: Claim<'static> = Claim {
        worker: "worker-1",
        lease: Duration::from_secs(60),
        message_domain: "mail.example.com",
    };

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(600),
        }
    }

    /// An hour after `T0`: every lease the `started` events took has run out.
    const LATER: OffsetDateTime = datetime!(2026-12-01 11:00 UTC);

    /// The event `finish` records for `delivery` after a worker claimed the email that
    /// `events` describe, at [`LATER`].
    fn claimed_then(events: &[EmailEvent], delivery: Delivery, max_attempts: u32) -> EmailEvent {
        let email = fold(events);
        let claim = EmailEvent::AttemptStarted(start(&email, &CLAIM, LATER).expect("due"));
        let email = evolve(Some(email), &claim, 99).unwrap();
        finish(&email, delivery, &policy(max_attempts), LATER, 0.5)
    }

    #[test]
    fn a_queued_email_is_claimed_with_a_lease_and_a_message_id_of_its_own() {
        let email = fold(&[requested()]);
        let claim = start(&email, &CLAIM, T0).unwrap();
        assert_eq!(claim.attempt, 1);
        assert_eq!(claim.message_id, format!("<{}@mail.example.com>", email.id));
        assert_eq!(claim.lease_until, T0 + Span::minutes(1));
    }

    #[test]
    fn an_email_under_a_live_lease_is_not_claimed_again() {
        let email = fold(&[requested(), started(1, T0)]);
        assert_eq!(start(&email, &CLAIM, T0 + Span::seconds(59)), None);
    }

    #[test]
    fn an_expired_lease_lets_another_worker_take_over_with_the_same_message_id() {
        let email = fold(&[requested(), started(1, T0)]);
        let claim = start(&email, &CLAIM, T0 + Span::minutes(2)).unwrap();
        assert_eq!(claim.attempt, 2);
        assert_eq!(claim.message_id, "<1@example.com>");
    }

    #[test]
    fn a_retrying_email_is_not_claimed_before_its_retry_time() {
        let deferred = claimed_then(&[requested()], Delivery::Transient("451".into()), 8);
        let EmailEvent::Deferred(deferred_event) = &deferred else {
            panic!("expected a deferral, got {deferred:?}");
        };
        let email = fold(&[requested(), started(1, LATER), deferred.clone()]);
        let retry_at = deferred_event.retry_at;
        assert_eq!(start(&email, &CLAIM, retry_at - Span::seconds(1)), None);
        assert!(start(&email, &CLAIM, retry_at).is_some());
    }

    #[test]
    fn a_settled_email_is_never_claimed() {
        let cancelled = EmailEvent::Cancelled(EmailCancelled {
            email_id: Uuid::from_u128(1),
            requested_by: Uuid::from_u128(2),
            by: Uuid::from_u128(2),
            cancelled_at: T0,
        });
        let email = fold(&[requested(), cancelled]);
        assert_eq!(start(&email, &CLAIM, T0 + Span::days(1)), None);
    }

    #[test]
    fn an_accepted_message_is_sent_with_the_reply_and_message_id() {
        let event = claimed_then(&[requested()], Delivery::Accepted("250 ok".into()), 8);
        let EmailEvent::Sent(sent) = event else {
            panic!("expected sent, got {event:?}");
        };
        assert_eq!(sent.reply, "250 ok");
        assert_eq!(
            sent.message_id,
            format!("<{}@mail.example.com>", sent.email_id)
        );
    }

    #[test]
    fn a_permanent_refusal_fails_the_email_for_good() {
        let event = claimed_then(&[requested()], Delivery::Permanent("550 no".into()), 8);
        assert_eq!(event.status(), EmailStatus::Failed);
    }

    #[test]
    fn a_transient_failure_is_retried_after_the_policy_s_delay() {
        let event = claimed_then(&[requested()], Delivery::Transient("451".into()), 8);
        let EmailEvent::Deferred(deferred) = event else {
            panic!("expected a deferral, got {event:?}");
        };
        assert_eq!(deferred.retry_at, LATER + Span::seconds(10));
    }

    #[test]
    fn the_last_allowed_attempt_failing_for_now_kills_the_email() {
        let events = [requested(), started(1, T0), started(2, T0)];
        let event = claimed_then(&events, Delivery::Transient("451".into()), 3);
        assert_eq!(event.status(), EmailStatus::Dead);
    }
}
