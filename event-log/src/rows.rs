//! The row of an event as read from the log, and its conversion to [`RecordedEvent`].

use schemas::RecordedEvent;
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns every event read selects, in [`EventRow`] order.
pub(crate) const EVENT_COLUMNS: &str = "position, stream_id, stream_version, event_id, context, \
     event_type, schema_version, occurred_at, correlation_id, actor, data";

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    position: i64,
    stream_id: String,
    stream_version: i64,
    event_id: Uuid,
    context: String,
    event_type: String,
    schema_version: i32,
    occurred_at: OffsetDateTime,
    correlation_id: String,
    actor: Option<String>,
    data: serde_json::Value,
}

impl From<EventRow> for RecordedEvent {
    fn from(row: EventRow) -> Self {
        Self {
            event_id: row.event_id,
            stream_id: row.stream_id,
            stream_version: row.stream_version,
            position: row.position,
            context: row.context,
            event_type: row.event_type,
            schema_version: row.schema_version,
            occurred_at: row.occurred_at,
            correlation_id: row.correlation_id,
            actor: row.actor,
            data: row.data.into(),
        }
    }
}
