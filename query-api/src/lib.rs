//! query-api: serves the read models, cached, with read-your-writes on demand.
//!
//! It never appends events. It follows the event stream itself (Kafka or the
//! PostgreSQL log) to invalidate its caches, and learns how far each projection has
//! applied the log from the projector's notifications.
//!
//! Layout:
//! - [`app`]: configuration, state, the router and the server.
//! - [`read_model`]: how far a read model has applied the log, and waiting for it.
//! - [`consistency`]: the `X-Min-Position` header.
//! - [`cache`]: a moka cache that never serves data older than what it has been told of.
//! - [`follow`]: the background tasks that feed both from the stream and the projector.
//! - [`items`]: the items endpoints.
//! - [`members`]: one's own profile and the member list.
//! - [`orders`]: order listings (filtered, by page or cursor) and single orders.
//! - [`board`]: post listings, posts and their comments.
//! - [`chat`]: rooms, history, live streams (SSE) and presence; a user's stream also
//!   carries their emails' status changes.
//! - [`email`]: emails with their attempts, and listings (operators: by status).
//! - [`dashboard`]: the live tail of collected records the errors dashboard follows.
//! - [`errors`]: error tracking for admins: projects with their DSNs, issues with their
//!   latest error, an issue's errors, counts per level per minute, alerts with their
//!   delivery attempts, and the log levels in force.
//! - [`prompts`]: one's own prompt profiles (now, or as they were at a position, with
//!   their history and dialogues), reference books and texts; the public scripts.
//! - [`pages`]: the chat page, the errors dashboard and the session script they share.
//! - [`seed_paths`]: the reads at the paths the original assignments named.
//! - [`respond`]: responses rendered once, so cached bodies are sent as they are.
//! - [`docs`]: the OpenAPI document.

pub mod app;
pub mod board;
pub mod cache;
pub mod chat;
pub mod consistency;
pub mod dashboard;
pub mod docs;
pub mod email;
pub mod errors;
pub mod follow;
pub mod items;
pub mod members;
pub mod orders;
pub mod pages;
pub mod prompts;
pub mod read_model;
pub mod respond;
pub mod seed_paths;
pub mod snapshot;

pub use app::{AppState, Config, QuerySettings, build, start};
