//! What command-api keeps beside the log and would otherwise keep forever: answered
//! idempotency keys, and sessions (with their refresh tokens) that can no longer matter.
//! Every hour, each instance deletes what has lapsed, in short batches; rows another
//! instance is deleting are skipped, not waited for.
//!
//! - An idempotency key is kept `IDEMPOTENCY_KEY_RETENTION_HOURS` (default 24): a client
//!   retrying later sends a new request. Streams created with `NoStream` still refuse a
//!   second creation, so a late retry of a creation is a conflict, never a duplicate.
//! - A session goes once no token of it can be used: ended (revoked, or past its end) for
//!   longer than an access token lives. Until then its revocation must stay readable, as
//!   the revocation listeners reload recent revocations from this table.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often lapsed rows are deleted.
const INTERVAL: Duration = Duration::from_secs(3600);
/// Rows deleted per statement.
const BATCH: i64 = 1000;

/// Settings of the housekeeping.
#[derive(Debug, Clone, clap::Args)]
pub struct HousekeepingConfig {
    /// Hours an answered `Idempotency-Key` is remembered (a retry within them gets the
    /// first answer). 0 keeps them all.
    #[arg(long, env = "IDEMPOTENCY_KEY_RETENTION_HOURS", default_value_t = 24)]
    pub idempotency_key_retention_hours: u32,
}

/// How long each kind of row outlives its use.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// None: idempotency keys are kept.
    pub idempotency_keys: Option<Duration>,
    /// How long an access token lives: an ended session stays that long.
    pub access_token_ttl: Duration,
}

impl HousekeepingConfig {
    pub fn retention(&self, access_token_ttl: Duration) -> Retention {
        let hours = u64::from(self.idempotency_key_retention_hours);
        Retention {
            idempotency_keys: (hours > 0).then(|| Duration::from_secs(hours * 3600)),
            access_token_ttl,
        }
    }
}

/// Starts the hourly deletion; it stops on `shutdown`.
pub fn spawn(pool: &PgPool, retention: Retention, shutdown: &CancellationToken) -> JoinHandle<()> {
    let (pool, shutdown) = (pool.clone(), shutdown.clone());
    tokio::spawn(async move {
        loop {
            match purge(&pool, retention, &shutdown).await {
                Ok(Purged {
                    keys: 0,
                    sessions: 0,
                }) => {}
                Ok(purged) => {
                    tracing::info!(?purged, "lapsed idempotency keys and sessions deleted")
                }
                // Tried again at the next interval; nothing is lost by waiting.
                Err(err) => tracing::error!(error = %err, "housekeeping failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    })
}

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub keys: u64,
    pub sessions: u64,
}

const PURGE_KEYS: &str = "
WITH lapsed AS (
    SELECT key FROM idempotency_keys
    WHERE created_at < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED
)
DELETE FROM idempotency_keys k USING lapsed l WHERE k.key = l.key";

/// Sessions ended longer ago than an access token lives; their refresh tokens go with
/// them (`ON DELETE CASCADE`).
const PURGE_SESSIONS: &str = "
WITH lapsed AS (
    SELECT session_id FROM sessions
    WHERE least(coalesce(revoked_at, expires_at), expires_at) < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED
)
DELETE FROM sessions s USING lapsed l WHERE s.session_id = l.session_id";

/// Deletes everything lapsed, a batch at a time, until none is left or `shutdown`.
pub async fn purge(
    pool: &PgPool,
    retention: Retention,
    shutdown: &CancellationToken,
) -> Result<Purged, sqlx::Error> {
    let mut purged = Purged::default();
    if let Some(keep) = retention.idempotency_keys {
        purged.keys = in_batches(pool, PURGE_KEYS, keep, shutdown).await?;
    }
    purged.sessions =
        in_batches(pool, PURGE_SESSIONS, retention.access_token_ttl, shutdown).await?;
    Ok(purged)
}

async fn in_batches(
    pool: &PgPool,
    statement: &str,
    keep: Duration,
    shutdown: &CancellationToken,
) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    while !shutdown.is_cancelled() {
        let done = sqlx::query(statement)
            .bind(keep.as_secs_f64())
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        deleted += done;
        if done < BATCH as u64 {
            break;
        }
    }
    Ok(deleted)
}
