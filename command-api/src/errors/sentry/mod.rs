//! The Sentry ingestion protocol, as the SDKs speak it: an envelope of items, of which
//! only `event` items carry errors, authenticated by the project's public key.
//!
//! - [`envelope`]: an envelope's header and items, framed by length or by line.
//! - [`auth`]: the client key, from `X-Sentry-Auth`, the query string or the DSN.
//! - [`projects`]: the projects reports are checked against, cached for a few seconds.
//! - [`quota`]: each project's events a minute, refused the way SDKs understand.
//! - [`ingest`]: the `envelope` and `store` endpoints.

pub mod auth;
pub mod envelope;
pub mod ingest;
pub mod projects;
pub mod quota;

use std::time::Duration;

use axum::{Router, extract::DefaultBodyLimit, routing::post};
use error_report::recorder::Recorder;
use event_store::EventStore;
use service_kit::layers::LargerBodies;
use tower_http::decompression::RequestDecompressionLayer;

use crate::AppState;

/// What ingestion keeps between requests.
#[derive(Clone)]
pub struct Ingest {
    pub projects: projects::Projects,
    pub quotas: quota::Quotas,
    pub recorder: Recorder,
}

impl Ingest {
    /// Projects are read again once `project_ttl` old.
    pub fn new(store: EventStore, project_ttl: Duration) -> Self {
        Self {
            projects: projects::Projects::new(store.clone(), project_ttl),
            quotas: quota::Quotas::default(),
            recorder: Recorder::new(store),
        }
    }
}

/// The endpoints at the paths SDKs derive from a DSN, with and without the trailing slash
/// they send. Bodies are decompressed (`gzip`, `deflate`, `br`) before they are read.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/{project_id}/envelope/", post(ingest::envelope))
        .route("/api/{project_id}/envelope", post(ingest::envelope))
        .route("/api/{project_id}/store/", post(ingest::store))
        .route("/api/{project_id}/store", post(ingest::store))
        .layer(DefaultBodyLimit::max(ingest::MAX_ENVELOPE_BYTES))
        .layer(RequestDecompressionLayer::new())
}

/// The body limit of the ingestion paths, which the server applies before any route: an
/// envelope may be larger than any command.
pub fn larger_bodies() -> LargerBodies {
    LargerBodies {
        path: is_ingestion_path,
        max_bytes: ingest::MAX_ENVELOPE_BYTES,
    }
}

/// `/api/<number>/envelope[/]` or `/api/<number>/store[/]`.
fn is_ingestion_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/") else {
        return false;
    };
    let Some((project, endpoint)) = rest.split_once('/') else {
        return false;
    };
    !project.is_empty()
        && project.bytes().all(|b| b.is_ascii_digit())
        && matches!(endpoint, "envelope" | "envelope/" | "store" | "store/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_ingestion_paths_take_larger_bodies() {
        for path in ["/api/7/envelope/", "/api/7/envelope", "/api/12/store/"] {
            assert!(is_ingestion_path(path), "{path}");
        }
        for path in [
            "/api/v1/items",
            "/api/7/other/",
            "/api//envelope/",
            "/api/7/envelope/x",
        ] {
            assert!(!is_ingestion_path(path), "{path}");
        }
    }
}
