//! The board endpoints: listings of posts (newest first) and of a post's comments (oldest
//! first), and single posts. Reading needs no account.

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::Deserialize;
use service_kit::{
    ApiError, Path, Query,
    error::ErrorBody,
    paging::{PageParams, Paged},
    response::Envelope,
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::{
    CachedPost,
    queries::{self, CommentView, PostListing, PostSummary, PostView},
};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render, versioned},
};

/// Longest title search text.
const MAX_SEARCH_CHARS: usize = 200;

/// Filters and paging of the post list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostSearch {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Posts per page, 1 to 100 (default 20).
    pub size: Option<u32>,
    /// Only this author's posts.
    pub author_id: Option<Uuid>,
    /// Only posts whose title contains this text (case-insensitive, taken literally).
    pub q: Option<String>,
}

/// List posts, newest first, each with an excerpt and its comment count.
#[utoipa::path(
    get, path = "/api/v1/posts", tag = "board",
    params(
        PostSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of posts", body = inline(Envelope<Paged<PostSummary>>)),
        (status = 400, description = "Bad paging parameter, filter or position", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    )
)]
pub async fn list_posts(
    State(state): State<AppState>,
    Query(search): Query<PostSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let page = PageParams {
        page: search.page,
        size: search.size,
    }
    .validate()?;
    let title = search
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if let Some(title) = &title
        && title.chars().count() > MAX_SEARCH_CHARS
    {
        return Err(ApiError::bad_request(format!(
            "q must be at most {MAX_SEARCH_CHARS} characters"
        )));
    }
    let listing = PostListing {
        page,
        author: search.author_id,
        title,
    };
    let model = &state.board;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.pages.get(&listing) {
        return Ok(json(body, None));
    }
    let (applied, total, posts) = queries::posts(&state.pool, &model.source, &listing)
        .await
        .map_err(ApiError::failure)?;
    let body = render(page.of_counted(posts, total));
    model.pages.insert(listing, body.clone(), applied);
    Ok(json(body, None))
}

/// Get one post with its whole content, and its version as ETag.
#[utoipa::path(
    get, path = "/api/v1/posts/{id}", tag = "board",
    params(
        ("id" = i64, Path, description = "Post id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The post", body = inline(Envelope<PostView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    )
)]
pub async fn get_post(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.board;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let cached = match model.posts.get(&id) {
        Some(cached) => cached,
        None => {
            let (applied, post) = queries::post(&state.pool, &model.source, id)
                .await
                .map_err(ApiError::failure)?
                .ok_or_else(|| ApiError::not_found(format!("no post with id {id}")))?;
            let cached = CachedPost {
                version: post.version,
                body: render(post),
            };
            model.posts.insert(id, cached.clone(), applied);
            cached
        }
    };
    Ok(versioned(cached.body, cached.version, &headers))
}

/// A post's comments, oldest first.
#[utoipa::path(
    get, path = "/api/v1/posts/{id}/comments", tag = "board",
    params(
        ("id" = i64, Path, description = "Post id"),
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of comments", body = inline(Envelope<Paged<CommentView>>)),
        (status = 400, description = "Bad id, paging parameter or position", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    )
)]
pub async fn list_comments(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(params): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let page = params.validate()?;
    let model = &state.board;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.comments.get(&(id, page)) {
        return Ok(json(body, None));
    }
    let (applied, total, comments) = queries::comments(&state.pool, &model.source, id, page)
        .await
        .map_err(ApiError::failure)?
        .ok_or_else(|| ApiError::not_found(format!("no post with id {id}")))?;
    let body = render(page.of(comments, total));
    model.comments.insert((id, page), body.clone(), applied);
    Ok(json(body, None))
}
