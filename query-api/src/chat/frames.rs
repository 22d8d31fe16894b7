//! Server-Sent Events frames, rendered once and shared by every stream that carries them.
//!
//! Frames that a reconnecting client must not miss (messages, membership changes) carry
//! the global position of their event as their `id`; a client resumes by sending the last
//! id it saw as `Last-Event-ID`. Frames that are state, not history (presence, reset),
//! carry no id, so they never move a client's resume point.

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A message as streams and history pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct MessageView {
    pub room_id: i64,
    /// The message's sequence in its room.
    pub seq: i64,
    pub message_id: Uuid,
    pub sender_id: Uuid,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: OffsetDateTime,
    /// The global position of the message: its event id on the streams.
    pub position: i64,
}

/// Tells the client how long to wait before reconnecting.
pub fn preamble(retry_ms: u64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

/// A comment line: keeps proxies from closing an idle stream.
pub fn heartbeat() -> Bytes {
    Bytes::from_static(b": heartbeat\n\n")
}

pub fn message(view: &MessageView) -> Bytes {
    frame(Some(view.position), "message", &view)
}

/// An event of the log that a client must see once: its position is its id.
pub fn logged(position: i64, kind: &str, data: &impl Serialize) -> Bytes {
    frame(Some(position), kind, data)
}

/// A state change with no place in the log (presence, the end of a stream).
pub fn state(kind: &str, data: &impl Serialize) -> Bytes {
    frame(None, kind, data)
}

/// The last frame of a stream whose access token has expired: the client reconnects
/// with a fresh token and its `Last-Event-ID`.
pub fn expired() -> Bytes {
    state(
        "expired",
        &json!({ "reason": "the access token has expired: reconnect with a fresh one" }),
    )
}

/// The client's `Last-Event-ID` cannot be resumed from: it gets the current position and
/// should reload what it shows; live frames follow.
pub fn reset(reason: &str, position: i64) -> Bytes {
    frame(
        Some(position),
        "reset",
        &json!({ "reason": reason, "position": position }),
    )
}

fn frame(id: Option<i64>, kind: &str, data: &impl Serialize) -> Bytes {
    let data = serde_json::to_string(data).expect("frames serialize");
    let mut text = String::with_capacity(data.len() + 40);
    if let Some(id) = id {
        text.push_str("id: ");
        text.push_str(&id.to_string());
        text.push('\n');
    }
    text.push_str("event: ");
    text.push_str(kind);
    text.push_str("\ndata: ");
    // JSON escapes every line break, so the data is one line.
    text.push_str(&data);
    text.push_str("\n\n");
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_id_event_and_one_data_line() {
        let frame = logged(7, "message", &json!({ "text": "two\nlines" }));
        assert_eq!(
            frame,
            "id: 7\nevent: message\ndata: {\"text\":\"two\\nlines\"}\n\n"
        );
        assert!(!state("presence", &json!({})).starts_with(b"id:"));
    }
}
