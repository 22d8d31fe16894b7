//! Swagger UI over the services' generated OpenAPI documents, with its assets built in
//! so it works without internet access.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Serves each document at its URL and Swagger UI at `/docs`.
pub fn routes(documents: Vec<(&'static str, OpenApi)>) -> Router {
    let mut ui = SwaggerUi::new("/docs");
    for (url, document) in documents {
        ui = ui.url(url, document);
    }
    Router::new().merge(ui)
}
