//! The errors context: errors reported by the platform itself and by other applications.
//!
//! - [`sentry`]: what Sentry SDKs send (envelopes, and the client key that authenticates
//!   them), read and recorded, so that any application with a Sentry SDK can report here.

pub mod sentry;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    sentry::router()
}
