//! The envelope every stored event travels in.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// An event as the store recorded it: the form relayed to Kafka and read by projections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedEvent {
    /// Unique id of this event (UUIDv7, time ordered).
    pub event_id: Uuid,
    /// The aggregate stream, e.g. `item-42`.
    pub stream_id: String,
    /// 1-based version of the event within its stream.
    pub stream_version: i64,
    /// Gapless, 1-based position in the global log; commit order equals position order.
    pub position: i64,
    /// Bounded context the event belongs to; also names its Kafka topic.
    pub context: String,
    /// Event name in the past tense, e.g. `ItemCreated`.
    pub event_type: String,
    /// Version of the payload schema of `event_type`.
    pub schema_version: i32,
    /// When the command that produced it was accepted.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub occurred_at: OffsetDateTime,
    /// Request id of the command that produced it.
    pub correlation_id: String,
    /// The acting user, when the command was authenticated.
    pub actor: Option<String>,
    /// The payload, shaped by the schema of `event_type` at `schema_version`.
    // Shared: every follower of a process is handed the same payload, not a copy of it.
    pub data: Arc<Value>,
}

/// Who caused an append and in answer to which request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMetadata {
    pub correlation_id: String,
    pub actor: Option<String>,
}

impl EventMetadata {
    /// The same metadata, naming `actor` as the acting user.
    pub fn with_actor(&self, actor: impl ToString) -> Self {
        Self {
            correlation_id: self.correlation_id.clone(),
            actor: Some(actor.to_string()),
        }
    }
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub context: &'static str,
    pub event_type: &'static str,
    pub schema_version: i32,
    pub data: Value,
}

impl NewEvent {
    /// Wraps a domain event for appending.
    pub fn from_domain<E: crate::DomainEvent>(event: &E) -> Self {
        Self {
            context: E::CONTEXT,
            event_type: event.event_type(),
            schema_version: E::schema_version(event.event_type()),
            data: event.payload(),
        }
    }
}

impl RecordedEvent {
    /// Decodes the payload into the context's event type, upcasting old versions.
    pub fn decode<E: crate::DomainEvent>(&self) -> Result<E, crate::DecodeError> {
        E::decode(&self.event_type, self.schema_version, &self.data)
    }
}
