//! The post endpoints: write, edit and delete posts.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use schemas::board::{self, BoardEvent};
use serde::Serialize;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    aggregate::{self, Post, PostCommand},
    board_error,
    input::PostInput,
};
use crate::{
    AppState,
    command::{self, Actor, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for Post {
    /// Post ids: the sequence, the stream of post `n` (`post-n`) and the payload field
    /// that carries the id.
    const NUMBERS: Numbered = Numbered {
        sequence: "post_ids",
        stream_prefix: board::POST_STREAM_PREFIX,
        field: "post_id",
    };

    fn assign_number(event: &mut BoardEvent, number: i64) {
        if let BoardEvent::PostCreated(created) = event {
            created.post_id = number;
        }
    }
}

/// A post as the command left it, and the global position that records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostWritten {
    pub id: i64,
    pub author_id: Uuid,
    pub title: String,
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Version of the post; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position` to read
    /// your own write.
    pub position: i64,
}

/// Write a post as the caller; its id is the next sequential number.
#[utoipa::path(
    post, path = "/api/v1/posts", tag = "board",
    request_body = PostInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<PostWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 422, description = "Invalid fields (every broken rule in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_post(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<PostInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let by = Actor::of(&caller);
    let context = CommandContext::new(
        &headers,
        Some(caller.user_id.to_string()),
        "CreatePost",
        &fields,
    )?;
    let respond = |post, appended: &Appended| respond(post, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let command = PostCommand::CreatePost {
        post_id: UNNUMBERED,
        fields,
        by,
        at: command::now(),
    };
    let events = aggregate::decide_post(None, command).expect("a new post can always be written");
    command::create_numbered(&state.store, &context, events, respond).await
}

/// Replace a post's title and content (its author or an admin).
#[utoipa::path(
    put, path = "/api/v1/posts/{id}", tag = "board",
    request_body = PostInput,
    params(
        ("id" = i64, Path, description = "Post id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the edit is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Updated", body = inline(service_kit::Envelope<PostWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Neither the author nor an admin", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<PostInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let operation = format!("UpdatePost {id}");
    let context = CommandContext::new(
        &headers,
        Some(caller.user_id.to_string()),
        &operation,
        &fields,
    )?;
    let command = PostCommand::UpdatePost {
        fields,
        by: Actor::of(&caller),
        at: command::now(),
    };
    change(&state, &headers, context, id, |_| Ok(command)).await
}

/// Delete a post and its comments (its author or an admin).
#[utoipa::path(
    delete, path = "/api/v1/posts/{id}", tag = "board",
    params(
        ("id" = i64, Path, description = "Post id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Neither the author nor an admin", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let operation = format!("DeletePost {id}");
    let context = CommandContext::new(&headers, Some(caller.user_id.to_string()), &operation, &())?;
    let command = PostCommand::DeletePost {
        by: Actor::of(&caller),
    };
    change(&state, &headers, context, id, |_| Ok(command)).await
}

/// Changes an existing post: replays a retry, or loads, checks `If-Match`, makes the
/// command from the post as loaded, decides, appends (expecting that version, so a change
/// in between is a 409) and answers.
pub(super) async fn change(
    state: &AppState,
    headers: &HeaderMap,
    context: CommandContext,
    id: i64,
    command: impl FnOnce(&Post) -> Result<PostCommand, ApiError>,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let respond = |post, appended: &Appended| respond(post, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let post = load_live(state, id).await?;
    let expected = command::expected_version(post.version, if_match)?;
    let command = command(&post)?;
    let events = aggregate::decide_post(Some(&post), command).map_err(board_error)?;
    let target = Target::Stream(board::post_stream(id), expected);
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, Some(post), &events, respond)
        .await
}

fn respond(post: Option<Post>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(post) = post.filter(|post| !post.deleted) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("/api/v1/posts/{}", post.post_id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = PostWritten {
        id: post.post_id,
        author_id: post.author_id,
        title: post.title,
        content: post.content,
        created_at: post.created_at,
        updated_at: post.updated_at,
        version: post.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}

/// The post, unless it never existed or was deleted.
pub async fn load_live(state: &AppState, id: i64) -> Result<Post, ApiError> {
    command::load::<Post>(&state.store, &board::post_stream(id), None)
        .await?
        .filter(|post| !post.deleted)
        .ok_or_else(|| ApiError::not_found(format!("no post with id {id}")))
}
