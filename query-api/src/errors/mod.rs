//! The errors context's read side.
//!
//! - [`alerts`]: the alerts raised on reported errors, with every delivery attempt.

pub mod alerts;
