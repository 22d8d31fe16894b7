//! Follows a projection's subscription and applies each batch in one transaction
//! together with the checkpoint, so the rows and the checkpoint can never disagree.

use std::{sync::Arc, time::Duration};

use event_store::{
    checkpoint::projection_position,
    subscription::{Batch, EventSource},
};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{Projection, Tables, projection::lock_key};

const BATCH: usize = 500;

/// Most often a projection moves its checkpoint over other contexts' events. Every append
/// batch of another context is such a stretch; writing each one would cost a write per
/// batch per projection, and readers need the move only for positions of other contexts.
const ADVANCE_INTERVAL: Duration = Duration::from_millis(50);

/// Runs one projection until cancelled, resubscribing from the checkpoint after failures.
pub async fn run(
    pool: PgPool,
    source: EventSource,
    projection: Arc<dyn Projection>,
    group: String,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let result = tokio::select! {
            result = follow(&pool, &source, projection.as_ref(), &group) => result,
            _ = shutdown.cancelled() => return,
        };
        if let Err(err) = result {
            tracing::error!(projection = projection.name(), error = %err, "projection failed; resuming from its checkpoint");
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn follow(
    pool: &PgPool,
    source: &EventSource,
    projection: &dyn Projection,
    group: &str,
) -> anyhow::Result<()> {
    let source_name = source.source_name(projection.context());
    let after = projection_position(pool, projection.name(), &source_name).await?;
    let group = format!("{group}.{}", projection.name());
    let mut subscription = source
        .subscribe(projection.context(), &group, after)
        .await?;
    tracing::info!(projection = projection.name(), source = %source_name, after, "projection following");
    let (passed, stretches) = watch::channel(after);
    tokio::spawn(advance_lazily(
        pool.clone(),
        projection.name(),
        source_name.clone(),
        stretches,
    ));
    loop {
        let batch = subscription.next_batch(BATCH).await?;
        if batch.events.is_empty() {
            passed.send_replace(batch.through);
        } else {
            apply_batch(pool, projection, &source_name, &batch).await?;
        }
        subscription.commit().await?;
    }
}

/// Moves the checkpoint over the stretches `through` reports, the latest one at most every
/// [`ADVANCE_INTERVAL`], until the runner that feeds it stops (after its last report).
async fn advance_lazily(
    pool: PgPool,
    projection: &'static str,
    source: String,
    mut through: watch::Receiver<i64>,
) {
    while through.changed().await.is_ok() {
        let position = *through.borrow_and_update();
        if let Err(err) = advance(&pool, projection, &source, position).await {
            tracing::warn!(projection, error = %err, "cannot move the checkpoint over other contexts' events");
        }
        tokio::time::sleep(ADVANCE_INTERVAL).await;
    }
}

/// Moves the checkpoint over a stretch of the log with nothing for the projection (other
/// contexts' events), in one statement: no rows change, so neither the projection lock
/// nor a flush to disk is needed, and the checkpoint only ever moves forward.
async fn advance(pool: &PgPool, projection: &str, source: &str, through: i64) -> sqlx::Result<()> {
    let payload = json!({ "projection": projection, "position": through, "reset": false });
    sqlx::query(
        "WITH s AS (SELECT set_config('synchronous_commit', 'off', true)), \
         c AS (INSERT INTO projection_checkpoints (projection, source, position) \
             VALUES ($1, $2, $3) ON CONFLICT (projection, source) DO UPDATE \
             SET position = greatest(projection_checkpoints.position, EXCLUDED.position), \
                 updated_at = now()) \
         SELECT pg_notify('projections', $4) FROM s",
    )
    .bind(projection)
    .bind(source)
    .bind(through)
    .bind(payload.to_string())
    .execute(pool)
    .await?;
    Ok(())
}

/// Applies the events above the stored checkpoint and moves it, in one transaction.
pub async fn apply_batch(
    pool: &PgPool,
    projection: &dyn Projection,
    source: &str,
    batch: &Batch,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(lock_key(projection.name()))
        .execute(&mut *tx)
        .await?;
    let applied = projection_position(&mut *tx, projection.name(), source).await?;
    let fresh = batch.events.partition_point(|e| e.position <= applied);
    let events = &batch.events[fresh..];
    projection.apply(&mut tx, Tables::Live, events).await?;
    let through = batch.through.max(applied);
    save_checkpoint(&mut tx, projection.name(), source, through).await?;
    tx.commit().await?;
    metrics::counter!("projection_events_applied_total", "projection" => projection.name())
        .increment(events.len() as u64);
    Ok(())
}

/// Moves a checkpoint and tells query-api instances about it at commit.
pub async fn save_checkpoint(
    conn: &mut PgConnection,
    projection: &str,
    source: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    let payload = json!({ "projection": projection, "position": position, "reset": false });
    sqlx::query(
        "WITH c AS (INSERT INTO projection_checkpoints (projection, source, position) \
             VALUES ($1, $2, $3) ON CONFLICT (projection, source) \
             DO UPDATE SET position = EXCLUDED.position, updated_at = now()) \
         SELECT pg_notify('projections', $4)",
    )
    .bind(projection)
    .bind(source)
    .bind(position)
    .bind(payload.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Tells query-api instances, at commit, how far the projection has applied the log.
/// `reset` means the tables were replaced wholesale (after a replay).
pub async fn notify(
    conn: &mut PgConnection,
    projection: &str,
    position: i64,
    reset: bool,
) -> Result<(), sqlx::Error> {
    let payload = json!({ "projection": projection, "position": position, "reset": reset });
    sqlx::query("SELECT pg_notify('projections', $1)")
        .bind(payload.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
