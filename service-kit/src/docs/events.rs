//! How a `text/event-stream` response is documented: by the schema of one event.

use utoipa::ToSchema;

/// One event of a stream (Server-Sent Events), as a client reads it. Before OpenAPI 3.2
/// the schema of a `text/event-stream` response describes each event; comments (the
/// heartbeats) are no events.
#[derive(ToSchema)]
pub struct ServerSentEvent {
    /// The event's name (`message` when absent).
    pub event: Option<String>,
    /// Its data: a JSON document.
    #[schema(content_media_type = "application/json")]
    pub data: Option<String>,
    /// Its id, to resume after with `Last-Event-ID`.
    pub id: Option<String>,
    /// Milliseconds a client waits before reconnecting.
    pub retry: Option<u64>,
}
