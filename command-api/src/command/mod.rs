//! What every command handler shares. A command passes through these in order: its
//! context is read, its aggregate loaded, its events appended, its answer rendered.
//!
//! Layout:
//! - [`context`]: who sends a command, under which idempotency key, the version its
//!   `If-Match` expects, the acting user and the time.
//! - [`aggregate`]: the state a command is decided on, folded from its stream.
//! - [`append`]: appending the decided events, and answering a retry (the same
//!   idempotency key) as the first request was answered.
//! - [`numbered`]: creating a stream whose number the store draws as it commits.
//! - [`response`]: the headers of a command's answer and the errors of a refused append.

pub mod aggregate;
pub mod append;
pub mod context;
pub mod numbered;
pub mod response;

pub use aggregate::{Aggregate, fold, load, load_events};
pub use append::{
    Earlier, Outcome, Target, append, append_all, append_together, earlier_outcome, replay,
};
pub use context::{Actor, CommandContext, IDEMPOTENCY_KEY, expected_version, if_match, now};
pub use numbered::{NumberedAggregate, UNNUMBERED, answer_numbered, create_numbered};
pub use response::{X_POSITION, append_error, created_or_ok, etag, position_headers};
