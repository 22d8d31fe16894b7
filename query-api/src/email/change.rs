//! An email's status change as a user's live stream carries it (`event: email`).
//!
//! Live, each email event becomes one change. A resuming stream gets instead, for each
//! email that changed after its `Last-Event-ID`, one change built from the read model's
//! row: the email's status now. Both are built by the same rules, so a change means the
//! same whichever way it came: `attempt` names the attempt the status is about (none while
//! queued or once cancelled), `reply` that attempt's reply once it ended, and
//! `next_attempt_at` when a worker next looks at the email (none once it is settled).

use bytes::Bytes;
use schemas::email::{EmailEvent, EmailStatus};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries::EmailStatusSchema;
use crate::chat::frames;

/// The SSE event name of an email change.
pub const EVENT: &str = "email";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmailChange {
    /// The email's id.
    pub id: Uuid,
    #[schema(value_type = EmailStatusSchema)]
    pub status: EmailStatus,
    /// The attempt the status is about: the one under way (`sending`) or the last one
    /// (`sent`, `retrying`, `failed`, `dead`); null while `queued` and once `cancelled`.
    pub attempt: Option<i32>,
    /// The server's reply to that attempt, or what went wrong before one came; null until
    /// the attempt ended.
    pub reply: Option<String>,
    /// When a worker next looks at the email; null once it is settled.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The global position of the change: the frame's id.
    pub position: i64,
}

/// What the emails read model holds of an email, enough to say its last change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub email_id: Uuid,
    #[sqlx(try_from = "String")]
    pub status: EmailStatus,
    pub attempts: i32,
    pub last_reply: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub position: i64,
}

impl EmailChange {
    /// The change one event makes.
    pub fn of_event(event: &EmailEvent, position: i64) -> Self {
        let (attempt, reply, next_attempt_at) = match event {
            EmailEvent::Requested(e) => (None, None, Some(e.requested_at)),
            EmailEvent::AttemptStarted(e) => (Some(e.attempt), None, Some(e.lease_until)),
            EmailEvent::Sent(e) => (Some(e.attempt), Some(e.reply.clone()), None),
            EmailEvent::Deferred(e) => (Some(e.attempt), Some(e.reply.clone()), Some(e.retry_at)),
            EmailEvent::Failed(e) => (Some(e.attempt), Some(e.reply.clone()), None),
            EmailEvent::Dead(e) => (Some(e.attempt), Some(e.reply.clone()), None),
            EmailEvent::Retried(e) => (None, None, Some(e.retried_at)),
            EmailEvent::Cancelled(_) => (None, None, None),
        };
        Self {
            id: event.email_id(),
            status: event.status(),
            attempt,
            reply,
            next_attempt_at: next_attempt_at.map(to_micros),
            position,
        }
    }

    /// The email's last change, from its row. The row keeps the last reply and the count
    /// of attempts through later events; the status says whether they belong to it.
    pub fn of_row(row: ChangeRow) -> Self {
        use EmailStatus::*;
        let attempt =
            matches!(row.status, Sending | Sent | Retrying | Failed | Dead).then_some(row.attempts);
        let reply = matches!(row.status, Sent | Retrying | Failed | Dead)
            .then_some(row.last_reply)
            .flatten();
        Self {
            id: row.email_id,
            status: row.status,
            attempt,
            reply,
            next_attempt_at: row.next_attempt_at,
            position: row.position,
        }
    }

    /// The SSE frame, with the change's position as its id.
    pub fn frame(&self) -> Bytes {
        frames::logged(self.position, EVENT, self)
    }
}

/// A time as the read model keeps it (PostgreSQL: microseconds), so a live change and
/// the same change read back spell it alike.
fn to_micros(time: OffsetDateTime) -> OffsetDateTime {
    time.replace_nanosecond(time.nanosecond() / 1000 * 1000)
        .expect("fewer nanoseconds are still a valid time")
}

#[cfg(test)]
mod tests {
    use schemas::email::EmailDeferred;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_change_is_an_email_frame_with_its_position_as_id() {
        let email = Uuid::from_u128(5);
        let deferred = EmailEvent::Deferred(EmailDeferred {
            email_id: email,
            requested_by: Uuid::from_u128(1),
            attempt: 1,
            reply: "451 try later".into(),
            failed_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            retry_at: OffsetDateTime::from_unix_timestamp_nanos(1_800_000_017_123_456_789).unwrap(),
        });
        let frame = EmailChange::of_event(&deferred, 42).frame();
        let frame = String::from_utf8(frame.to_vec()).unwrap();
        let (head, data) = frame.split_once("data: ").unwrap();
        assert_eq!(head, "id: 42\nevent: email\n");
        let data: serde_json::Value = serde_json::from_str(data.trim_end()).unwrap();
        assert_eq!(
            data,
            json!({
                "id": email,
                "status": "retrying",
                "attempt": 1,
                "reply": "451 try later",
                "next_attempt_at": "2027-01-15T08:00:17.123456Z",
                "position": 42,
            })
        );
    }
}
