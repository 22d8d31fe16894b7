//! The projector against a real store: each projection, crash recovery and replay.
//! One test binary, so the workspace links the projector once for all of them.

mod common;

mod board;
mod chat;
mod crash;
mod orders;
mod replay;
