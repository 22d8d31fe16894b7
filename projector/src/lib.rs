//! projector: builds the PostgreSQL read models from the event stream, and rebuilds them.
//!
//! Layout:
//! - [`app`]: configuration, the `run` and `replay` commands, the ops server.
//! - [`projection`]: the [`Projection`] trait (name, context, tables and how events
//!   apply), [`AnyProjection`] that holds any of them, and the physical tables they write.
//! - [`runner`]: follows a subscription and applies batches with their checkpoint in one
//!   transaction, so a crash or a redelivery never loses or doubles an update.
//! - [`failpoint`]: pauses, armed by the environment, where tests kill the process or
//!   append meanwhile (inside a batch, after its commit, before a replay's swap).
//! - [`lag`]: projection lag metrics, in events and seconds.
//! - [`replay`]: rebuilds a projection into new tables and swaps them in when caught up.
//! - [`progress`]: a progress bar on a terminal, plain lines otherwise.
//! - [`items`]: the items read model.
//! - [`members`]: the members read model (user accounts).
//! - [`orders`]: the orders read model and its counts per member and status.
//! - [`board`]: posts, their bodies and comments.
//! - [`chat`]: rooms with their last message, members with their read markers, and
//!   messages by room and sequence.
//! - [`email`]: emails with their status (the worker's queue) and their attempts.
//! - [`errors`]: projects, issues (their status, counts and latest error), every error,
//!   and counts per level and minute.
//! - [`prompts`]: users' prompt profiles with their links, reference books and texts;
//!   admins' public scripts.
//! - [`alerts`]: alerts on reported errors: the rules reactor that raises them, their
//!   read model (the delivery worker's queue) and the worker that delivers them to Slack
//!   webhooks and by email.
//! - [`mail`]: the reactors that send mail: the email worker, and the mail the platform
//!   sends on its own (welcome, order confirmation and shipping notice).
//! - [`queue`]: the loop a delivery worker (email, alerts) runs over its queue of due jobs.

pub mod alerts;
pub mod app;
pub mod board;
pub mod chat;
pub mod email;
pub mod errors;
pub mod failpoint;
pub mod items;
pub mod lag;
pub mod mail;
pub mod members;
pub mod orders;
pub mod progress;
pub mod projection;
pub mod prompts;
pub mod queue;
pub mod replay;
pub mod runner;

pub use app::{Command, Config, ProjectorSettings};
pub use projection::{AnyProjection, Projection, Tables, all as projections};
