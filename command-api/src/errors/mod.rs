//! The errors context: errors reported by the platform itself and by other applications.
//!
//! - [`sentry`]: what Sentry SDKs send (envelopes, and the client key that authenticates
//!   them), read and recorded, so that any application with a Sentry SDK can report here.
//! - [`projects`]: the projects applications report to (admins create them, each with a
//!   DSN) and their alert rules.
//! - [`issues`]: admins resolving, muting and reopening issues.

pub mod issues;
pub mod projects;
pub mod sentry;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    projects::router()
        .merge(issues::router())
        .merge(sentry::router())
}
