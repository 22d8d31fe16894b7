//! Answering a retry as the first request was answered.
//!
//! A client may send a command again under the same idempotency key (after a timeout, a
//! dropped connection). The store keeps where each key's append landed, and a retry is
//! answered from there, never appended twice.

use axum::response::Response;
use event_store::{AppendError, Appended, EventStore};
use http_kit::ApiError;

use super::{
    aggregate::{Aggregate, load},
    context::CommandContext,
    response::append_error,
};

/// The answer the first request with this context's idempotency key got, rendered by
/// `respond` from the state its append left; None when the key is new.
pub async fn replay<A: Aggregate>(
    store: &EventStore,
    context: &CommandContext,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Option<Response>, ApiError> {
    let Some((stream_id, appended)) = earlier_outcome(store, context).await? else {
        return Ok(None);
    };
    let state = load::<A>(store, &stream_id, Some(appended.last_version)).await?;
    Ok(Some(respond(state, &appended)))
}

/// The answer to a request whose key an earlier, concurrent request committed first.
pub async fn replayed<A: Aggregate>(
    store: &EventStore,
    context: &CommandContext,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Response, ApiError> {
    replay(store, context, respond)
        .await?
        .ok_or_else(|| ApiError::internal("idempotency key vanished"))
}

/// Where the first request with this context's idempotency key landed (its stream and
/// append), if one was seen; the same key with a different request is refused.
pub async fn earlier_outcome(
    store: &EventStore,
    context: &CommandContext,
) -> Result<Option<(String, Appended)>, ApiError> {
    let Some(idempotency) = &context.idempotency else {
        return Ok(None);
    };
    let outcome = store
        .idempotent_outcome(&idempotency.key)
        .await
        .map_err(ApiError::internal)?;
    let Some((fingerprint, stream_id, appended)) = outcome else {
        return Ok(None);
    };
    if fingerprint != idempotency.fingerprint {
        return Err(append_error(AppendError::IdempotencyKeyReused));
    }
    Ok(Some((stream_id, appended)))
}
