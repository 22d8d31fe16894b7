//! The projector against a real store: each projection, crash recovery and replay.
//! One test binary, so the workspace links the projector once for all of them.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

mod alerts;
mod board;
mod chat;
mod crash;
mod errors;
mod mail_notices;
mod orders;
mod prompts;
mod replay;
