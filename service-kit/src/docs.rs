//! Swagger UI over the services' generated OpenAPI documents, with its assets built in
//! so it works without internet access.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Every document of the platform. Behind the reverse proxy each service serves its
/// own, and Swagger UI offers all of them.
pub const PLATFORM_DOCUMENTS: &[&str] = &["/api-docs/command.json", "/api-docs/query.json"];

/// Serves each document at its URL and Swagger UI at `/docs`, listing the served
/// documents first and the platform's other documents after them.
pub fn routes(documents: Vec<(&'static str, OpenApi)>) -> Router {
    let mut urls: Vec<&str> = documents.iter().map(|(url, _)| *url).collect();
    for url in PLATFORM_DOCUMENTS {
        if !urls.contains(url) {
            urls.push(url);
        }
    }
    let mut ui = SwaggerUi::new("/docs").config(Config::new(urls));
    for (url, document) in documents {
        ui = ui.url(url, document);
    }
    Router::new().merge(ui)
}
