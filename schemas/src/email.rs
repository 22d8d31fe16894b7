//! The email context: emails requested by users or by the platform, and every attempt a
//! worker makes to deliver them.
//!
//! An email is a job with a life of its own: requested, then one or more attempts, each
//! of which starts with [`EmailAttemptStarted`] (the worker's claim on it) and ends as
//! exactly one of [`EmailSent`], [`EmailDeferred`] (failed for now, retried),
//! [`EmailFailed`] (failed for good) or [`EmailDead`] (failed for now, with no attempt
//! left). Every event names the user the email belongs to, so a consumer can route it
//! (a user's live stream, a cache) without looking the email up.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Email streams are named `email-<id>`.
pub const STREAM_PREFIX: &str = "email-";

/// The stream that holds one email's events.
pub fn stream_id(id: Uuid) -> String {
    format!("{STREAM_PREFIX}{id}")
}

crate::named_enum! {
    /// Where an email is in its life.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
    pub enum EmailStatus {
        /// Waiting for its first attempt (or, after an operator's retry, its next one).
        Queued = "queued",
        /// A worker is delivering it.
        Sending = "sending",
        /// The last attempt failed for now; the next one is due at a set time.
        Retrying = "retrying",
        /// The SMTP server accepted it.
        Sent = "sent",
        /// The SMTP server refused it for good (a 5xx reply).
        Failed = "failed",
        /// Every attempt failed for now; no more are made unless an operator retries it.
        Dead = "dead",
        /// Its sender withdrew it before it was sent.
        Cancelled = "cancelled",
    }
}

impl EmailStatus {
    /// Whether a worker still has something to do with an email in this status.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::Retrying)
    }
}

/// Someone asked for an email to be sent. Nothing is sent yet: a worker picks it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequested {
    pub email_id: Uuid,
    /// The user the email belongs to: who asked for it, or, for mail the platform sends
    /// on its own, the user it is about (a new member, an order's member).
    pub requested_by: Uuid,
    /// 1 to 50 addresses, each an RFC 5322 address (`Name <a@b.example>` or `a@b.example`).
    pub to: Vec<String>,
    /// 1 to 200 characters, no line breaks.
    pub subject: String,
    /// The plain-text body, 1 to 100,000 characters.
    pub text: String,
    /// An HTML alternative to the text, when given.
    pub html: Option<String>,
    /// For mail the platform sends on its own: the id of the event it answers
    /// (`UserRegistered`, `OrderPlaced`, an order shipped); absent for mail users ask for.
    pub source_event_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub requested_at: OffsetDateTime,
}

/// A worker claimed the email and began an attempt to deliver it. It holds the claim
/// until `lease_until`; after that, if no outcome was recorded (the worker died), another
/// attempt may start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailAttemptStarted {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    /// 1 for the first attempt, counting every attempt of the email's life.
    pub attempt: i32,
    /// The Message-ID header every attempt of this email carries, with its angle brackets.
    pub message_id: String,
    /// The worker instance making the attempt.
    pub worker: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub lease_until: OffsetDateTime,
}

/// The SMTP server accepted the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSent {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    pub attempt: i32,
    pub message_id: String,
    /// The server's reply (e.g. `250 2.0.0 Ok: queued as 4F2A1`).
    pub reply: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub sent_at: OffsetDateTime,
}

/// An attempt failed for now (a 4xx reply, a timeout, a refused connection); the next
/// attempt is due at `retry_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailDeferred {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    pub attempt: i32,
    /// The server's reply, or what went wrong before one came.
    pub reply: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub failed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub retry_at: OffsetDateTime,
}

/// An attempt failed for good (a 5xx reply): no further attempt is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailFailed {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    pub attempt: i32,
    pub reply: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub failed_at: OffsetDateTime,
}

/// The last allowed attempt failed for now: the email is given up until an operator
/// retries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailDead {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    pub attempt: i32,
    pub reply: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub died_at: OffsetDateTime,
}

/// An admin put a failed or dead email back in the queue, with a fresh allowance of
/// attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRetried {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    /// The admin who asked for the retry.
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub retried_at: OffsetDateTime,
}

/// The email was withdrawn before it was sent; its stream ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailCancelled {
    pub email_id: Uuid,
    pub requested_by: Uuid,
    /// The user who cancelled it (the sender, or an admin).
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub cancelled_at: OffsetDateTime,
}

/// Every event of the email context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailEvent {
    Requested(EmailRequested),
    AttemptStarted(EmailAttemptStarted),
    Sent(EmailSent),
    Deferred(EmailDeferred),
    Failed(EmailFailed),
    Dead(EmailDead),
    Retried(EmailRetried),
    Cancelled(EmailCancelled),
}

impl EmailEvent {
    /// The email the event is about.
    pub fn email_id(&self) -> Uuid {
        match self {
            Self::Requested(e) => e.email_id,
            Self::AttemptStarted(e) => e.email_id,
            Self::Sent(e) => e.email_id,
            Self::Deferred(e) => e.email_id,
            Self::Failed(e) => e.email_id,
            Self::Dead(e) => e.email_id,
            Self::Retried(e) => e.email_id,
            Self::Cancelled(e) => e.email_id,
        }
    }

    /// The user the email belongs to.
    pub fn requested_by(&self) -> Uuid {
        match self {
            Self::Requested(e) => e.requested_by,
            Self::AttemptStarted(e) => e.requested_by,
            Self::Sent(e) => e.requested_by,
            Self::Deferred(e) => e.requested_by,
            Self::Failed(e) => e.requested_by,
            Self::Dead(e) => e.requested_by,
            Self::Retried(e) => e.requested_by,
            Self::Cancelled(e) => e.requested_by,
        }
    }

    /// The status the email is in once this event happened.
    pub fn status(&self) -> EmailStatus {
        match self {
            Self::Requested(_) | Self::Retried(_) => EmailStatus::Queued,
            Self::AttemptStarted(_) => EmailStatus::Sending,
            Self::Sent(_) => EmailStatus::Sent,
            Self::Deferred(_) => EmailStatus::Retrying,
            Self::Failed(_) => EmailStatus::Failed,
            Self::Dead(_) => EmailStatus::Dead,
            Self::Cancelled(_) => EmailStatus::Cancelled,
        }
    }
}

impl DomainEvent for EmailEvent {
    const CONTEXT: &'static str = "email";

    fn event_type(&self) -> &'static str {
        match self {
            Self::Requested(_) => "EmailRequested",
            Self::AttemptStarted(_) => "EmailAttemptStarted",
            Self::Sent(_) => "EmailSent",
            Self::Deferred(_) => "EmailDeferred",
            Self::Failed(_) => "EmailFailed",
            Self::Dead(_) => "EmailDead",
            Self::Retried(_) => "EmailRetried",
            Self::Cancelled(_) => "EmailCancelled",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::Requested(e) => serde_json::to_value(e),
            Self::AttemptStarted(e) => serde_json::to_value(e),
            Self::Sent(e) => serde_json::to_value(e),
            Self::Deferred(e) => serde_json::to_value(e),
            Self::Failed(e) => serde_json::to_value(e),
            Self::Dead(e) => serde_json::to_value(e),
            Self::Retried(e) => serde_json::to_value(e),
            Self::Cancelled(e) => serde_json::to_value(e),
        };
        value.expect("email events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "EmailRequested" => payload(event_type, data).map(Self::Requested),
            "EmailAttemptStarted" => payload(event_type, data).map(Self::AttemptStarted),
            "EmailSent" => payload(event_type, data).map(Self::Sent),
            "EmailDeferred" => payload(event_type, data).map(Self::Deferred),
            "EmailFailed" => payload(event_type, data).map(Self::Failed),
            "EmailDead" => payload(event_type, data).map(Self::Dead),
            "EmailRetried" => payload(event_type, data).map(Self::Retried),
            "EmailCancelled" => payload(event_type, data).map(Self::Cancelled),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_travel_in_lower_case() {
        for status in EmailStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(EmailStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(EmailStatus::parse("QUEUED"), None);
    }

    #[test]
    fn a_requested_email_round_trips_through_its_payload() {
        let event = EmailEvent::Requested(EmailRequested {
            email_id: Uuid::now_v7(),
            requested_by: Uuid::now_v7(),
            to: vec!["Ada <ada@example.com>".into()],
            subject: "Hello".into(),
            text: "Hi.".into(),
            html: None,
            source_event_id: None,
            requested_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        });
        let decoded = EmailEvent::decode("EmailRequested", 1, &event.payload()).unwrap();
        assert_eq!(decoded, event);
        assert_eq!(decoded.status(), EmailStatus::Queued);
    }
}
