//! The order endpoints: placing an order and moving it through the status machine.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use event_store::{AppendError, Appended, Numbered};
use schemas::orders::{self, OrderEvent, OrderStatus};
use serde::Serialize;
use serde_json::json;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    aggregate::{self, Order, OrderAction, OrderCommand, OrderError},
    input::OrderInput,
};
use crate::{
    AppState,
    command::{self, Actor, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for Order {
    /// Order numbers: the sequence, the stream of order `n` (`order-n`) and the payload
    /// field that carries the number.
    const NUMBERS: Numbered = Numbered {
        sequence: "order_numbers",
        stream_prefix: orders::STREAM_PREFIX,
        field: "number",
    };

    fn assign_number(event: &mut OrderEvent, number: i64) {
        if let OrderEvent::Placed(placed) = event {
            placed.number = number;
        }
    }
}

/// An order as the command left it, and the global position that records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderWritten {
    pub number: i64,
    pub member_id: Uuid,
    pub product_name: String,
    pub quantity: i32,
    /// In the currency's minor unit.
    pub unit_price: i64,
    /// Quantity times unit price, in the currency's minor unit.
    pub total_price: i64,
    pub note: String,
    #[schema(value_type = String, example = "PLACED")]
    pub status: OrderStatus,
    /// The order date, set by the server.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: OffsetDateTime,
    /// Version of the order; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position` to read
    /// your own write.
    pub position: i64,
}

/// Place an order as the calling member; its number is the next sequential number.
#[utoipa::path(
    post, path = "/api/v1/orders", tag = "orders",
    request_body = OrderInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Placed", body = inline(service_kit::Envelope<OrderWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 422, description = "Invalid fields (every broken rule in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn place_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<OrderInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "PlaceOrder", &fields)?;
    let respond = |order, appended: &Appended| respond(order, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let command = OrderCommand::PlaceOrder {
        number: UNNUMBERED,
        member_id: caller.user_id,
        fields,
        at: command::now(),
    };
    let events = aggregate::decide(None, command).expect("a new order can always be placed");
    command::create_numbered(&state.store, &context, events, respond).await
}

/// Move an order through its status machine: `pay` (PLACED -> PAID, the member or an
/// admin), `ship` (PAID -> SHIPPED, an admin), `deliver` (SHIPPED -> DELIVERED, an admin),
/// `cancel` (PLACED or PAID -> CANCELLED, the member or an admin).
#[utoipa::path(
    post, path = "/api/v1/orders/{number}/{action}", tag = "orders",
    params(
        ("number" = i64, Path, description = "Order number"),
        ("action" = OrderAction, Path, description = "pay, ship, deliver or cancel"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the move is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Moved", body = inline(service_kit::Envelope<OrderWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller may not make this move", body = ErrorBody),
        (status = 404, description = "No such order or action", body = ErrorBody),
        (status = 409, description = "The move is not allowed from the current status (details.current_status), or a stale If-Match", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn move_order(
    State(state): State<AppState>,
    caller: Caller,
    Path((number, action)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let action = OrderAction::ALL
        .into_iter()
        .find(|a| a.as_str() == action)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no order action {action:?}: use pay, ship, deliver or cancel"
            ))
        })?;
    let if_match = command::if_match(&headers)?;
    let operation = format!("{} order {number}", action.as_str());
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, &operation, &())?;
    let respond = |order, appended: &Appended| respond(order, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let by = Actor::of(&caller);
    let order = command::load::<Order>(&state.store, &orders::stream_id(number), None)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order with number {number}")))?;
    let expected = command::expected_version(order.version, if_match)?;
    let command = OrderCommand::Move {
        action,
        by,
        at: command::now(),
    };
    let events = aggregate::decide(Some(&order), command).map_err(order_error)?;
    let target = Target::Stream(orders::stream_id(number), expected);
    match command::append(&state.store, &context, target, &events).await {
        Ok(outcome) => {
            outcome
                .answer(&state.store, Some(order), &events, respond)
                .await
        }
        // Another move of the order committed first: it won, and this one is refused
        // with the status it met, as every refused move is.
        Err(AppendError::Conflict { .. }) => Err(moved_concurrently(&state, number, action).await),
        Err(err) => Err(command::append_error(err)),
    }
}

/// The 409 of a move that lost a race: names the status the winner left.
async fn moved_concurrently(state: &AppState, number: i64, action: OrderAction) -> ApiError {
    let current = match command::load::<Order>(&state.store, &orders::stream_id(number), None).await
    {
        Ok(Some(order)) => order,
        Ok(None) => return ApiError::internal("a moved order has no state"),
        Err(err) => return err,
    };
    ApiError::conflict(format!(
        "the order was moved concurrently: it is {} now and this {} was not applied",
        current.status,
        action.as_str()
    ))
    .with_details(json!({
        "current_status": current.status,
        "current_version": current.version,
        "action": action.as_str(),
    }))
}

fn respond(order: Option<Order>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(order) = order else {
        return ApiError::internal("an appended order has no state").into_response();
    };
    if created {
        let location = format!("/api/v1/orders/{}", order.number);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("numbers are valid in headers"),
        );
    }
    let body = OrderWritten {
        number: order.number,
        member_id: order.member_id,
        total_price: order.total_price(),
        product_name: order.product_name,
        quantity: order.quantity,
        unit_price: order.unit_price,
        note: order.note,
        status: order.status,
        placed_at: order.placed_at,
        version: order.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}

fn order_error(err: OrderError) -> ApiError {
    match err {
        OrderError::NotFound => ApiError::not_found(err.to_string()),
        OrderError::Forbidden(..) => ApiError::forbidden(err.to_string()),
        OrderError::AlreadyExists => ApiError::conflict(err.to_string()),
        OrderError::InvalidTransition { current, action } => ApiError::conflict(err.to_string())
            .with_details(json!({
                "current_status": current,
                "action": action,
            })),
    }
}
