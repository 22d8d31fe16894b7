//! The errors endpoints, every one for admins only: error data is operators' data.

use std::sync::Arc;

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
    paging::{PageParams, Paged},
    response::Envelope,
};
use uuid::Uuid;

use super::{
    counts::{self, CountsSearch, MinuteCounts},
    issues::{self, ErrorView, IssueSummary, IssueView},
    listing::IssueSearch,
    projects::{self, ProjectRow, ProjectView},
};
use crate::{AppState, consistency::MinPosition, respond::versioned};

/// Every project (the platform's own, 0, first) with its DSN.
#[utoipa::path(
    get, path = "/api/v1/errors/projects", tag = "errors",
    params(("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position")),
    responses(
        (status = 200, description = "Every project", body = inline(Envelope<Vec<ProjectView>>)),
        (status = 400, description = "Bad position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let rows = all_projects(&state, min).await?;
    let public = state.public_address.for_request(&headers);
    let views: Vec<ProjectView> = rows.iter().map(|row| row.view(&public)).collect();
    Ok(ok(views).into_response())
}

/// One project with its DSN, and its version as ETag.
#[utoipa::path(
    get, path = "/api/v1/errors/projects/{id}", tag = "errors",
    params(
        ("id" = i64, Path, description = "Project id (0: the platform's own)"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The project", body = inline(Envelope<ProjectView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let rows = all_projects(&state, min).await?;
    let row = rows
        .iter()
        .find(|row| row.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no project with id {id}")))?;
    let view = row.view(&state.public_address.for_request(&headers));
    Ok(versioned(
        crate::respond::render(view),
        row.version,
        &headers,
    ))
}

/// The projects from the cache, or from the table (then cached).
async fn all_projects(
    state: &AppState,
    min: MinPosition,
) -> Result<Arc<Vec<ProjectRow>>, ApiError> {
    let model = &state.errors;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(rows) = model.projects.get(&()) {
        return Ok(rows);
    }
    let (applied, rows) = projects::all(&state.pool, &model.source)
        .await
        .map_err(ApiError::failure)?;
    let rows = Arc::new(rows);
    model.projects.insert((), rows.clone(), applied);
    Ok(rows)
}

/// Issues, paged with totals: of one project or all, filtered by status, level and text,
/// most recently seen first unless `sort` says otherwise.
#[utoipa::path(
    get, path = "/api/v1/errors/issues", tag = "errors",
    params(
        IssueSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of issues", body = inline(Envelope<Paged<IssueSummary>>)),
        (status = 400, description = "Bad status, level or sort (the details name the allowed ones), paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_issues(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<IssueSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let listing = search.parse()?;
    min.wait(&state.errors.progress, &state.pool, state.read_timeout)
        .await?;
    let (total, items) = issues::page(&state.pool, &listing)
        .await
        .map_err(ApiError::failure)?;
    Ok(ok(listing.page.of(items, total)).into_response())
}

/// One issue with its latest error whole: stack trace, tags, release, environment,
/// request and extra.
#[utoipa::path(
    get, path = "/api/v1/errors/issues/{id}", tag = "errors",
    params(
        ("id" = Uuid, Path, description = "Issue id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The issue", body = inline(Envelope<IssueView>)),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such issue", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_issue(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    min.wait(&state.errors.progress, &state.pool, state.read_timeout)
        .await?;
    let issue = issues::issue(&state.pool, id)
        .await
        .map_err(ApiError::failure)?
        .ok_or_else(|| no_issue(id))?;
    Ok(ok(issue).into_response())
}

/// An issue's errors, latest first, paged with totals.
#[utoipa::path(
    get, path = "/api/v1/errors/issues/{id}/events", tag = "errors",
    params(
        ("id" = Uuid, Path, description = "Issue id"),
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of the issue's errors", body = inline(Envelope<Paged<ErrorView>>)),
        (status = 400, description = "Bad id, paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such issue", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn issue_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(paging): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let page = paging.validate()?;
    min.wait(&state.errors.progress, &state.pool, state.read_timeout)
        .await?;
    let (total, errors) = issues::errors(&state.pool, id, page)
        .await
        .map_err(ApiError::failure)?
        .ok_or_else(|| no_issue(id))?;
    Ok(ok(page.of(errors, total)).into_response())
}

/// Errors per level per minute over the last `minutes` minutes (oldest first, every
/// minute present), of one project or all: the dashboard's chart.
#[utoipa::path(
    get, path = "/api/v1/errors/counts", tag = "errors",
    params(
        CountsSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One entry per minute", body = inline(Envelope<Vec<MinuteCounts>>)),
        (status = 400, description = "Bad minutes or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<CountsSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let minutes = search.minutes()?;
    min.wait(&state.errors.progress, &state.pool, state.read_timeout)
        .await?;
    let counts = counts::per_minute(&state.pool, search.project, minutes)
        .await
        .map_err(ApiError::failure)?;
    Ok(ok(counts).into_response())
}

fn no_issue(id: Uuid) -> ApiError {
    ApiError::not_found(format!("no issue with id {id}"))
}
