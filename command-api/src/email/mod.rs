//! Email: a user asks for an email to be sent and is answered at once; a worker in the
//! projector process sends it. Here are the commands: requesting one (rate limited per
//! user), cancelling it before it is sent, and an admin's retry of one that failed.

pub mod aggregate;
pub mod handlers;
pub mod input;

use axum::{Router, routing::post};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/emails", post(handlers::request_email))
        .route("/api/v1/emails/{id}/cancel", post(handlers::cancel_email))
        .route("/api/v1/emails/{id}/retry", post(handlers::retry_email))
}
