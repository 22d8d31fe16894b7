//! The member endpoints: one's own profile, and members for themselves or an admin.

use axum::{extract::State, response::Response};
use serde::Deserialize;
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    paging::{PageParams, Paged},
    response::Envelope,
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::queries;
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render},
};

/// The caller's own profile.
#[utoipa::path(
    get, path = "/api/v1/users/me", tag = "users",
    params(("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position")),
    responses(
        (status = 200, description = "The caller's account", body = inline(Envelope<queries::MemberView>)),
        Unauthorized,
        (status = 404, description = "The account is not (yet) in the read model", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
    min: MinPosition,
) -> Result<Response, ApiError> {
    member(&state, caller.user_id, min).await
}

/// One member: the member themselves or an admin.
#[utoipa::path(
    get, path = "/api/v1/members/{id}", tag = "members",
    params(
        ("id" = Uuid, Path, description = "Member (user) id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The member", body = inline(Envelope<queries::MemberView>)),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Neither the member nor an admin", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_self_or_admin(id)?;
    member(&state, id, min).await
}

/// Search and paging of the member list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberSearch {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Members per page, 1 to 100 (default 20).
    pub size: Option<u32>,
    /// Only members whose name or email contains this text (case-insensitive, literal).
    pub q: Option<String>,
}

/// Every member, oldest first (admins only).
#[utoipa::path(
    get, path = "/api/v1/members", tag = "members",
    params(
        MemberSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of members", body = inline(Envelope<Paged<queries::MemberView>>)),
        (status = 400, description = "Bad paging parameters or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<MemberSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let page = PageParams {
        page: search.page,
        size: search.size,
    }
    .validate()?;
    let text = search.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let model = &state.members;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let (total, members) = queries::page(&state.pool, page, text)
        .await
        .map_err(ApiError::failure)?;
    Ok(json(render(page.of(members, total)), None))
}

async fn member(state: &AppState, id: Uuid, min: MinPosition) -> Result<Response, ApiError> {
    let model = &state.members;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.by_id.get(&id) {
        return Ok(json(body, None));
    }
    let (applied, member) = queries::member(&state.pool, &model.source, id)
        .await
        .map_err(ApiError::failure)?
        .ok_or_else(|| ApiError::not_found(format!("no member with id {id}")))?;
    let body = render(member);
    model.by_id.insert(id, body.clone(), applied);
    Ok(json(body, None))
}
