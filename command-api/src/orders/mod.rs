//! Orders: placing them and moving them through PLACED -> PAID -> SHIPPED -> DELIVERED,
//! or CANCELLED from PLACED or PAID.

pub mod aggregate;
pub mod handlers;
pub mod input;

use axum::{Router, routing::post};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", post(handlers::place_order))
        .route(
            "/api/v1/orders/{number}/{action}",
            post(handlers::move_order),
        )
}
