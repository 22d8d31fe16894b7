//! The errors dashboard's live tail of collected records, which the page (in
//! [`crate::pages`]) follows over Server-Sent Events.
//!
//! - [`tail`]: follows the errors context and broadcasts each record.
//! - [`stream`]: `GET /api/v1/errors/stream`, history from the log then live records.
//! - [`history`]: the records a stream starts with, from the log.
//! - [`filter`]: minimum level, service, project and text.

pub mod filter;
pub mod history;
pub mod stream;
pub mod tail;

use std::sync::Arc;

use axum::{Router, routing::get};
use event_log::subscription::EventSource;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::tail::Tail;
use crate::AppState;

pub struct Dashboard {
    pub tail: Arc<Tail>,
    /// Ends the open tails (before the server drains its connections).
    pub shutdown: CancellationToken,
}

impl Dashboard {
    /// Starts following the errors context from the head of the log.
    pub async fn start(
        pool: &PgPool,
        source: &EventSource,
        shutdown: CancellationToken,
    ) -> anyhow::Result<(Arc<Self>, JoinHandle<()>)> {
        let head = event_log::read::head(pool).await?;
        let tail = Arc::new(Tail::new());
        let follower = tokio::spawn(tail.clone().follow(source.clone(), head, shutdown.clone()));
        Ok((Arc::new(Self { tail, shutdown }), follower))
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/errors/stream", get(stream::tail_stream))
}
