//! How long the errors read model keeps each error whole. `error_events` would grow with
//! every report forever; errors received more than `ERROR_EVENTS_RETENTION_DAYS` ago are
//! deleted from it, oldest first, in bounded batches, except each issue's latest error,
//! which the page shows. Counts (`times_seen`, the chart) are not touched.
//!
//! Only the read model forgets: the log keeps every `ErrorLogged`, so a replay rebuilds
//! every row and the next prune forgets the old ones again.

use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the old errors are pruned.
const INTERVAL: Duration = Duration::from_secs(3600);
/// Rows deleted per statement: short transactions that never hold the projection up.
const BATCH: i64 = 1000;

/// Settings of the errors' retention.
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionSettings {
    /// Days an error stays in the errors read model (an issue's list of errors) after it
    /// was received; each issue's latest error stays whatever its age. 0 keeps them all.
    #[arg(long, env = "ERROR_EVENTS_RETENTION_DAYS", default_value_t = 90)]
    pub error_events_retention_days: u32,
}

/// Starts the hourly prune (unless retention is off); it stops on `shutdown`.
pub fn spawn(
    pool: &PgPool,
    settings: &RetentionSettings,
    shutdown: &CancellationToken,
) -> Option<JoinHandle<()>> {
    let days = settings.error_events_retention_days;
    if days == 0 {
        return None;
    }
    let keep = time::Duration::days(i64::from(days));
    Some(tokio::spawn(run(pool.clone(), keep, shutdown.clone())))
}

async fn run(pool: PgPool, keep: time::Duration, shutdown: CancellationToken) {
    loop {
        let cutoff = OffsetDateTime::now_utc() - keep;
        match prune(&pool, cutoff, BATCH, &shutdown).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, %cutoff, "old errors pruned"),
            // Tried again at the next interval; nothing is lost by waiting.
            Err(err) => tracing::error!(error = %err, "pruning old errors failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// One batch: the oldest errors received before `$1` that are not their issue's latest,
/// at most `$2`. Rows another pruner holds are skipped, not waited for.
const PRUNE: &str = "
WITH doomed AS (
    SELECT e.project, e.event_id FROM error_events e
    WHERE e.received_at < $1
      AND NOT EXISTS (
          SELECT 1 FROM error_issues i WHERE i.id = e.issue AND i.last_event_id = e.event_id)
    ORDER BY e.received_at
    LIMIT $2
    FOR UPDATE OF e SKIP LOCKED
)
DELETE FROM error_events e USING doomed d
WHERE e.project = d.project AND e.event_id = d.event_id";

/// Deletes the errors received before `cutoff`, `batch` at a time, keeping each issue's
/// latest, until none is left or `shutdown`; returns how many were deleted.
pub async fn prune(
    pool: &PgPool,
    cutoff: OffsetDateTime,
    batch: i64,
    shutdown: &CancellationToken,
) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    while !shutdown.is_cancelled() {
        let done = sqlx::query(PRUNE)
            .bind(cutoff)
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected();
        deleted += done;
        if done < u64::try_from(batch).unwrap_or(0) {
            break;
        }
    }
    Ok(deleted)
}
