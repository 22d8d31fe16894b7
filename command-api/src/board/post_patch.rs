//! A partial edit of a post (`PATCH`): the fields given replace the post's, the absent
//! ones keep their value, and the result is checked by the same rules as a `PUT`.

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
};
use utoipa::ToSchema;

use super::{
    aggregate::{Post, PostCommand},
    input::PostInput,
    posts::{PostWritten, change},
};
use crate::{
    AppState,
    command::{self, Actor, CommandContext},
};

/// Body of `PATCH /posts/{id}`: any of the fields of a `PUT`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    /// 1 to 200 characters; surrounding whitespace is trimmed.
    pub title: Option<String>,
    /// 1 to 20,000 characters.
    pub content: Option<String>,
}

/// Change some of a post's fields (its author or an admin); absent fields are kept.
#[utoipa::path(
    patch, path = "/api/v1/posts/{id}", tag = "board",
    request_body = PostPatch,
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
pub async fn patch_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(patch): Json<PostPatch>,
) -> Result<Response, ApiError> {
    let operation = format!("PatchPost {id}");
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, &operation, &patch)?;
    let merge = |post: &Post| {
        let input = PostInput {
            title: patch.title.unwrap_or_else(|| post.title.clone()),
            content: patch.content.unwrap_or_else(|| post.content.clone()),
        };
        Ok(PostCommand::UpdatePost {
            fields: input.parse()?,
            by: Actor::of(&caller),
            at: command::now(),
        })
    };
    change(&state, &headers, context, id, merge).await
}
