//! The alert delivery worker: takes the alerts that are due from the alerts read model
//! (the queue, ordered by when each is due) and runs an attempt for each, several at once.
//!
//! It wakes when the alerts projection commits (its notice on the checkpoint channel),
//! when an attempt ends, when the next retry falls due, and at least every [`IDLE_POLL`]
//! in case a notice was missed. Which worker delivers an alert is decided on the alert's
//! own stream (see [`super::attempt`]), so any number of workers may share the queue.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use event_log::{checkpoint, database};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    attempt::{self, Deliverer},
    projection::AlertsProjection,
};
use crate::Projection;

/// The longest the worker sleeps with nothing due.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long an alert the queue offered but its stream said was not due (the read model
/// had not caught up yet) is left alone, so the worker does not read it over and over.
const REST: Duration = Duration::from_millis(500);

/// Runs the worker until `shutdown`, starting over after failures (the queue is in
/// PostgreSQL: nothing is lost by starting over).
pub async fn run(deliverer: Arc<Deliverer>, shutdown: CancellationToken) {
    service_kit::restart::restarting(
        &shutdown,
        || {
            let (deliverer, shutdown) = (Arc::clone(&deliverer), shutdown.clone());
            async move { work(&deliverer, &shutdown).await }
        },
        |err| tracing::error!(error = %err, "alert worker failed; starting over"),
    )
    .await;
}

async fn work(deliverer: &Arc<Deliverer>, shutdown: &CancellationToken) -> anyhow::Result<()> {
    let pool = deliverer.store.pool().clone();
    let mut listener = database::listener(&pool).await?;
    listener.listen(checkpoint::CHANNEL).await?;
    tracing::info!(worker = %deliverer.worker, "alert worker started");
    let mut attempts: JoinSet<(Uuid, bool)> = JoinSet::new();
    let mut in_flight: HashSet<Uuid> = HashSet::new();
    let mut resting: HashMap<Uuid, tokio::time::Instant> = HashMap::new();
    loop {
        resting.retain(|_, since| since.elapsed() < REST);
        let free = deliverer.concurrency.saturating_sub(attempts.len());
        if free > 0 {
            let skip = in_flight.len() + resting.len();
            for id in due(&pool, free + skip).await? {
                if attempts.len() >= deliverer.concurrency
                    || resting.contains_key(&id)
                    || !in_flight.insert(id)
                {
                    continue;
                }
                let deliverer = Arc::clone(deliverer);
                attempts.spawn(async move {
                    match attempt::run(&deliverer, id).await {
                        Ok(attempted) => (id, attempted),
                        Err(err) => {
                            tracing::error!(alert_id = %id, error = %err, "alert attempt failed");
                            (id, false)
                        }
                    }
                });
            }
        }
        metrics::gauge!("alerts_queue_depth").set(depth(&pool).await? as f64);
        let wait = if attempts.len() >= deliverer.concurrency {
            IDLE_POLL
        } else {
            let taken = in_flight.iter().chain(resting.keys()).copied().collect();
            until_next_due(&pool, taken).await?
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                notice = listener.recv() => {
                    let notice = notice?;
                    // Other projections' notices are many and say nothing of the queue.
                    if checkpoint::Notice::parse(notice.payload())
                        .is_some_and(|n| n.projection == AlertsProjection::NAME)
                    {
                        break;
                    }
                }
                Some(done) = attempts.join_next(), if !attempts.is_empty() => {
                    let (id, attempted) = done?;
                    in_flight.remove(&id);
                    if !attempted {
                        resting.insert(id, tokio::time::Instant::now());
                    }
                    break;
                }
                _ = tokio::time::sleep_until(deadline) => break,
                _ = shutdown.cancelled() => {
                    // Attempts under way record their outcome; each is bounded by the
                    // webhook timeout.
                    while let Some(done) = attempts.join_next().await {
                        done?;
                    }
                    return Ok(());
                }
            }
        }
    }
}

/// Up to `limit` alerts due now, the longest-waiting first.
async fn due(pool: &PgPool, limit: usize) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT alert_id FROM error_alerts WHERE next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(OffsetDateTime::now_utc())
    .bind(limit as i64)
    .fetch_all(pool)
    .await
}

/// How long until the next alert not `taken` here falls due, at most [`IDLE_POLL`].
async fn until_next_due(pool: &PgPool, taken: Vec<Uuid>) -> Result<Duration, sqlx::Error> {
    let next: Option<OffsetDateTime> = sqlx::query_scalar(
        "SELECT min(next_attempt_at) FROM error_alerts \
         WHERE next_attempt_at IS NOT NULL AND alert_id <> ALL($1)",
    )
    .bind(&taken)
    .fetch_one(pool)
    .await?;
    let wait = next.map_or(IDLE_POLL, |next| {
        let until = next - OffsetDateTime::now_utc();
        Duration::try_from(until).unwrap_or(Duration::ZERO)
    });
    Ok(wait.clamp(Duration::from_millis(5), IDLE_POLL))
}

/// Alerts waiting for an attempt or being delivered.
async fn depth(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM error_alerts WHERE next_attempt_at IS NOT NULL")
        .fetch_one(pool)
        .await
}
