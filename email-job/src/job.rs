//! An email as its own stream describes it.

use schemas::email::{EmailEvent, EmailStatus};
use time::OffsetDateTime;
use uuid::Uuid;

/// An email job: what to send, where it is in its life, and when it next wants a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub id: Uuid,
    pub requested_by: Uuid,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub status: EmailStatus,
    /// Attempts started over the email's whole life.
    pub attempts: i32,
    /// Attempts started before the last operator retry: the allowance counts from here.
    pub attempts_before_retry: i32,
    /// Fixed by the first attempt; every later attempt carries the same.
    pub message_id: Option<String>,
    /// When a worker should next look at it: queued, since it was queued; retrying, at
    /// the retry time; sending, when the attempt's lease runs out. None once settled.
    pub due_at: Option<OffsetDateTime>,
    pub version: i64,
}

impl Email {
    /// Attempts made since the email was requested or last retried by an operator.
    pub fn attempts_in_round(&self) -> i32 {
        self.attempts - self.attempts_before_retry
    }
}

/// The state after one more event, which is at `version` in the stream.
pub fn evolve(state: Option<Email>, event: &EmailEvent, version: i64) -> Option<Email> {
    let mut email = match (state, event) {
        (None, EmailEvent::Requested(e)) => Email {
            id: e.email_id,
            requested_by: e.requested_by,
            to: e.to.clone(),
            subject: e.subject.clone(),
            text: e.text.clone(),
            html: e.html.clone(),
            status: EmailStatus::Queued,
            attempts: 0,
            attempts_before_retry: 0,
            message_id: None,
            due_at: Some(e.requested_at),
            version,
        },
        // Only a request starts a stream; anything else before one is ignored.
        (None, _) => return None,
        (Some(email), EmailEvent::Requested(_)) => email,
        (Some(mut email), event) => {
            match event {
                EmailEvent::Requested(_) => {}
                EmailEvent::AttemptStarted(e) => {
                    email.attempts = e.attempt;
                    email.message_id.get_or_insert_with(|| e.message_id.clone());
                    email.due_at = Some(e.lease_until);
                }
                EmailEvent::Deferred(e) => email.due_at = Some(e.retry_at),
                EmailEvent::Retried(e) => {
                    email.attempts_before_retry = email.attempts;
                    email.due_at = Some(e.retried_at);
                }
                EmailEvent::Sent(_)
                | EmailEvent::Failed(_)
                | EmailEvent::Dead(_)
                | EmailEvent::Cancelled(_) => email.due_at = None,
            }
            email
        }
    };
    email.status = event.status();
    email.version = version;
    Some(email)
}

#[cfg(test)]
pub(crate) mod tests {
    use schemas::email::{EmailAttemptStarted, EmailDeferred, EmailRequested, EmailRetried};
    use time::{Duration, macros::datetime};

    use super::*;

    pub(crate) const T0: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);

    pub(crate) fn requested() -> EmailEvent {
        EmailEvent::Requested(EmailRequested {
            email_id: Uuid::from_u128(1),
            requested_by: Uuid::from_u128(2),
            to: vec!["ada@example.com".into()],
            subject: "Hello".into(),
            text: "Hi.".into(),
            html: None,
            source_event_id: None,
            requested_at: T0,
        })
    }

    pub(crate) fn started(attempt: i32, at: OffsetDateTime) -> EmailEvent {
        EmailEvent::AttemptStarted(EmailAttemptStarted {
            email_id: Uuid::from_u128(1),
            requested_by: Uuid::from_u128(2),
            attempt,
            message_id: format!("<{attempt}@example.com>"),
            worker: "w".into(),
            started_at: at,
            lease_until: at + Duration::minutes(1),
        })
    }

    pub(crate) fn fold(events: &[EmailEvent]) -> Email {
        events
            .iter()
            .zip(1..)
            .fold(None, |state, (event, version)| {
                evolve(state, event, version)
            })
            .expect("a requested email")
    }

    #[test]
    fn a_requested_email_is_queued_and_due_at_once() {
        let email = fold(&[requested()]);
        assert_eq!(email.status, EmailStatus::Queued);
        assert_eq!(email.due_at, Some(T0));
        assert_eq!((email.attempts, email.version), (0, 1));
    }

    #[test]
    fn the_first_attempt_fixes_the_message_id_for_every_later_one() {
        let email = fold(&[requested(), started(1, T0), started(2, T0)]);
        assert_eq!(email.message_id.as_deref(), Some("<1@example.com>"));
        assert_eq!(email.attempts, 2);
    }

    #[test]
    fn a_deferred_attempt_makes_the_email_due_at_its_retry_time() {
        let retry_at = T0 + Duration::seconds(30);
        let email = fold(&[
            requested(),
            started(1, T0),
            EmailEvent::Deferred(EmailDeferred {
                email_id: Uuid::from_u128(1),
                requested_by: Uuid::from_u128(2),
                attempt: 1,
                reply: "451 try again".into(),
                failed_at: T0,
                retry_at,
            }),
        ]);
        assert_eq!(email.status, EmailStatus::Retrying);
        assert_eq!(email.due_at, Some(retry_at));
    }

    #[test]
    fn an_operator_retry_starts_a_new_allowance_of_attempts() {
        let email = fold(&[
            requested(),
            started(1, T0),
            started(2, T0),
            EmailEvent::Retried(EmailRetried {
                email_id: Uuid::from_u128(1),
                requested_by: Uuid::from_u128(2),
                by: Uuid::from_u128(3),
                retried_at: T0,
            }),
            started(3, T0),
        ]);
        assert_eq!(email.attempts, 3);
        assert_eq!(email.attempts_in_round(), 1);
    }
}
