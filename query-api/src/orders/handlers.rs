//! The order endpoints: a member's own orders (an admin's: anyone's), filtered, sorted,
//! paged by number or by cursor, and single orders.

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::Serialize;
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    response::Envelope,
};
use utoipa::ToSchema;

use super::{
    CachedOrder,
    listing::{Cursor, Listing, OrderSearch, Start},
    queries::{self, OrderView},
};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render, versioned},
};

/// One page of orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    /// The page number (absent for cursor pages).
    pub page: Option<u32>,
    pub size: u32,
    /// Orders in the whole listing (absent for cursor pages).
    pub total: Option<i64>,
    pub total_pages: Option<i64>,
    /// Pass as `cursor` for the orders after this page; null on the last page.
    pub next_cursor: Option<String>,
}

/// List orders, newest first: a member's own, or (admins) everyone's or one member's.
#[utoipa::path(
    get, path = "/api/v1/orders", tag = "orders",
    params(
        OrderSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of orders", body = inline(Envelope<OrderPage>)),
        (status = 400, description = "Bad filter, paging parameter, cursor or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "A member asked for another member's orders", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<OrderSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let listing = search.parse(&caller)?;
    let model = &state.orders;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.pages.get(&listing) {
        return Ok(json(body, None));
    }
    let page = queries::page(&state.pool, &model.source, &listing)
        .await
        .map_err(ApiError::failure)?;
    let applied = page.applied;
    let body = render(page_of(&listing, page));
    model.pages.insert(listing, body.clone(), applied);
    Ok(json(body, None))
}

fn page_of(listing: &Listing, page: queries::Page) -> OrderPage {
    let next_cursor = page.orders.last().filter(|_| page.more).map(|last| {
        Cursor {
            sort: listing.sort,
            placed_at: last.placed_at,
            number: last.number,
        }
        .encode()
    });
    let size = i64::from(listing.size);
    OrderPage {
        items: page.orders,
        page: match listing.start {
            Start::Page(number) => Some(number),
            Start::After(_) => None,
        },
        size: listing.size,
        total: page.total,
        total_pages: page.total.map(|total| (total + size - 1) / size),
        next_cursor,
    }
}

/// Get one order (its member or an admin), with its version as ETag.
#[utoipa::path(
    get, path = "/api/v1/orders/{number}", tag = "orders",
    params(
        ("number" = i64, Path, description = "Order number"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The order", body = inline(Envelope<OrderView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad number or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Another member's order", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.orders;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let cached = match model.by_number.get(&number) {
        Some(cached) => cached,
        None => {
            let (applied, order) = queries::order(&state.pool, &model.source, number)
                .await
                .map_err(ApiError::failure)?
                .ok_or_else(|| ApiError::not_found(format!("no order with number {number}")))?;
            let cached = CachedOrder {
                version: order.version,
                member_id: order.member_id,
                body: render(order),
            };
            model.by_number.insert(number, cached.clone(), applied);
            cached
        }
    };
    if cached.member_id != caller.user_id && !caller.is_admin() {
        return Err(ApiError::forbidden("this order belongs to another member"));
    }
    Ok(versioned(cached.body, cached.version, &headers))
}
