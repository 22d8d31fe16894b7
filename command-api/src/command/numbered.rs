//! Creating a stream numbered from a database sequence: items, orders, posts, comments
//! and rooms.
//!
//! The store draws the number as the append commits, not the handler before it: numbers
//! then follow commit order, and a retry answered from its idempotency key uses none. So
//! a creation is decided once, before its number is known, with [`UNNUMBERED`] in its
//! place. The store writes the drawn number into the stored events; [`create_numbered`]
//! writes the same number into the decided events, which then equal the stored ones, and
//! folds them into the state the answer shows.

use axum::response::Response;
use event_store::{Appended, EventStore, Numbered};
use service_kit::ApiError;

use super::{
    aggregate::Aggregate,
    append::{Outcome, Target, append},
    context::CommandContext,
    response::append_error,
};

/// The number a creation is decided with before the store draws its own. It is never
/// stored: the store writes the drawn number over it.
pub const UNNUMBERED: i64 = 0;

/// An aggregate whose stream is numbered by the store as it is created.
pub trait NumberedAggregate: Aggregate {
    /// The sequence the number is drawn from, the prefix of the stream id it completes and
    /// the payload field of every event of the creation that receives it.
    const NUMBERS: Numbered;

    /// Writes `number` into an event of the creation, where the store writes it (the
    /// payload field [`Self::NUMBERS`] names).
    fn assign_number(event: &mut Self::Event, number: i64);
}

/// Appends `events`, a creation decided with [`UNNUMBERED`], as a new numbered stream;
/// `respond` renders the state they leave once numbered (for a request whose key an
/// earlier one committed first, the state that one left).
pub async fn create_numbered<A: NumberedAggregate>(
    store: &EventStore,
    context: &CommandContext,
    events: Vec<A::Event>,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Response, ApiError> {
    let outcome = append(store, context, Target::Numbered(A::NUMBERS), &events)
        .await
        .map_err(append_error)?;
    answer_numbered(store, outcome, events, respond).await
}

/// The answer to `events`, a creation decided with [`UNNUMBERED`] and appended as a new
/// numbered stream (with [`super::append_together`] when other streams went with it):
/// `respond` renders the state they leave once numbered, or the one an earlier request
/// with the same key left.
pub async fn answer_numbered<A: NumberedAggregate>(
    store: &EventStore,
    outcome: Outcome,
    mut events: Vec<A::Event>,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Response, ApiError> {
    if let Outcome::Appended(appended) = &outcome {
        let number = appended
            .number
            .ok_or_else(|| ApiError::internal("a numbered append drew no number"))?;
        for event in &mut events {
            A::assign_number(event, number);
        }
    }
    outcome.answer(store, None, &events, respond).await
}

/// Checks that `assign_number` writes the number where the store does: into the payload
/// field `NUMBERS.field` of each of `events`, a creation decided with [`UNNUMBERED`].
#[cfg(test)]
pub fn assert_numbered_as_stored<A: NumberedAggregate>(events: Vec<A::Event>) {
    use schemas::DomainEvent;

    const NUMBER: i64 = 42;
    for mut event in events {
        let mut stored = event.payload();
        stored[A::NUMBERS.field] = NUMBER.into();
        A::assign_number(&mut event, NUMBER);
        assert_eq!(event.payload(), stored);
    }
}
