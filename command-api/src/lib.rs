//! command-api: validates commands, decides their events and appends them.
//!
//! It never reads read models: every decision is taken on the aggregate's own stream.
//!
//! Layout:
//! - [`app`]: configuration, state, the router and the server.
//! - [`command`]: what every command handler shares, in the order a command passes
//!   through it: its context (actor, idempotency key, If-Match), the aggregate it is
//!   decided on, the append (with idempotent replay and numbered creation) and the
//!   response headers.
//! - [`items`]: the items aggregate and its endpoints.
//! - [`identity`]: registration and login; password hashes and sessions.
//! - [`orders`]: the order aggregate (its status machine) and its endpoints.
//! - [`board`]: the post and comment aggregates and their endpoints.
//! - [`chat`]: the room aggregate (membership) and the room and message endpoints.
//! - [`email`]: requesting an email (rate limited per user), cancelling and retrying it,
//!   by the rules of the `email_job` crate.
//! - [`errors`]: errors other applications report through the Sentry protocol, read and
//!   recorded; the projects they report to (admins only) and admins' actions on issues.
//! - [`housekeeping`]: answered idempotency keys and ended sessions deleted once lapsed.
//! - [`prompts`]: users' prompt profiles, reference books and texts (each the owner's
//!   alone; at most 50 profiles a user), and the public scripts admins write.
//! - [`seed_paths`]: the commands at the paths the original assignments named.
//! - [`text`]: the rules of free-text fields.
//! - [`docs`]: the OpenAPI document.

pub mod app;
pub mod board;
pub mod chat;
pub mod command;
pub mod docs;
pub mod email;
pub mod errors;
pub mod housekeeping;
pub mod identity;
pub mod items;
pub mod orders;
pub mod prompts;
pub mod seed_paths;
pub mod text;

pub use app::{AppState, CommandSettings, Config, build, start};
