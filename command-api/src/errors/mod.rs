//! The errors context: errors reported by the platform itself and by other applications.
//!
//! - [`sentry`]: what Sentry SDKs send (envelopes, and the client key that authenticates
//!   them), read and recorded, so that any application with a Sentry SDK can report here.
//! - [`projects`]: the projects applications report to (admins create them, each with a
//!   DSN) and their alert rules.
//! - [`issues`]: admins resolving, muting and reopening issues.
//! - [`alerts`]: admins trying a given-up alert again.
//! - [`levels`]: the log filter and capture level admins set at run time.

pub mod alerts;
pub mod issues;
pub mod levels;
pub mod projects;
pub mod sentry;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    projects::router()
        .merge(issues::router())
        .merge(alerts::router())
        .merge(sentry::router())
}
