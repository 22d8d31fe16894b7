//! Swagger UI over the services' generated OpenAPI documents, with its assets built in
//! so it works without internet access, and what every document holds to.
//!
//! Layout:
//! - [`aliases`]: the seeds' own paths, documented as deprecated copies of canonical ones.
//! - [`rejections`]: the statuses the shared extractors answer, documented everywhere.
//! - [`refs`]: every `$ref` leads somewhere.
//! - [`events`]: the schema of one event of a `text/event-stream` response.

pub mod aliases;
pub mod events;
pub mod refs;
pub mod rejections;

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

/// The operations of a document that ask for an access token but do not document the
/// `401` with the error envelope ([`crate::error::Unauthorized`]), as `METHOD path`.
pub fn missing_unauthorized(document: &OpenApi) -> Vec<String> {
    let document = serde_json::to_value(document).expect("a document serializes");
    let Some(paths) = document["paths"].as_object() else {
        return Vec::new();
    };
    let mut missing = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let needs_token = operation["security"]
                .as_array()
                .is_some_and(|schemes| schemes.iter().any(|s| s.get("bearer").is_some()));
            let schema = &operation["responses"]["401"]["content"]["application/json"]["schema"];
            if needs_token && schema["$ref"] != "#/components/schemas/ErrorBody" {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    missing
}
