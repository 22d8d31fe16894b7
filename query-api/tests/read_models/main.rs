//! query-api's reads against a real store: events written with the event store, read
//! models built by the projector's own projections, then queried as the endpoints do.
//! One test binary, so the workspace links query-api and the projector once for all.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

mod email_queries;
mod error_queries;
mod stream_feed;
