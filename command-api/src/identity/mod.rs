//! Identity: registration, login, refresh and logout, with secrets kept out of the event
//! log.

pub mod account;
pub mod admin;
pub mod handlers;
pub mod input;
pub mod passwords;
pub mod secrets;
pub mod sessions;

use axum::{Router, routing::post};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", post(handlers::register))
        .route("/api/v1/auth/login", post(handlers::login))
        .route("/api/v1/auth/refresh", post(sessions::refresh))
        .route("/api/v1/auth/logout", post(sessions::logout))
}
