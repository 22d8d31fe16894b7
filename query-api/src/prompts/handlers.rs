//! The endpoints of a user's own profiles, books and reference texts: listings (newest
//! first, one's own only) and single views. Another user's is a `404`, as if it did not
//! exist.

use std::future::Future;

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
    paging::{Page, PageParams, Paged},
    response::Envelope,
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::{
    CachedView, OwnersCache, past,
    queries::{self, BookView, DataSummary, DataView, Owned, ProfileSummary, ProfileView},
};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{etag, json, render, versioned},
};

/// A past position to see a profile at.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// Show it as it was at this global position (from `X-Position` or its history),
    /// folded from its events; its books and texts as they were then too.
    pub as_of: Option<i64>,
}

/// List the caller's profiles, newest first, each with the ids of what it links.
#[utoipa::path(
    get, path = "/api/v1/profiles", tag = "prompts",
    params(
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of the caller's profiles", body = inline(Envelope<Paged<ProfileSummary>>)),
        (status = 400, description = "Bad paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_profiles(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let model = &state.profiles;
    let page = params.validate()?;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let owner = caller.user_id;
    let body = owned_page(&model.profile_pages, owner, page, || {
        queries::profiles(&state.pool, &model.source, owner, page)
    })
    .await?;
    Ok(json(body, None))
}

/// Get one of the caller's profiles with the books and texts it links, now or (`as_of`)
/// as it was at a past position. Its version is the ETag to send in `If-Match`.
#[utoipa::path(
    get, path = "/api/v1/profiles/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Profile id"),
        AsOf,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position (not needed with as_of, which reads the log)"),
    ),
    responses(
        (status = 200, description = "The profile (and `as_of` when asked for a past one, which has no ETag)", body = inline(Envelope<ProfileView>), headers(("ETag" = String))),
        (status = 400, description = "Bad id, position or as_of (one the log has not reached)", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such profile (then), or another user's", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(as_of): Query<AsOf>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("no profile with id {id}"));
    if let Some(position) = as_of.as_of {
        let past = past::profile(&state, caller.user_id, id, position)
            .await?
            .ok_or_else(not_found)?;
        return Ok(ok(past.view()).into_response());
    }
    let model = &state.profiles;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let cached = owned_view(&model.profiles, caller.user_id, id, not_found, || {
        queries::profile(&state.pool, &model.source, id)
    })
    .await?;
    // No `304`: the view shows the linked books and texts too, which change without the
    // profile's version.
    Ok(json(cached.body, Some(etag(cached.version))))
}

/// List the caller's reference books, newest first.
#[utoipa::path(
    get, path = "/api/v1/ref-books", tag = "prompts",
    params(
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of the caller's books", body = inline(Envelope<Paged<BookView>>)),
        (status = 400, description = "Bad paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_books(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let model = &state.profiles;
    let page = params.validate()?;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let owner = caller.user_id;
    let body = owned_page(&model.book_pages, owner, page, || {
        queries::books(&state.pool, &model.source, owner, page)
    })
    .await?;
    Ok(json(body, None))
}

/// Get one of the caller's reference books, with its version as ETag.
#[utoipa::path(
    get, path = "/api/v1/ref-books/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Book id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The book", body = inline(Envelope<BookView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such book, or another user's", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_book(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.profiles;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let not_found = || ApiError::not_found(format!("no reference book with id {id}"));
    let cached = owned_view(&model.books, caller.user_id, id, not_found, || {
        queries::book(&state.pool, &model.source, id)
    })
    .await?;
    Ok(versioned(cached.body, cached.version, &headers))
}

/// List the caller's reference texts, newest first, without their texts.
#[utoipa::path(
    get, path = "/api/v1/ref-data", tag = "prompts",
    params(
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of the caller's reference texts", body = inline(Envelope<Paged<DataSummary>>)),
        (status = 400, description = "Bad paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_data(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let model = &state.profiles;
    let page = params.validate()?;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let owner = caller.user_id;
    let body = owned_page(&model.data_pages, owner, page, || {
        queries::data_list(&state.pool, &model.source, owner, page)
    })
    .await?;
    Ok(json(body, None))
}

/// Get one of the caller's reference texts with its text, and its version as ETag.
#[utoipa::path(
    get, path = "/api/v1/ref-data/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Text id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The reference text", body = inline(Envelope<DataView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such text, or another user's", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_data(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.profiles;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let not_found = || ApiError::not_found(format!("no reference text with id {id}"));
    let cached = owned_view(&model.data, caller.user_id, id, not_found, || {
        queries::data(&state.pool, &model.source, id)
    })
    .await?;
    Ok(versioned(cached.body, cached.version, &headers))
}

/// A view whose version is its ETag.
pub trait Versioned {
    fn version(&self) -> i64;
}

impl Versioned for ProfileView {
    fn version(&self) -> i64 {
        self.profile.version
    }
}

impl Versioned for BookView {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Versioned for DataView {
    fn version(&self) -> i64 {
        self.data.version
    }
}

/// `owner`'s view `id`, from `cache` or from `load`; another user's is `not_found`, like
/// none, and is never cached.
async fn owned_view<T, Fut>(
    cache: &OwnersCache<i64, CachedView>,
    owner: Uuid,
    id: i64,
    not_found: impl Fn() -> ApiError,
    load: impl FnOnce() -> Fut,
) -> Result<CachedView, ApiError>
where
    T: Serialize + Versioned,
    Fut: Future<Output = Result<Option<(i64, Owned<T>)>, sqlx::Error>>,
{
    if let Some(cached) = cache.get(&(owner, id)) {
        return Ok(cached);
    }
    let (applied, owned) = load()
        .await
        .map_err(ApiError::failure)?
        .filter(|(_, owned)| owned.owner_id == owner)
        .ok_or_else(not_found)?;
    let cached = CachedView {
        version: owned.view.version(),
        body: render(owned.view),
    };
    cache.insert((owner, id), cached.clone(), applied);
    Ok(cached)
}

/// One page of `owner`'s listing, from `cache` or from `load`.
async fn owned_page<T, Fut>(
    cache: &OwnersCache<Page, Bytes>,
    owner: Uuid,
    page: Page,
    load: impl FnOnce() -> Fut,
) -> Result<Bytes, ApiError>
where
    T: Serialize,
    Fut: Future<Output = Result<(i64, i64, Vec<T>), sqlx::Error>>,
{
    if let Some(body) = cache.get(&(owner, page)) {
        return Ok(body);
    }
    let (applied, total, items) = load().await.map_err(ApiError::failure)?;
    let body = render(page.of(items, total));
    cache.insert((owner, page), body.clone(), applied);
    Ok(body)
}
