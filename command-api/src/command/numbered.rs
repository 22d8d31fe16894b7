//! Creating a stream numbered from a database sequence: items, orders, posts, comments
//! and rooms.

use axum::response::Response;
use event_store::{Appended, EventStore, Numbered};
use http_kit::ApiError;

use super::{
    aggregate::{Aggregate, fold},
    append::{Outcome, Target, append, replay},
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
    let outcome = append(store, context, Target::Numbered(numbered), &decide(0))
        .await
        .map_err(append_error)?;
    match outcome {
        Outcome::Appended(appended) => {
            let number = appended
                .number
                .ok_or_else(|| ApiError::internal("a numbered append drew no number"))?;
            let state = fold(None, &decide(number), appended.first_version);
            Ok(respond(state, &appended))
        }
        Outcome::Replayed(earlier) => earlier.answer(store, &respond).await,
    }
}
