//! The item endpoints.

use axum::{extract::State, http::HeaderMap, response::Response};
use service_kit::{
    ApiError, Path, Query,
    error::ErrorBody,
    paging::{PageParams, Paged},
    response::Envelope,
};

use super::{CachedItem, queries};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render, versioned},
};

/// List items by id, paged.
#[utoipa::path(
    get, path = "/api/v1/items", tag = "items",
    params(
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of items", body = inline(Envelope<Paged<queries::ItemView>>)),
        (status = 400, description = "Bad paging parameters or position", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    )
)]
pub async fn list_items(
    State(state): State<AppState>,
    Query(params): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let page = params.validate()?;
    let model = &state.items;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.pages.get(&page) {
        return Ok(json(body, None));
    }
    let (applied, total, items) = queries::page(&state.pool, &state.source, page)
        .await
        .map_err(ApiError::failure)?;
    let body = render(page.of_counted(items, total));
    model.pages.insert(page, body.clone(), applied);
    Ok(json(body, None))
}

/// Get one item, with its version as ETag.
#[utoipa::path(
    get, path = "/api/v1/items/{id}", tag = "items",
    params(
        ("id" = i64, Path, description = "Item id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The item", body = inline(Envelope<queries::ItemView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    )
)]
pub async fn get_item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.items;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let cached = match model.by_id.get(&id) {
        Some(cached) => cached,
        None => {
            let (applied, item) = queries::item(&state.pool, &state.source, id)
                .await
                .map_err(ApiError::failure)?
                .ok_or_else(|| ApiError::not_found(format!("no item with id {id}")))?;
            let cached = CachedItem {
                version: item.version,
                body: render(item),
            };
            model.by_id.insert(id, cached.clone(), applied);
            cached
        }
    };
    Ok(versioned(cached.body, cached.version, &headers))
}
