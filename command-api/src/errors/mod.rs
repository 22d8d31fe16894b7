//! The errors context: errors reported by the platform itself and by other applications.
//!
//! - [`levels`]: the log filter and capture level admins set at run time.
//! - [`sentry`]: reading what Sentry SDKs send (envelopes, and the client key that
//!   authenticates them), so that any application with a Sentry SDK can report here.

pub mod levels;
pub mod sentry;
