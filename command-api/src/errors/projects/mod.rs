//! Projects other applications report errors to: created by admins, each with a DSN; its
//! name, quota, client key and alert rules changed by admins.

pub mod aggregate;
pub mod handlers;
pub mod input;
pub mod key;

use axum::{
    Router,
    routing::{post, put},
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/errors/projects", post(handlers::create_project))
        .route(
            "/api/v1/errors/projects/{id}",
            put(handlers::update_project),
        )
        .route(
            "/api/v1/errors/projects/{id}/rotate-key",
            post(handlers::rotate_key),
        )
        .route(
            "/api/v1/errors/projects/{id}/alert-rules",
            put(handlers::set_alert_rules),
        )
}
