//! The write face of the event store: appending to PostgreSQL, and the outbox relay that
//! publishes the log to Kafka. Reading and following the log is `event-log`'s.
//!
//! Layout:
//! - [`append`]: what an append asks for and what it produced.
//! - [`appender`]: the group-commit writer that turns concurrent appends into one transaction.
//! - [`store`]: [`EventStore`], the API commands append through.
//! - [`relay`]: publishes the log to Kafka in position order, resuming from its checkpoint.

pub mod append;
mod appender;
mod error;
pub mod relay;
mod rows;
pub mod store;

pub use append::{AppendRequest, Appended, ExpectedVersion, Idempotency, Numbered};
pub use error::AppendError;
pub use store::EventStore;
