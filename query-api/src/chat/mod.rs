//! Chat: rooms and history from the read model, live delivery over Server-Sent Events,
//! presence, and the user directory chat needs.
//!
//! A user's stream also carries the status changes of the user's emails: one stream per
//! user for everything live, resumed from one `Last-Event-ID`.
//!
//! - [`hub`]: membership and open streams, fed in log order; delivers each event.
//! - [`feed`]: the chat and email followers' events, merged back into log order.
//! - [`align`]: moves a quiet lane of that merge along by asking the log.
//! - [`fanout`]: what each event changes in the hub and which streams it reaches.
//! - [`stream`]: the SSE endpoints (history since `Last-Event-ID`, then live frames).
//! - [`pauses`] (feature `testing`): holds a stream's opening where a test asks.
//! - [`history`]: what a resuming stream missed, from the read models, in log order.
//! - [`frames`]: SSE frames, rendered once per event.
//! - [`presence`]: who is online across instances, pushed to contacts.
//! - [`handlers`] and [`queries`]: the read endpoints and their SQL.

pub mod align;
pub mod fanout;
pub mod feed;
pub mod frames;
pub mod handlers;
pub mod history;
pub mod hub;
#[cfg(feature = "testing")]
pub mod pauses;
pub mod presence;
pub mod queries;
pub mod stream;

use std::{sync::Arc, time::Duration};

use axum::{Router, routing::get};
use event_log::subscription::EventSource;
use schemas::{DomainEvent, RecordedEvent, chat::ChatEvent};
use sqlx::PgPool;
use tokio::{sync::broadcast::error::RecvError, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use self::{feed::Lane, hub::Hub, presence::Presence};
use crate::{AppState, follow::Invalidate, read_model::ReadModel};

/// Settings of the live streams.
#[derive(Debug, Clone, clap::Args)]
pub struct ChatConfig {
    /// Seconds between heartbeats on an idle stream.
    #[arg(long, env = "CHAT_HEARTBEAT_SECS", default_value_t = 15)]
    pub chat_heartbeat_secs: u64,

    /// Milliseconds a user stays online after their last stream closed.
    #[arg(long, env = "CHAT_PRESENCE_GRACE_MS", default_value_t = 5000)]
    pub chat_presence_grace_ms: u64,

    /// Streams one user may hold open on one instance.
    #[arg(long, env = "CHAT_MAX_STREAMS_PER_USER", default_value_t = 8)]
    pub chat_max_streams_per_user: usize,
}

pub struct ChatReadModel {
    pub progress: ReadModel,
    pub hub: Arc<Hub>,
    pub presence: Arc<Presence>,
    pub heartbeat: Duration,
    /// Ends the open streams when the server shuts down.
    pub shutdown: CancellationToken,
}

impl ChatReadModel {
    pub fn new(config: &ChatConfig, pool: PgPool, shutdown: CancellationToken) -> Self {
        Self {
            progress: ReadModel::new("chat", ChatEvent::CONTEXT),
            hub: Arc::new(Hub::new(config.chat_max_streams_per_user)),
            presence: Presence::new(pool, Duration::from_millis(config.chat_presence_grace_ms)),
            heartbeat: Duration::from_secs(config.chat_heartbeat_secs.max(1)),
            shutdown,
        }
    }

    /// Loads membership as of `after` (the position the stream followers start from) and
    /// starts presence, the session watch and the aligner of the hub's feed.
    pub async fn start(
        &self,
        pool: &PgPool,
        after: i64,
        source: &EventSource,
        revocations: &service_kit::auth::revocations::Revocations,
    ) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let members: Vec<(i64, Uuid)> = sqlx::query_as(
            "SELECT room_id, user_id FROM chat_members ORDER BY room_id, joined_at, user_id",
        )
        .fetch_all(pool)
        .await?;
        let last_email = align::last_at(pool, Lane::Email, after).await?;
        self.hub.load(members, after, last_email);
        let mut tasks = self
            .presence
            .spawn(self.hub.clone(), self.shutdown.clone())
            .await?;
        tasks.push(tokio::spawn(align::run(
            self.hub.clone(),
            pool.clone(),
            align::grace(source),
            self.shutdown.clone(),
        )));
        tasks.push(tokio::spawn(end_revoked_sessions(
            self.hub.clone(),
            revocations.clone(),
            self.shutdown.clone(),
        )));
        Ok(tasks)
    }
}

/// Logout and blocking end the session's open streams at once.
async fn end_revoked_sessions(
    hub: Arc<Hub>,
    revocations: service_kit::auth::revocations::Revocations,
    shutdown: CancellationToken,
) {
    let mut revoked = revocations.subscribe();
    loop {
        let session = tokio::select! {
            session = revoked.recv() => session,
            _ = shutdown.cancelled() => return,
        };
        match session {
            Ok(session) => hub.end_session(session),
            Err(RecvError::Lagged(_)) => hub.end_sessions_where(|s| revocations.is_revoked(s)),
            Err(RecvError::Closed) => return,
        }
    }
}

impl Invalidate for ChatReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn on_event(&self, event: &RecordedEvent) {
        self.hub.push(Lane::Chat, event);
    }

    fn on_through(&self, position: i64) {
        self.hub.advance(Lane::Chat, position);
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    /// Nothing is cached from the tables; the hub follows the stream, not them.
    fn on_reset(&self, _position: i64) {}
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/chats", get(handlers::my_rooms))
        .route("/api/v1/chats/stream", get(stream::user_stream))
        .route("/api/v1/chats/{id}", get(handlers::get_room))
        .route("/api/v1/chats/{id}/stream", get(stream::room_stream))
        .route("/api/v1/chats/{id}/messages", get(handlers::history))
        .route(
            "/api/v1/chats/{id}/messages/{seq}",
            get(handlers::get_message),
        )
        .route("/api/v1/users", get(handlers::online_users))
        .route("/api/v1/users/search", get(handlers::search_users))
        .route("/api/v1/users/{id}/chats", get(handlers::user_rooms))
}
