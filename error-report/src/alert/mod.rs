//! An alert on one channel, as its stream `alert-<id>` describes it. The delivery worker
//! (in the projector) and an admin's retry (in command-api) decide on the same stream, so
//! both fold it and judge it by the code here.
//!
//! - [`status`]: where an alert is in its delivery, by name.
//! - [`job`]: the alert folded from its events, and its allowance of attempts.
//! - [`retry`]: an admin asking for a given-up alert to be tried again.

pub mod job;
pub mod retry;
pub mod status;

pub use job::{Alert, evolve};
pub use retry::{NotGivenUp, retry};
pub use status::AlertStatus;
