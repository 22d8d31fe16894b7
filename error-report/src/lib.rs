//! Error reports, from whatever sent them to the `ErrorLogged` events the log keeps.
//!
//! - [`masking`]: secrets (passwords, tokens, cookies, credentials in URLs) taken out of
//!   log lines and reported errors before anything keeps them.
//! - [`project`]: a project's state, folded from its events: what authenticates and
//!   limits its reports, and its alert rules.
//! - [`alert`]: the statuses of an alert's delivery.

pub mod alert;
pub mod masking;
pub mod project;
