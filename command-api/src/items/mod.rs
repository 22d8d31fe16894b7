//! Items: create, replace and delete items with sequential ids.

pub mod aggregate;
pub mod handlers;
pub mod input;

use axum::{
    Router, middleware,
    routing::{post, put},
};
use service_kit::rate_limit::{self, RateLimit};

use crate::AppState;

/// The item routes. Anyone may write items and every write stays in the log for good, so
/// writes are limited per client address when `limit` is given.
pub fn router(limit: Option<RateLimit>) -> Router<AppState> {
    let router = Router::new()
        .route("/api/v1/items", post(handlers::create_item))
        .route(
            "/api/v1/items/{id}",
            put(handlers::update_item).delete(handlers::delete_item),
        );
    match limit {
        Some(limit) => {
            router.route_layer(middleware::from_fn_with_state(limit, rate_limit::enforce))
        }
        None => router,
    }
}
