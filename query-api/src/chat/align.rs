//! Moves a quiet lane of the hub's feed along by asking the log.
//!
//! From Kafka a lane's `through` moves only when its own topic delivers an event, so while
//! nobody's email changes, chat frames would wait for the email lane indefinitely (and
//! email frames for the chat lane while nobody chats). The log knows better: positions
//! are gapless and commit in order, so if the next event of the quiet lane's context lies
//! beyond some position, or there is none up to the log's head, the lane has nothing to
//! deliver until there and may be taken to have come that far. When the next event lies
//! before the waiting one, the lane moves up to it and its subscription brings the rest.
//!
//! From the PostgreSQL log both lanes follow the head by themselves; the aligner is a
//! backstop there and waits a moment before asking, as a lane is rarely behind for longer.

use std::{sync::Arc, time::Duration};

use event_log::subscription::EventSource;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    feed::{Lag, Lane},
    hub::Hub,
};

/// Waits before asking again after the log could not be read.
const RETRY: Duration = Duration::from_millis(500);
/// How long a lane following the PostgreSQL log may lag before the log is asked.
const LOG_GRACE: Duration = Duration::from_millis(50);

/// How long a lane may lag before the log is asked: at once from Kafka, where a quiet lane
/// never catches up by itself.
pub fn grace(source: &EventSource) -> Duration {
    match source {
        EventSource::Kafka(_) => Duration::ZERO,
        EventSource::PgLog(_) => LOG_GRACE,
    }
}

/// The last event of `lane` at or below `position` (0 when there is none): where the lane
/// stood when the hub starts at `position`.
pub async fn last_at(pool: &PgPool, lane: Lane, position: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(max(position), 0) FROM events WHERE context = $1 AND position <= $2",
    )
    .bind(lane.context())
    .bind(position)
    .fetch_one(pool)
    .await
}

/// Runs until `shutdown`, probing the log whenever the hub says a lane holds events back.
/// `grace` is how long a lane may lag before the log is asked.
pub async fn run(hub: Arc<Hub>, pool: PgPool, grace: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = hub.stalled() => {}
            _ = shutdown.cancelled() => return,
        }
        if !grace.is_zero() {
            tokio::time::sleep(grace).await;
        }
        while let Some(lag) = hub.lagging() {
            metrics::counter!("chat_feed_log_probes_total", "lane" => lag.lane.context())
                .increment(1);
            match lane_through(&pool, lag).await {
                Ok(through) => {
                    if through > lag.through {
                        hub.advance(lag.lane, through);
                    }
                    // An event of the lane lies before the waiting one: its subscription
                    // delivers it, and the hub says so again if the lane still lags then.
                    if through < lag.wanted {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, lane = ?lag.lane, "cannot read how far the log holds events of a lane");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

/// How far the lane may be taken to have come: up to just before its context's next event,
/// or to the log's head when there is none yet. The head is read first: everything at or
/// below it has committed, so the second statement sees all of it.
async fn lane_through(pool: &PgPool, lag: Lag) -> Result<i64, event_log::StoreError> {
    let head = event_log::read::head(pool).await?;
    let next = event_log::read::read_context(pool, lag.lane.context(), lag.through, 1).await?;
    Ok(match next.first() {
        Some(event) => (event.position - 1).min(head),
        None => head,
    })
}
