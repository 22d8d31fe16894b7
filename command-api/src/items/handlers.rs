//! The item endpoints.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use schemas::items::{self, ItemEvent};
use serde::Serialize;
use service_kit::{ApiError, Json, Path, error::ErrorBody, ok};
use utoipa::ToSchema;

use super::{
    aggregate::{self, Item, ItemCommand, ItemError},
    input::ItemInput,
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for Item {
    /// Item ids: the sequence, the stream of item `n` (`item-n`) and the payload field
    /// that carries the id.
    const NUMBERS: Numbered = Numbered {
        sequence: "item_ids",
        stream_prefix: items::STREAM_PREFIX,
        field: "id",
    };

    fn assign_number(event: &mut ItemEvent, number: i64) {
        if let ItemEvent::Created(created) = event {
            created.id = number;
        }
    }
}

/// An item as the command left it, and the global position that records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemWritten {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Version of the item; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position` to read
    /// your own write.
    pub position: i64,
}

/// Create an item; its id is the next sequential number.
#[utoipa::path(
    post, path = "/api/v1/items", tag = "items",
    request_body = ItemInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<ItemWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many item writes from this address this minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
    )
)]
pub async fn create_item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<ItemInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let context = CommandContext::new(&headers, None, "CreateItem", &fields)?;
    let respond = |item, appended: &Appended| respond(item, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let command = ItemCommand::CreateItem {
        id: UNNUMBERED,
        fields,
    };
    let events = aggregate::decide(None, command).expect("a new item can always be created");
    command::create_numbered(&state.store, &context, events, respond).await
}

/// Replace an item's name and description.
#[utoipa::path(
    put, path = "/api/v1/items/{id}", tag = "items",
    request_body = ItemInput,
    params(
        ("id" = i64, Path, description = "Item id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Updated", body = inline(service_kit::Envelope<ItemWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many item writes from this address this minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
    )
)]
pub async fn update_item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<ItemInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let if_match = command::if_match(&headers)?;
    let context = CommandContext::new(&headers, None, &format!("UpdateItem {id}"), &fields)?;
    let command = ItemCommand::UpdateItem { fields };
    change(&state, context, id, if_match, command).await
}

/// Delete an item.
#[utoipa::path(
    delete, path = "/api/v1/items/{id}", tag = "items",
    params(
        ("id" = i64, Path, description = "Item id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the deletion is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 429, description = "Too many item writes from this address this minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
    )
)]
pub async fn delete_item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(&headers)?;
    let context = CommandContext::new(&headers, None, &format!("DeleteItem {id}"), &())?;
    change(&state, context, id, if_match, ItemCommand::DeleteItem).await
}

/// Changes an existing item: answers a retry as the first request was answered, or
/// loads the item, checks `If-Match`, decides, appends and answers.
async fn change(
    state: &AppState,
    context: CommandContext,
    id: i64,
    if_match: Option<i64>,
    command: ItemCommand,
) -> Result<Response, ApiError> {
    if let Some(response) =
        command::replay(&state.store, &context, |s, a| respond(s, a, false)).await?
    {
        return Ok(response);
    }
    let item = load_live(state, id).await?;
    let expected = command::expected_version(item.version, if_match)?;
    let current = Some(item);
    let events = aggregate::decide(current.as_ref(), command).map_err(item_error)?;
    let target = Target::Stream(items::stream_id(id), expected);
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, current, &events, |s, a| respond(s, a, false))
        .await
}

fn respond(item: Option<Item>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(item) = item.filter(|item| !item.deleted) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("/api/v1/items/{}", item.id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = ItemWritten {
        id: item.id,
        name: item.name,
        description: item.description,
        version: item.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}

/// The item, unless it never existed or was deleted.
async fn load_live(state: &AppState, id: i64) -> Result<Item, ApiError> {
    command::load::<Item>(&state.store, &items::stream_id(id), None)
        .await?
        .filter(|item| !item.deleted)
        .ok_or_else(|| ApiError::not_found(format!("no item with id {id}")))
}

fn item_error(err: ItemError) -> ApiError {
    match err {
        ItemError::NotFound => ApiError::not_found(err.to_string()),
        ItemError::AlreadyExists => ApiError::conflict(err.to_string()),
    }
}
