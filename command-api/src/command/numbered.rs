//! Creating a stream numbered from a database sequence: items, orders, posts, comments
//! and rooms.

use axum::response::Response;
use event_store::{AppendRequest, Appended, EventStore, Numbered};
use http_kit::ApiError;
use schemas::NewEvent;

use super::{
    aggregate::{Aggregate, fold},
    append::{replay, replayed},
    context::CommandContext,
    response::append_error,
};

/// Starts a numbered stream. The store draws the number as the append commits and writes
/// it into the events, so numbers follow commit order and a retry answered from its
/// idempotency key uses none. `decide` gives the events for a number; `respond` renders the
/// state the append left (for a retry, the state the first request left).
pub async fn create_numbered<A: Aggregate>(
    store: &EventStore,
    numbered: Numbered,
    context: &CommandContext,
    decide: impl Fn(i64) -> Vec<A::Event>,
    respond: impl Fn(Option<A>, &Appended) -> Response,
) -> Result<Response, ApiError> {
    if let Some(response) = replay(store, context, &respond).await? {
        return Ok(response);
    }
    let events = decide(0).iter().map(NewEvent::from_domain).collect();
    let request = AppendRequest::numbered(numbered, events, context.metadata.clone())
        .with_idempotency(context.idempotency.clone());
    let appended = store.append(request).await.map_err(append_error)?;
    let Some(number) = appended.number.filter(|_| !appended.replayed) else {
        // A concurrent retry with the same key committed first: answer as it did.
        return replayed(store, context, &respond).await;
    };
    Ok(respond(
        fold(None, &decide(number), appended.first_version),
        &appended,
    ))
}
