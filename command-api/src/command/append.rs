//! Appending a command's events, and answering a retry as the first request was answered.
//!
//! A client may send a command again under the same idempotency key (after a timeout, a
//! dropped connection). The store keeps where each key's append landed, and a retry is
//! answered from there, never appended twice: before anything is decided when the key is
//! known already ([`replay`]), or after the append when an earlier request with the key
//! committed first ([`Outcome::Replayed`]).

use axum::response::Response;
use event_log::StoreError;
use event_store::{AppendError, AppendRequest, Appended, EventStore, ExpectedVersion, Numbered};
use schemas::{DomainEvent, EventMetadata, NewEvent};
use service_kit::ApiError;

use super::{
    aggregate::{Aggregate, fold, load},
    context::CommandContext,
    response::append_error,
};

/// Where a command appends its events.
pub enum Target {
    /// This stream, which must be at the expected version: the one the command was
    /// decided on.
    Stream(String, ExpectedVersion),
    /// A new stream whose number the store draws as the append commits (see
    /// [`super::numbered`]).
    Numbered(Numbered),
}

/// What appending a command's events did.
#[must_use]
pub enum Outcome {
    /// This request's events were appended, here.
    Appended(Appended),
    /// An earlier request with the same idempotency key committed first: nothing was
    /// appended, and this request is to be answered as that one was.
    Replayed(Earlier),
}

/// Where the first request with an idempotency key appended.
pub struct Earlier {
    pub stream_id: String,
    pub appended: Appended,
}

/// Appends a command's `events` under its context's metadata and idempotency key. A
/// refused append is an error; callers map it with [`append_error`], or look at a
/// conflict first.
pub async fn append<E: DomainEvent>(
    store: &EventStore,
    context: &CommandContext,
    target: Target,
    events: &[E],
) -> Result<Outcome, AppendError> {
    append_together(store, context, target, events, Vec::new()).await
}

/// Appends a command's `events` to `target` and, all or nothing with them, `also`'s (each
/// stream with the version it must be at and its events): a stream the command counts on
/// besides its own, such as a quota. The idempotency key covers the whole append; the
/// outcome is the target's.
pub async fn append_together<E: DomainEvent>(
    store: &EventStore,
    context: &CommandContext,
    target: Target,
    events: &[E],
    also: Vec<(String, ExpectedVersion, Vec<E>)>,
) -> Result<Outcome, AppendError> {
    let new_events = |events: &[E]| events.iter().map(NewEvent::from_domain).collect();
    let metadata = context.metadata.clone();
    let request = match target {
        Target::Stream(stream_id, expected) => {
            AppendRequest::new(stream_id, expected, new_events(events), metadata)
        }
        Target::Numbered(numbered) => {
            AppendRequest::numbered(numbered, new_events(events), metadata)
        }
    };
    let mut requests = vec![request.with_idempotency(context.idempotency.clone())];
    for (stream_id, expected, events) in also {
        let metadata = context.metadata.clone();
        requests.push(AppendRequest::new(
            stream_id,
            expected,
            new_events(&events),
            metadata,
        ));
    }
    let appended = store.append_all(requests).await?.remove(0);
    if !appended.replayed {
        return Ok(Outcome::Appended(appended));
    }
    let earlier = earlier_outcome(store, context)
        .await?
        .ok_or_else(|| StoreError::Malformed("a replayed append has no idempotency key".into()))?;
    Ok(Outcome::Replayed(earlier))
}

/// Appends to each of `streams` (its id, the version it must be at, its events), all or
/// nothing, under `metadata` and no idempotency key. Used for a stream together with a
/// claim (an account and its address), and for the single appends of commands that take
/// no key (sessions, read marks).
pub async fn append_all<E: DomainEvent>(
    store: &EventStore,
    metadata: &EventMetadata,
    streams: Vec<(String, ExpectedVersion, &[E])>,
) -> Result<Vec<Appended>, AppendError> {
    let requests = streams
        .into_iter()
        .map(|(stream_id, expected, events)| {
            let events = events.iter().map(NewEvent::from_domain).collect();
            AppendRequest::new(stream_id, expected, events, metadata.clone())
        })
        .collect();
    store.append_all(requests).await
}

impl Outcome {
    /// The answer to the command: `respond` renders the state `events` left after `state`
    /// or, for a replay, the state the earlier request's append left.
    pub async fn answer<A: Aggregate>(
        self,
        store: &EventStore,
        state: Option<A>,
        events: &[A::Event],
        respond: impl FnOnce(Option<A>, &Appended) -> Response,
    ) -> Result<Response, ApiError> {
        match self {
            Self::Appended(appended) => {
                let state = fold(state, events, appended.first_version);
                Ok(respond(state, &appended))
            }
            Self::Replayed(earlier) => earlier.answer(store, respond).await,
        }
    }
}

impl Earlier {
    /// The answer the earlier request got: `respond` renders the state its append left.
    pub async fn answer<A: Aggregate>(
        self,
        store: &EventStore,
        respond: impl FnOnce(Option<A>, &Appended) -> Response,
    ) -> Result<Response, ApiError> {
        let state = load::<A>(store, &self.stream_id, Some(self.appended.last_version)).await?;
        Ok(respond(state, &self.appended))
    }
}

/// The answer the first request with this context's idempotency key got, rendered by
/// `respond` from the state its append left; None when the key is new.
pub async fn replay<A: Aggregate>(
    store: &EventStore,
    context: &CommandContext,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Option<Response>, ApiError> {
    match earlier_outcome(store, context)
        .await
        .map_err(append_error)?
    {
        Some(earlier) => earlier.answer(store, respond).await.map(Some),
        None => Ok(None),
    }
}

/// Where the first request with this context's idempotency key appended, if one did; the
/// same key with a different request is refused.
pub async fn earlier_outcome(
    store: &EventStore,
    context: &CommandContext,
) -> Result<Option<Earlier>, AppendError> {
    let Some(idempotency) = &context.idempotency else {
        return Ok(None);
    };
    let Some((fingerprint, stream_id, appended)) =
        store.idempotent_outcome(&idempotency.key).await?
    else {
        return Ok(None);
    };
    if fingerprint != idempotency.fingerprint {
        return Err(AppendError::IdempotencyKeyReused);
    }
    Ok(Some(Earlier {
        stream_id,
        appended,
    }))
}
