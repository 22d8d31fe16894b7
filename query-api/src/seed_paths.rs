//! The reads at the paths the original assignments named (README, "Endpoint map"), for
//! clients written against them: each answers with a canonical endpoint's handler, so its
//! authentication, validation and envelope are that endpoint's. Documented as deprecated
//! copies of the canonical operations.

use axum::{Router, extract::State, response::Response, routing::get};
use service_kit::{ApiError, Path, Query, auth::Caller, docs::aliases::Alias};
use utoipa::openapi::HttpMethod;
use uuid::Uuid;

use crate::{
    AppState, board,
    chat::handlers::{self as chat, OnlineParams, RoomSearch},
    consistency::MinPosition,
    items, members, orders, prompts,
};

/// Every read alias: the seed's path and the canonical path whose handler answers it.
pub const ALIASES: &[Alias] = &[
    alias("/items", "/api/v1/items", &[]),
    alias("/profile", "/api/v1/users/me", &[]),
    alias("/posts", "/api/v1/posts", &[]),
    alias("/posts/{id}", "/api/v1/posts/{id}", &[]),
    alias("/orders", "/api/v1/orders", &[]),
    alias("/api/users", "/api/v1/users", &["online"]),
    alias("/api/users/search", "/api/v1/users/search", &[]),
    alias("/api/chats", "/api/v1/chats", &["type"]),
    alias(
        "/api/chats/group/{id}",
        "/api/v1/users/{id}/chats",
        &["type"],
    ),
    alias(
        "/api/chats/one-to-one/{id}",
        "/api/v1/users/{id}/chats",
        &["type"],
    ),
    alias("/api/chats/{id}", "/api/v1/chats/{id}", &[]),
    alias("/api/messages/{id}", "/api/v1/chats/{id}/messages", &[]),
    alias("/api/v1/users/{id}", "/api/v1/members/{id}", &[]),
    alias("/api/v1/gpt-sys-infos", "/api/v1/profiles", &[]),
    alias(
        "/api/v1/gpt-sys-infos/{id}/dialogues",
        "/api/v1/profiles/{id}/dialogues",
        &[],
    ),
    alias("/api/v1/gpt-sys-infos/refbook", "/api/v1/ref-books", &[]),
    alias("/api/v1/gpt-sys-infos/refdata", "/api/v1/ref-data", &[]),
    alias("/api/v1/public-script/", "/api/v1/public-scripts", &[]),
];

const fn alias(
    path: &'static str,
    canonical: &'static str,
    fixed: &'static [&'static str],
) -> Alias {
    Alias {
        method: HttpMethod::Get,
        path,
        canonical,
        canonical_method: None,
        fixed,
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/items", get(items::handlers::list_items))
        .route("/profile", get(members::handlers::me))
        .route("/posts", get(board::handlers::list_posts))
        .route("/posts/{id}", get(board::handlers::get_post))
        .route("/orders", get(orders::handlers::list_orders))
        .route("/api/users", get(active_users))
        .route("/api/users/search", get(chat::search_users))
        .route("/api/chats", get(my_group_rooms))
        .route("/api/chats/one-to-one/{id}", get(direct_rooms))
        .route("/api/chats/group/{id}", get(group_rooms))
        .route("/api/v1/users/{id}", get(members::handlers::get_member))
        .route("/api/chats/{id}", get(chat::get_room))
        .route("/api/messages/{id}", get(chat::history))
        .route(
            "/api/v1/gpt-sys-infos",
            get(prompts::handlers::list_profiles),
        )
        .route(
            "/api/v1/gpt-sys-infos/{id}/dialogues",
            get(prompts::dialogues::dialogues),
        )
        .route(
            "/api/v1/gpt-sys-infos/refbook",
            get(prompts::handlers::list_books),
        )
        .route(
            "/api/v1/gpt-sys-infos/refdata",
            get(prompts::handlers::list_data),
        )
        .route(
            "/api/v1/public-script/",
            get(prompts::public_scripts::list_public_scripts),
        )
}

/// The chat server's "active users": the users online now.
async fn active_users(
    state: State<AppState>,
    caller: Caller,
    Query(params): Query<OnlineParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let params = OnlineParams {
        online: Some(true),
        ..params
    };
    chat::online_users(state, caller, Query(params), min).await
}

/// The chat server's "group rooms": the caller's group rooms.
async fn my_group_rooms(
    state: State<AppState>,
    caller: Caller,
    Query(search): Query<RoomSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    chat::my_rooms(state, caller, Query(of_kind(search, "group")), min).await
}

/// The chat server's "a user's one-to-one rooms": their direct rooms.
async fn direct_rooms(
    state: State<AppState>,
    caller: Caller,
    user: Path<Uuid>,
    Query(search): Query<RoomSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let search = of_kind(search, "direct");
    chat::user_rooms(state, caller, user, Query(search), min).await
}

/// The chat server's "a user's group rooms".
async fn group_rooms(
    state: State<AppState>,
    caller: Caller,
    user: Path<Uuid>,
    Query(search): Query<RoomSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let search = of_kind(search, "group");
    chat::user_rooms(state, caller, user, Query(search), min).await
}

fn of_kind(search: RoomSearch, kind: &str) -> RoomSearch {
    RoomSearch {
        kind: Some(kind.to_owned()),
        ..search
    }
}
