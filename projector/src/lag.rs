//! Projection lag, in events and in seconds, exported as gauges.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::AnyProjection;

const INTERVAL: Duration = Duration::from_secs(2);

/// Updates the lag gauges of every projection until cancelled.
pub async fn watch(
    pool: PgPool,
    projections: Vec<Arc<dyn AnyProjection>>,
    shutdown: CancellationToken,
) {
    loop {
        for projection in &projections {
            if let Err(err) = measure(&pool, projection.as_ref()).await {
                tracing::warn!(projection = projection.name(), error = %err, "cannot measure lag");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Events of the projection's context after its checkpoint, and the age of the oldest.
///
/// The checkpoint is read first and bound as a value: joined in the same statement it
/// would be unknown to the planner, which may then walk the context's whole history in
/// the index instead of seeking to the checkpoint.
pub async fn measure(
    pool: &PgPool,
    projection: &dyn AnyProjection,
) -> Result<(i64, f64), sqlx::Error> {
    let checkpoint = event_log::checkpoint::least(pool, projection.name()).await?;
    let (behind, oldest): (i64, Option<OffsetDateTime>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM events WHERE context = $1 AND position > $2), \
                (SELECT occurred_at FROM events WHERE context = $1 AND position > $2 \
                 ORDER BY position LIMIT 1)",
    )
    .bind(projection.context())
    .bind(checkpoint)
    .fetch_one(pool)
    .await?;
    let seconds = oldest
        .map(|at| (OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0))
        .unwrap_or(0.0);
    metrics::gauge!("projection_lag_events", "projection" => projection.name()).set(behind as f64);
    metrics::gauge!("projection_lag_seconds", "projection" => projection.name()).set(seconds);
    Ok((behind, seconds))
}
