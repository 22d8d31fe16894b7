//! The event store on PostgreSQL, its outbox relay to Kafka, and subscriptions.
//!
//! Layout:
//! - [`database`]: connecting, creating and migrating the platform's database.
//! - [`append`]: what an append asks for and what it produced.
//! - [`appender`]: the group-commit writer that turns concurrent appends into one transaction.
//! - [`checkpoint`]: reading how far a projection has applied the log.
//! - [`store`]: [`EventStore`], the API commands and readers use.
//! - [`relay`]: publishes the log to Kafka in position order, resuming from its checkpoint.
//! - [`kafka`]: client settings and topic management shared by the relay and subscriptions.
//! - [`subscription`]: follow the log either from Kafka or straight from PostgreSQL.

pub mod append;
mod appender;
pub mod checkpoint;
pub mod database;
mod error;
pub mod kafka;
pub mod relay;
mod rows;
pub mod store;
pub mod subscription;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use append::{AppendRequest, Appended, ExpectedVersion, Idempotency, Numbered};
pub use error::{AppendError, StoreError};
pub use store::EventStore;
