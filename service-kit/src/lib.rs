//! What every service of the platform is made of: the process (its settings, logs,
//! metrics, shutdown, the server it runs its APIs and ops routes in), authentication, and
//! the HTTP conventions every API keeps (envelopes, extractors, paging, limits). The
//! projector uses the process half with no API of its own; command-api and query-api use
//! all of it.
//!
//! Layout, the process:
//! - [`config`]: settings every service reads from its environment; secrets never print.
//! - [`telemetry`]: structured logs, scrubbed of secrets, with a filter changed at run
//!   time.
//! - [`capture`]: the platform's own errors (and, when asked, warnings) recorded as
//!   `ErrorLogged` events.
//! - [`log_levels`]: the log filter and capture level admins set, followed by every
//!   process.
//! - [`metrics`]: the Prometheus recorder, per-route request metrics, `/metrics`.
//! - [`sampled`]: what `/metrics` reads when scraped: the process's CPU and memory, the
//!   database pools' connections.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`server`]: services merged into one server with ops routes, served until shutdown;
//!   `/metrics` on a listener of its own.
//! - [`connections`]: a listener's connections served with header-read and idle timeouts.
//! - [`shutdown`]: SIGTERM / Ctrl-C handling.
//! - [`restart`]: background tasks started over after failures, with a growing pause.
//! - [`public_url`]: where clients reach the platform from outside (`PUBLIC_URL`).
//!
//! Authentication:
//! - [`auth`]: access tokens, the [`auth::Caller`] extractor (401 and 403 kept apart) and
//!   [`auth::revocations`], the sessions that ended, known to every instance at once.
//!
//! The HTTP conventions:
//! - [`error`]: the error envelope and [`ApiError`], the one error type handlers return.
//! - [`unavailable`]: which failures mean the database is out of reach for a moment (a
//!   `503` to retry, not a `500`).
//! - [`extract`]: JSON, path and query extractors whose rejections use the envelope.
//! - [`response`]: the success envelope.
//! - [`paging`]: `page` / `size` parameters and paged results.
//! - [`rate_limit`]: limits per client address or per user, with `429` and `RateLimit-*`
//!   headers.
//! - [`layers`]: request ids, tracing, timeouts, body limits, envelopes for bare errors.
//! - [`docs`]: Swagger UI over the generated OpenAPI documents, served offline.

pub mod auth;
pub mod capture;
pub mod config;
pub mod connections;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod layers;
pub mod log_levels;
pub mod metrics;
pub mod paging;
pub mod public_url;
pub mod rate_limit;
pub mod response;
pub mod restart;
pub mod sampled;
pub mod server;
pub mod shutdown;
pub mod telemetry;
pub mod unavailable;

pub use error::{ApiError, ErrorCode};
pub use extract::{Json, Path, Query};
pub use response::{Envelope, ok};
