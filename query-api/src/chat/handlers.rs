//! The chat read endpoints: a user's rooms, a room, its history; users online and search.

use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    paging::{PageParams, Paged},
    response::Envelope,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    frames::MessageView,
    presence::STALE_AFTER,
    queries::{self, RoomSummary, RoomView, UserPresence, Window},
};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render},
};

/// Most messages one history page holds.
const MAX_HISTORY_PAGE: i64 = 200;
const DEFAULT_HISTORY_PAGE: i64 = 50;
/// Longest user search text.
const MAX_SEARCH_CHARS: usize = 100;

/// Which rooms, and which page of them.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomSearch {
    /// `direct` or `group`; both when absent.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Rooms per page, 1 to 100 (default 20).
    pub size: Option<u32>,
}

/// The caller's rooms, most recently active first, each with its last message and the
/// caller's unread count.
#[utoipa::path(
    get, path = "/api/v1/chats", tag = "chat",
    params(RoomSearch, ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position")),
    responses(
        (status = 200, description = "One page of rooms", body = inline(Envelope<Paged<RoomSummary>>)),
        (status = 400, description = "Bad type, paging parameter or position", body = ErrorBody),
        Unauthorized,
    ),
    security(("bearer" = []))
)]
pub async fn my_rooms(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<RoomSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    rooms(&state, caller.user_id, search, min).await
}

/// A user's rooms (the user themselves or an admin), as `GET /chats` shows them.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/chats", tag = "chat",
    params(
        ("id" = Uuid, Path, description = "User id"),
        RoomSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of rooms", body = inline(Envelope<Paged<RoomSummary>>)),
        (status = 400, description = "Bad id, type, paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Neither the user nor an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn user_rooms(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<Uuid>,
    Query(search): Query<RoomSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    caller.require_self_or_admin(user)?;
    rooms(&state, user, search, min).await
}

async fn rooms(
    state: &AppState,
    user: Uuid,
    search: RoomSearch,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let page = PageParams {
        page: search.page,
        size: search.size,
    }
    .validate()?;
    let kind = match search.kind.as_deref() {
        None => None,
        Some(kind @ ("direct" | "group")) => Some(kind),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "type must be direct or group, got {other:?}"
            )));
        }
    };
    min.wait(&state.chat.progress, &state.pool, state.read_timeout)
        .await?;
    let (total, rooms) = queries::rooms_of(&state.pool, user, kind, page)
        .await
        .map_err(ApiError::failure)?;
    Ok(json(render(page.of(rooms, total)), None))
}

/// A room by its number, with its members (members of the room and admins).
#[utoipa::path(
    get, path = "/api/v1/chats/{id}", tag = "chat",
    params(
        ("id" = i64, Path, description = "Room number"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The room", body = inline(Envelope<RoomView>)),
        Unauthorized,
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_room(
    State(state): State<AppState>,
    caller: Caller,
    Path(room): Path<i64>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    wait_with_membership(&state, min).await?;
    if !caller.is_admin() {
        member_of(&state, room, caller.user_id)?;
    }
    let view = queries::room(&state.pool, room, caller.user_id)
        .await
        .map_err(ApiError::failure)?
        .ok_or_else(|| no_room(room))?;
    Ok(json(render(view), None))
}

/// Which page of a room's history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Messages before this sequence (older ones, for scrolling back).
    pub before: Option<i64>,
    /// Messages after this sequence (newer ones, for catching up).
    pub after: Option<i64>,
    /// Messages per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// One page of a room's history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    pub items: Vec<MessageView>,
    /// Whether more messages lie beyond this page in the direction asked for (older for
    /// `before` and the latest page, newer for `after`).
    pub more: bool,
}

/// A room's messages by sequence: the latest page, or before or after a sequence
/// (members only).
#[utoipa::path(
    get, path = "/api/v1/chats/{id}/messages", tag = "chat",
    params(
        ("id" = i64, Path, description = "Room number"),
        HistoryParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of messages, oldest first", body = inline(Envelope<HistoryPage>)),
        (status = 400, description = "Both before and after, a bad limit or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(room): Path<i64>,
    Query(params): Query<HistoryParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let window = match (params.before, params.after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give before or after, not both"));
        }
        (Some(seq), None) => Window::Before(seq),
        (None, Some(seq)) => Window::After(seq),
        (None, None) => Window::Latest,
    };
    let limit = params.limit.unwrap_or(DEFAULT_HISTORY_PAGE);
    if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_HISTORY_PAGE}"
        )));
    }
    wait_with_membership(&state, min).await?;
    member_of(&state, room, caller.user_id)?;
    let (items, more) = queries::history(&state.pool, room, window, limit)
        .await
        .map_err(ApiError::failure)?;
    Ok(json(render(HistoryPage { items, more }), None))
}

/// One message of a room by its sequence (members only).
#[utoipa::path(
    get, path = "/api/v1/chats/{id}/messages/{seq}", tag = "chat",
    params(
        ("id" = i64, Path, description = "Room number"),
        ("seq" = i64, Path, description = "The message's sequence in the room"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The message", body = inline(Envelope<MessageView>)),
        Unauthorized,
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "No such room or message", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path((room, seq)): Path<(i64, i64)>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    wait_with_membership(&state, min).await?;
    member_of(&state, room, caller.user_id)?;
    let message = queries::message(&state.pool, room, seq)
        .await
        .map_err(ApiError::failure)?
        .ok_or_else(|| ApiError::not_found(format!("room {room} has no message {seq}")))?;
    Ok(json(render(message), None))
}

/// Which users, and which page of them.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnlineParams {
    /// Must be `true`: the users online now.
    pub online: Option<bool>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Users per page, 1 to 100 (default 20).
    pub size: Option<u32>,
}

/// The users online now (holding a live stream on any instance), by name.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "chat",
    params(OnlineParams, ("X-Min-Position" = Option<i64>, Header, description = "Wait until the member list reflects this position")),
    responses(
        (status = 200, description = "One page of online users", body = inline(Envelope<Paged<UserPresence>>)),
        (status = 400, description = "online=true missing, or a bad paging parameter", body = ErrorBody),
        Unauthorized,
    ),
    security(("bearer" = []))
)]
pub async fn online_users(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<OnlineParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    if params.online != Some(true) {
        return Err(ApiError::bad_request(
            "this lists the users online: ask with online=true (search users with /api/v1/users/search?q=)",
        ));
    }
    let page = PageParams {
        page: params.page,
        size: params.size,
    }
    .validate()?;
    min.wait(&state.members.progress, &state.pool, state.read_timeout)
        .await?;
    let (total, users) = queries::online_users(&state.pool, STALE_AFTER.as_secs_f64(), page)
        .await
        .map_err(ApiError::failure)?;
    Ok(json(render(page.of(users, total)), None))
}

/// What to search for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// Text the name contains, 1 to 100 characters, case-insensitive, taken literally.
    pub q: Option<String>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Users per page, 1 to 100 (default 20).
    pub size: Option<u32>,
}

/// Users whose name contains the text, with their presence.
#[utoipa::path(
    get, path = "/api/v1/users/search", tag = "chat",
    params(UserSearch, ("X-Min-Position" = Option<i64>, Header, description = "Wait until the member list reflects this position")),
    responses(
        (status = 200, description = "One page of users", body = inline(Envelope<Paged<UserPresence>>)),
        (status = 400, description = "Missing or overlong q, or a bad paging parameter", body = ErrorBody),
        Unauthorized,
    ),
    security(("bearer" = []))
)]
pub async fn search_users(
    State(state): State<AppState>,
    _caller: Caller,
    Query(search): Query<UserSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let text = search.q.as_deref().map(str::trim).unwrap_or_default();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_SEARCH_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must be 1 to {MAX_SEARCH_CHARS} characters"
        )));
    }
    let page = PageParams {
        page: search.page,
        size: search.size,
    }
    .validate()?;
    min.wait(&state.members.progress, &state.pool, state.read_timeout)
        .await?;
    let (total, users) = queries::search_users(&state.pool, STALE_AFTER.as_secs_f64(), text, page)
        .await
        .map_err(ApiError::failure)?;
    Ok(json(render(page.of(users, total)), None))
}

/// Waits until both the read model and the hub, whose membership decides who may read a
/// room, reflect the position. The hub can trail the read model a little: it releases chat
/// events only once the email follower has passed them too (see `feed`).
async fn wait_with_membership(state: &AppState, min: MinPosition) -> Result<(), ApiError> {
    min.wait(&state.chat.progress, &state.pool, state.read_timeout)
        .await?;
    min.wait(state.chat.hub.as_ref(), &state.pool, state.read_timeout)
        .await
}

/// 404 for no such room, 403 unless `user` is a member, as of the stream this instance
/// follows.
fn member_of(state: &AppState, room: i64, user: Uuid) -> Result<(), ApiError> {
    match state.chat.hub.is_member(room, user) {
        None => Err(no_room(room)),
        Some(false) => Err(ApiError::forbidden("only members of the room may read it")),
        Some(true) => Ok(()),
    }
}

fn no_room(room: i64) -> ApiError {
    ApiError::not_found(format!("no room {room}"))
}
