//! Issues as admins act on them: resolve, mute and reopen. Issues are opened by their
//! first error, by whatever records it.

pub mod aggregate;
pub mod handlers;
pub mod regression;

use axum::{Router, routing::post};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/errors/issues/{id}/resolve",
            post(handlers::resolve_issue),
        )
        .route(
            "/api/v1/errors/issues/{id}/mute",
            post(handlers::mute_issue),
        )
        .route(
            "/api/v1/errors/issues/{id}/reopen",
            post(handlers::reopen_issue),
        )
}
