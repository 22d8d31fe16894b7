//! What every context's event enum provides.

use serde_json::Value;

/// A context's events: their names, current schema versions and decoding.
pub trait DomainEvent: Sized {
    /// The bounded context; also the suffix of the Kafka topic.
    const CONTEXT: &'static str;

    /// The past-tense name of this event.
    fn event_type(&self) -> &'static str;

    /// The current schema version of the named event type.
    fn schema_version(event_type: &str) -> i32;

    /// The payload to store, as JSON.
    fn payload(&self) -> Value;

    /// Decodes a stored payload, upcasting it first when it has an older schema version.
    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError>;
}

/// Why a stored payload could not become a domain event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("{event_type} has no schema version {version}")]
    UnknownVersion { event_type: String, version: i32 },
    #[error("{event_type} payload does not match its schema: {source}")]
    Payload {
        event_type: String,
        source: serde_json::Error,
    },
}

/// Refuses a schema version other than 1, for contexts whose events have no upcaster yet.
pub fn first_version_only(event_type: &str, schema_version: i32) -> Result<(), DecodeError> {
    if schema_version == 1 {
        Ok(())
    } else {
        Err(DecodeError::UnknownVersion {
            event_type: event_type.to_owned(),
            version: schema_version,
        })
    }
}

/// Deserializes a payload whose version is current, naming the event in errors.
pub fn payload<T: serde::de::DeserializeOwned>(
    event_type: &str,
    data: &Value,
) -> Result<T, DecodeError> {
    // From the borrowed tree: no copy of it is made.
    T::deserialize(data).map_err(|source| DecodeError::Payload {
        event_type: event_type.to_owned(),
        source,
    })
}
