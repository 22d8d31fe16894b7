//! What the reference book and reference text endpoints share: changing one of the
//! caller's own, and the answer a command gets. Each kind says only its stream, its
//! path, its name in messages and how it is written back.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::Appended;
use schemas::prompts::PromptsEvent;
use serde::Serialize;
use service_kit::{ApiError, auth::Caller, ok};

use super::{aggregate::Owned, load_owned};
use crate::{
    AppState,
    command::{self, Aggregate, CommandContext, Target},
};

/// A kind of reference the caller owns alone.
pub trait Reference: Aggregate<Event = PromptsEvent> + Owned + Sized {
    /// What it is called in messages: "reference book".
    const NAME: &'static str;
    /// Where the collection lives: `/api/v1/ref-books`.
    const PATH: &'static str;
    /// The body a command answers with.
    type Written: Serialize;

    fn stream_id(id: i64) -> String;
    fn id(&self) -> i64;
    fn version(&self) -> i64;
    /// The answer's body, at the command's last `position`.
    fn written(self, position: i64) -> Self::Written;
}

/// Changes one of the caller's references: answers a retry as the first request was
/// answered, or loads it (another user's is a 404, before `If-Match` can tell it exists),
/// checks `If-Match`, decides, appends and answers.
pub async fn change<R: Reference>(
    state: &AppState,
    caller: &Caller,
    id: i64,
    headers: &HeaderMap,
    operation: &str,
    input: &impl Serialize,
    decide: impl FnOnce(&R) -> PromptsEvent,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, operation, input)?;
    let respond = |reference, appended: &Appended| respond::<R>(reference, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let stream_id = R::stream_id(id);
    let reference: R = load_owned(&state.store, &stream_id, caller.user_id, || {
        format!("no {} with id {id}", R::NAME)
    })
    .await?;
    let expected = command::expected_version(reference.version(), if_match)?;
    let events = [decide(&reference)];
    command::append(
        &state.store,
        &context,
        Target::Stream(stream_id, expected),
        &events,
    )
    .await
    .map_err(command::append_error)?
    .answer(&state.store, Some(reference), &events, respond)
    .await
}

/// The answer to a command on a reference: `204` once deleted, else its state (with its
/// `Location` when `created`).
pub fn respond<R: Reference>(reference: Option<R>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(reference) = reference.filter(|reference| !reference.deleted()) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("{}/{}", R::PATH, reference.id());
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = reference.written(appended.last_position);
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
