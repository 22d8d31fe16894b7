//! The state a command is decided on: an aggregate folded from its own stream.

use event_store::EventStore;
use schemas::DomainEvent;
use service_kit::ApiError;

/// An aggregate whose state is folded from its stream's events.
pub trait Aggregate: Sized {
    type Event: DomainEvent;

    /// The state after one more event, which is at `version` in the stream.
    fn evolve(state: Option<Self>, event: &Self::Event, version: i64) -> Option<Self>;
}

/// Folds `events`, the first of them at `first_version`, into `state`.
pub fn fold<A: Aggregate>(state: Option<A>, events: &[A::Event], first_version: i64) -> Option<A> {
    events
        .iter()
        .zip(first_version..)
        .fold(state, |state, (event, version)| {
            A::evolve(state, event, version)
        })
}

/// An aggregate's state from its stream, up to `max_version` when given.
pub async fn load<A: Aggregate>(
    store: &EventStore,
    stream_id: &str,
    max_version: Option<i64>,
) -> Result<Option<A>, ApiError> {
    let events = load_events::<A::Event>(store, stream_id, max_version).await?;
    Ok(events.iter().fold(None, |state, (event, version)| {
        A::evolve(state, event, *version)
    }))
}

/// A stream's events decoded, each with its version, up to `max_version` when given.
pub async fn load_events<E: DomainEvent>(
    store: &EventStore,
    stream_id: &str,
    max_version: Option<i64>,
) -> Result<Vec<(E, i64)>, ApiError> {
    let recorded = store
        .log()
        .read_stream(stream_id, max_version)
        .await
        .map_err(ApiError::failure)?;
    recorded
        .iter()
        .map(|event| {
            E::decode(&event.event_type, event.schema_version, &event.data)
                .map(|decoded| (decoded, event.stream_version))
                .map_err(ApiError::failure)
        })
        .collect()
}
