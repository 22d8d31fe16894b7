//! Error reports, from whatever sent them to the `ErrorLogged` events the log keeps.
//!
//! - [`grouping`]: the fingerprint that groups errors into issues, their titles and culprits.
//! - [`masking`]: secrets (passwords, tokens, cookies, credentials in URLs) taken out of
//!   log lines and reported errors before anything keeps them.
//! - [`recorder`]: appending reported errors, each once, opening the issue of the first
//!   of each fingerprint.
//! - [`sentry`]: a Sentry SDK's event payload read into the error to record.
//! - [`project`]: a project's state, folded from its events: what authenticates and
//!   limits its reports, and its alert rules.
//! - [`alert`]: an alert folded from its stream, its statuses, and an admin's retry of a
//!   given-up one.

pub mod alert;
pub mod grouping;
pub mod masking;
pub mod project;
pub mod recorder;
pub mod sentry;
