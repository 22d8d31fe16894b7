//! The comment endpoints: comment on a post, delete a comment.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, ExpectedVersion, Numbered};
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
    aggregate::{self, Comment, CommentCommand},
    board_error,
    input::CommentInput,
    posts::load_live,
};
use crate::{
    AppState,
    command::{self, Actor, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for Comment {
    /// Comment ids: the sequence, the stream of comment `n` (`comment-n`) and the payload
    /// field that carries the id.
    const NUMBERS: Numbered = Numbered {
        sequence: "comment_ids",
        stream_prefix: board::COMMENT_STREAM_PREFIX,
        field: "comment_id",
    };

    fn assign_number(event: &mut BoardEvent, number: i64) {
        if let BoardEvent::CommentAdded(added) = event {
            added.comment_id = number;
        }
    }
}

/// A comment as the command left it, and the global position that records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentWritten {
    pub id: i64,
    pub post_id: i64,
    pub author_id: Uuid,
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Global position of the command's last event; send it as `X-Min-Position` to read
    /// your own write.
    pub position: i64,
}

/// Comment on a post as the caller.
#[utoipa::path(
    post, path = "/api/v1/posts/{id}/comments", tag = "board",
    request_body = CommentInput,
    params(
        ("id" = i64, Path, description = "Post id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<CommentWritten>),
         headers(("Location" = String), ("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 422, description = "Invalid content", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(post_id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<CommentInput>,
) -> Result<Response, ApiError> {
    let content = input.parse()?;
    let operation = format!("AddComment {post_id}");
    let context = CommandContext::new(
        &headers,
        Some(caller.user_id.to_string()),
        &operation,
        &content,
    )?;
    let respond = |comment, appended: &Appended| respond(comment, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let post = load_live(&state, post_id).await?;
    let command = CommentCommand::AddComment {
        comment_id: UNNUMBERED,
        content,
        by: Actor::of(&caller),
        at: command::now(),
    };
    let events = aggregate::decide_comment(Some(&post), None, command).map_err(board_error)?;
    command::create_numbered(&state.store, &context, events, respond).await
}

/// Delete a comment (its author, the post's author or an admin).
#[utoipa::path(
    delete, path = "/api/v1/posts/{id}/comments/{comment_id}", tag = "board",
    params(
        ("id" = i64, Path, description = "Post id"),
        ("comment_id" = i64, Path, description = "Comment id"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not the comment's author, the post's author or an admin", body = ErrorBody),
        (status = 404, description = "No such post or comment", body = ErrorBody),
        (status = 409, description = "Concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((post_id, comment_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let operation = format!("DeleteComment {post_id}/{comment_id}");
    let context = CommandContext::new(&headers, Some(caller.user_id.to_string()), &operation, &())?;
    let respond = |comment, appended: &Appended| respond(comment, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let post = load_live(&state, post_id).await?;
    let comment =
        command::load::<Comment>(&state.store, &board::comment_stream(comment_id), None).await?;
    let command = CommentCommand::DeleteComment {
        by: Actor::of(&caller),
    };
    let events =
        aggregate::decide_comment(Some(&post), comment.as_ref(), command).map_err(board_error)?;
    let version = comment.as_ref().map_or(0, |c| c.version);
    let target = Target::Stream(
        board::comment_stream(comment_id),
        ExpectedVersion::Exact(version),
    );
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, comment, &events, respond)
        .await
}

fn respond(comment: Option<Comment>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    headers.remove(header::ETAG);
    let Some(comment) = comment.filter(|comment| !comment.deleted) else {
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!(
            "/api/v1/posts/{}/comments/{}",
            comment.post_id, comment.comment_id
        );
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = CommentWritten {
        id: comment.comment_id,
        post_id: comment.post_id,
        author_id: comment.author_id,
        content: comment.content,
        created_at: comment.created_at,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
