//! Follows a projection's subscription and applies each batch in one transaction
//! together with the checkpoint, so the rows and the checkpoint can never disagree.

use std::{sync::Arc, time::Duration};

use event_log::{
    checkpoint,
    subscription::{Batch, EventSource},
};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    AnyProjection, Tables,
    failpoint::{self, Point},
    projection::lock_key,
};

const BATCH: usize = 500;

/// Most often a projection moves its checkpoint over other contexts' events. Every append
/// batch of another context is such a stretch; writing each one would cost a write per
/// batch per projection, and readers need the move only for positions of other contexts.
const ADVANCE_INTERVAL: Duration = Duration::from_millis(50);

/// Runs one projection until cancelled, resubscribing from the checkpoint after failures.
pub async fn run(
    pool: PgPool,
    source: EventSource,
    projection: Arc<dyn AnyProjection>,
    group: String,
    shutdown: CancellationToken,
) {
    let name = projection.name();
    service_kit::restart::restarting(
        &shutdown,
        || {
            let (pool, source, projection) = (pool.clone(), source.clone(), projection.clone());
            let (group, shutdown) = (group.clone(), shutdown.clone());
            async move {
                tokio::select! {
                    result = follow(&pool, &source, projection.as_ref(), &group) => result,
                    _ = shutdown.cancelled() => Ok(()),
                }
            }
        },
        |err| tracing::error!(projection = name, error = %err, "projection failed; resuming from its checkpoint"),
    )
    .await;
}

async fn follow(
    pool: &PgPool,
    source: &EventSource,
    projection: &dyn AnyProjection,
    group: &str,
) -> anyhow::Result<()> {
    let source_name = source.source_name(projection.context());
    let after = checkpoint::position(pool, projection.name(), &source_name).await?;
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
            failpoint::pass(Point::Committed, projection.name(), batch.through).await;
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
        if let Err(err) = checkpoint::advance(&pool, projection, &source, position).await {
            tracing::warn!(projection, error = %err, "cannot move the checkpoint over other contexts' events");
        }
        tokio::time::sleep(ADVANCE_INTERVAL).await;
    }
}

/// Applies the events above the stored checkpoint and moves it, in one transaction.
pub async fn apply_batch(
    pool: &PgPool,
    projection: &dyn AnyProjection,
    source: &str,
    batch: &Batch,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    // A pool shared with the APIs (the all-in-one platform) cancels slow statements; a
    // batch, and its wait for a replay's lock, may take as long as it needs.
    if event_log::database::has_statement_timeout(pool) {
        sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(lock_key(projection.name()))
        .execute(&mut *tx)
        .await?;
    let applied = checkpoint::position(&mut *tx, projection.name(), source).await?;
    let fresh = batch.events.partition_point(|e| e.position <= applied);
    let events = &batch.events[fresh..];
    projection.apply(&mut tx, Tables::Live, events).await?;
    failpoint::pass(Point::RowsWritten, projection.name(), batch.through).await;
    let through = batch.through.max(applied);
    checkpoint::save(&mut tx, projection.name(), source, through).await?;
    tx.commit().await?;
    metrics::counter!("projection_events_applied_total", "projection" => projection.name())
        .increment(events.len() as u64);
    Ok(())
}
