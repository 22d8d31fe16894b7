//! The errors context's reads.
//!
//! - [`levels`]: the log filter and capture level in force for each service.

pub mod levels;
