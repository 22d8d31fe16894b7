//! Items: create, replace and delete items with sequential ids.

pub mod aggregate;
pub mod handlers;
pub mod input;

use axum::{
    Router,
    routing::{post, put},
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/items", post(handlers::create_item))
        .route(
            "/api/v1/items/{id}",
            put(handlers::update_item).delete(handlers::delete_item),
        )
}
