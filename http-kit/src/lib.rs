//! HTTP plumbing shared by the platform's services.
//!
//! Layout:
//! - [`auth`]: access tokens and the [`auth::Caller`] extractor (401 and 403 kept apart).
//! - [`config`]: settings every service reads from its environment.
//! - [`error`]: the error envelope and [`ApiError`], the one error type handlers return.
//! - [`extract`]: JSON, path and query extractors whose rejections use the envelope.
//! - [`revocations`]: revoked sessions, known to every instance at once.
//! - [`rate_limit`]: per-client-address limits with `429` and `RateLimit-*` headers.
//! - [`response`]: the success envelope.
//! - [`layers`]: request ids, tracing, timeouts, body limits, envelopes for bare errors.
//! - [`metrics`]: the Prometheus recorder, per-route request metrics, `/metrics`.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`docs`]: Swagger UI over the generated OpenAPI documents, served offline.
//! - [`telemetry`]: structured logs.
//! - [`server`]: services merged into one server with ops routes, served until shutdown.
//! - [`shutdown`]: SIGTERM / Ctrl-C handling.
//! - [`paging`]: `page` / `size` parameters and paged results.

pub mod auth;
pub mod config;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod layers;
pub mod metrics;
pub mod paging;
pub mod rate_limit;
pub mod response;
pub mod revocations;
pub mod server;
pub mod shutdown;
pub mod telemetry;

pub use error::{ApiError, ErrorCode};
pub use extract::{Json, Path, Query};
pub use response::{Envelope, ok};
