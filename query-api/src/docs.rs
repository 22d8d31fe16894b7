//! The OpenAPI document of query-api, generated from the handlers.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "query-api", description = "Queries of the event-sourced platform. Send `X-Min-Position` with a position from a command response to read your own write."),
    paths(crate::items::handlers::list_items, crate::items::handlers::get_item),
    components(schemas(http_kit::error::ErrorBody, http_kit::ApiError, http_kit::ErrorCode)),
    tags((name = "items", description = "Items with sequential ids"))
)]
struct QueryApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    QueryApiDoc::openapi()
}
