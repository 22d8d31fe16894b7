//! One email as a job: its state folded from its stream, and the rules of every move,
//! shared by the command side (request, cancel, retry) and the worker (attempts). Pure:
//! no I/O here, so both sides decide by the same rules and the tests need no server.
//!
//! Layout:
//! - [`address`]: recipients, parsed as RFC 5322 addresses.
//! - [`job`]: the [`Email`] state and `evolve`.
//! - [`operations`]: what a user or an admin may do to an email (cancel, retry).
//! - [`attempt`]: starting an attempt (the worker's claim) and recording how it ended.
//! - [`backoff`]: how many attempts, and how long to wait between them.

pub mod address;
pub mod attempt;
pub mod backoff;
pub mod job;
pub mod operations;

pub use attempt::Delivery;
pub use backoff::RetryPolicy;
pub use job::{Email, evolve};
pub use operations::{EmailError, Operator};
