//! Identity: registration, login, refresh and logout, profile and password changes,
//! deletion and blocking, with secrets kept out of the event log.

pub mod account;
pub mod admin;
pub mod handlers;
pub mod input;
pub mod members;
pub mod passwords;
pub mod secrets;
pub mod sessions;

use axum::{
    Router, middleware,
    routing::{delete, patch, post, put},
};
use service_kit::rate_limit::{self, RateLimit};

use crate::AppState;

/// The identity routes; registration and login are rate limited per client address.
pub fn router(limit: RateLimit) -> Router<AppState> {
    let limited = Router::new()
        .route("/api/v1/auth/register", post(handlers::register))
        .route("/api/v1/auth/login", post(handlers::login))
        .route_layer(middleware::from_fn_with_state(limit, rate_limit::enforce));
    Router::new()
        .merge(limited)
        .route("/api/v1/auth/refresh", post(sessions::refresh))
        .route("/api/v1/auth/logout", post(sessions::logout))
        .route("/api/v1/users/me", patch(members::change_profile))
        .route("/api/v1/users/me/password", put(members::change_password))
        .route("/api/v1/members/{id}", delete(members::delete_member))
        .route("/api/v1/members/{id}/block", post(members::block_member))
        .route(
            "/api/v1/members/{id}/unblock",
            post(members::unblock_member),
        )
}
