//! The read face of the event store: reading the log, following it from PostgreSQL or
//! Kafka, and the checkpoints of those who follow it. Nothing here appends: services that
//! only read (query-api, the projections) depend on this crate alone, so the compiler
//! keeps them from writing events; appending is `event-store`'s.
//!
//! Layout:
//! - [`database`]: connecting, creating and migrating the platform's database.
//! - [`read`]: [`EventLog`]: a stream's events, the log from a position, the log's head.
//! - [`checkpoint`]: how far each projection has applied the log, and the notice of each
//!   move: written by the projector, read by query-api.
//! - [`kafka`]: client settings and topic management shared by the relay and subscriptions.
//! - [`subscription`]: follow the log either from Kafka or straight from PostgreSQL.

pub mod checkpoint;
pub mod database;
mod error;
pub mod kafka;
pub mod read;
mod rows;
pub mod subscription;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{StoreError, unreachable};
pub use read::EventLog;
