//! What an append asks for and what it produced.

use schemas::{EventMetadata, NewEvent};

/// The version a command expects its stream to be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version.
    Exact(i64),
    /// No check: append after whatever is there.
    Any,
}

impl ExpectedVersion {
    /// Whether a stream currently at `current` (0 = absent) satisfies the expectation.
    pub fn admits(self, current: i64) -> bool {
        match self {
            Self::NoStream => current == 0,
            Self::Exact(version) => current == version,
            Self::Any => true,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(version) => write!(f, "{version}"),
            Self::Any => f.write_str("any"),
        }
    }
}

/// A client-supplied idempotency key and a fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

/// Events to append to one stream, atomically.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream_id: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub metadata: EventMetadata,
    pub idempotency: Option<Idempotency>,
    /// When set, the stream is new and its number comes from a database sequence, drawn
    /// when the append commits: numbers follow commit order, and a request answered from
    /// its idempotency key draws none. `stream_id` is then set from the number.
    pub numbered: Option<Numbered>,
}

impl AppendRequest {
    /// Appends `events` to `stream_id`.
    pub fn new(
        stream_id: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        metadata: EventMetadata,
    ) -> Self {
        Self {
            stream_id: stream_id.into(),
            expected,
            events,
            metadata,
            idempotency: None,
            numbered: None,
        }
    }

    /// Expects `stream_id` at `expected` and writes nothing to it: appended together with
    /// other requests ([`crate::EventStore::append_all`]), it refuses the whole append when
    /// the stream has moved, checked under the same lock as every version. For a command
    /// decided on a stream it does not write to (a message sent by a member of a room).
    pub fn condition(
        stream_id: impl Into<String>,
        expected: ExpectedVersion,
        metadata: EventMetadata,
    ) -> Self {
        Self::new(stream_id, expected, Vec::new(), metadata)
    }

    /// Whether this request only checks its stream's version (see [`Self::condition`]).
    pub fn is_condition(&self) -> bool {
        self.events.is_empty()
    }

    /// Starts a new stream named `<stream_prefix><number>`, the number drawn from a
    /// sequence as the append commits and written into the `field` of each event's payload
    /// (whatever the events carry there is replaced).
    pub fn numbered(numbered: Numbered, events: Vec<NewEvent>, metadata: EventMetadata) -> Self {
        Self {
            stream_id: String::new(),
            expected: ExpectedVersion::NoStream,
            events,
            metadata,
            idempotency: None,
            numbered: Some(numbered),
        }
    }

    pub fn with_idempotency(mut self, idempotency: Option<Idempotency>) -> Self {
        self.idempotency = idempotency;
        self
    }
}

/// A new stream numbered from a database sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbered {
    /// The sequence to draw from.
    pub sequence: &'static str,
    /// The stream id is this prefix followed by the number.
    pub stream_prefix: &'static str,
    /// The payload field of every event that receives the number.
    pub field: &'static str,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub first_version: i64,
    /// The stream's version after the append.
    pub last_version: i64,
    pub first_position: i64,
    /// The global position a reader must reach to see the whole append.
    pub last_position: i64,
    /// True when an earlier request with the same idempotency key produced this.
    pub replayed: bool,
    /// The number drawn for a numbered stream.
    pub number: Option<i64>,
}
