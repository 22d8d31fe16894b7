//! The email aggregate as commands meet it. The job's state and rules live in `email_job`,
//! because the worker decides its attempts by the same ones; this file fits them to the
//! command plumbing (the [`Aggregate`] trait, one `decide` for the operations). Pure: no
//! I/O here.

use email_job::{Email, EmailError, Operator, operations};
use schemas::email::{EmailEvent, EmailRequested};
use time::OffsetDateTime;
use uuid::Uuid;

use super::input::EmailFields;
pub use crate::command::Actor;
use crate::command::Aggregate;

impl Aggregate for Email {
    type Event = EmailEvent;

    fn evolve(state: Option<Self>, event: &EmailEvent, version: i64) -> Option<Self> {
        email_job::evolve(state, event, version)
    }
}

/// The request as recorded, which is what the answer to `POST /emails` shows: the first
/// time, and on a replay, which folds the stream up to the request's own event.
impl Aggregate for EmailRequested {
    type Event = EmailEvent;

    fn evolve(state: Option<Self>, event: &EmailEvent, _version: i64) -> Option<Self> {
        match (state, event) {
            (None, EmailEvent::Requested(requested)) => Some(requested.clone()),
            (state, _) => state,
        }
    }
}

/// What a user or an admin does to an email that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOperation {
    /// The sender (or an admin) withdraws a queued or retrying email.
    Cancel,
    /// An admin puts a failed or dead email back in the queue.
    Retry,
}

impl EmailOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Retry => "retry",
        }
    }
}

/// A new email, queued for a worker: the request's one event. Always allowed; how often a
/// user may ask is the rate limit's to say.
pub fn request(email_id: Uuid, by: Uuid, fields: EmailFields, at: OffsetDateTime) -> EmailEvent {
    EmailEvent::Requested(EmailRequested {
        email_id,
        requested_by: by,
        to: fields.to,
        subject: fields.subject,
        text: fields.text,
        html: fields.html,
        source_event_id: None,
        requested_at: at,
    })
}

/// The events an operation on `email` produces, or why it is refused. Someone else's
/// email is refused as [`EmailError::NotFound`], as one that does not exist is: nobody
/// learns of another's mail.
pub fn decide(
    email: &Email,
    operation: EmailOperation,
    by: Actor,
    at: OffsetDateTime,
) -> Result<Vec<EmailEvent>, EmailError> {
    let by = Operator {
        user_id: by.user_id,
        admin: by.admin,
    };
    let event = match operation {
        EmailOperation::Cancel => EmailEvent::Cancelled(operations::cancel(email, by, at)?),
        EmailOperation::Retry => EmailEvent::Retried(operations::retry(email, by, at)?),
    };
    Ok(vec![event])
}

#[cfg(test)]
mod tests {
    use schemas::email::{EmailAttemptStarted, EmailFailed, EmailStatus};
    use time::macros::datetime;

    use super::*;
    use crate::command::fold;

    const T0: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);
    const EMAIL: Uuid = Uuid::from_u128(1);
    const SENDER: Actor = Actor {
        user_id: Uuid::from_u128(2),
        admin: false,
    };
    const STRANGER: Actor = Actor {
        user_id: Uuid::from_u128(3),
        admin: false,
    };
    const ADMIN: Actor = Actor {
        user_id: Uuid::from_u128(9),
        admin: true,
    };

    fn requested() -> EmailEvent {
        let fields = EmailFields {
            to: vec!["ada@example.com".into()],
            subject: "Hello".into(),
            text: "Hi.".into(),
            html: None,
        };
        request(EMAIL, SENDER.user_id, fields, T0)
    }

    fn failed() -> Vec<EmailEvent> {
        vec![
            requested(),
            EmailEvent::AttemptStarted(EmailAttemptStarted {
                email_id: EMAIL,
                requested_by: SENDER.user_id,
                attempt: 1,
                message_id: "<1@example.com>".into(),
                worker: "w".into(),
                started_at: T0,
                lease_until: T0,
            }),
            EmailEvent::Failed(EmailFailed {
                email_id: EMAIL,
                requested_by: SENDER.user_id,
                attempt: 1,
                reply: "550 no such user".into(),
                failed_at: T0,
            }),
        ]
    }

    fn given(events: &[EmailEvent]) -> Email {
        fold::<Email>(None, events, 1).expect("an email")
    }

    #[test]
    fn a_requested_email_is_queued_for_its_sender_at_version_one() {
        let email = given(&[requested()]);
        assert_eq!(email.status, EmailStatus::Queued);
        assert_eq!(email.requested_by, SENDER.user_id);
        assert_eq!(email.version, 1);
    }

    #[test]
    fn the_sender_cancels_a_queued_email_and_it_ends_cancelled() {
        let email = given(&[requested()]);
        let events = decide(&email, EmailOperation::Cancel, SENDER, T0).unwrap();
        let after = fold(Some(email), &events, 2).unwrap();
        assert_eq!(after.status, EmailStatus::Cancelled);
        assert_eq!(after.version, 2);
    }

    #[test]
    fn a_stranger_learns_nothing_of_someone_else_s_email() {
        for (events, operation) in [
            (vec![requested()], EmailOperation::Cancel),
            (failed(), EmailOperation::Retry),
        ] {
            assert_eq!(
                decide(&given(&events), operation, STRANGER, T0),
                Err(EmailError::NotFound)
            );
        }
    }

    #[test]
    fn an_admin_puts_a_failed_email_back_in_the_queue_and_its_sender_may_not() {
        let email = given(&failed());
        assert_eq!(
            decide(&email, EmailOperation::Retry, SENDER, T0),
            Err(EmailError::NotAdmin)
        );
        let events = decide(&email, EmailOperation::Retry, ADMIN, T0).unwrap();
        assert_eq!(
            fold(Some(email), &events, 4).unwrap().status,
            EmailStatus::Queued
        );
    }

    #[test]
    fn the_answer_to_a_request_is_the_request_whatever_followed() {
        let recorded = fold::<EmailRequested>(None, &failed(), 1).unwrap();
        let EmailEvent::Requested(request) = requested() else {
            unreachable!("a request is an EmailRequested");
        };
        assert_eq!(recorded, request);
    }
}
