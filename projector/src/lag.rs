//! Projection lag, in events and in seconds, exported as gauges.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::Projection;

const INTERVAL: Duration = Duration::from_secs(2);

/// Updates the lag gauges of every projection until cancelled.
pub async fn watch(
    pool: PgPool,
    projections: Vec<Arc<dyn Projection>>,
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
pub async fn measure(
    pool: &PgPool,
    projection: &dyn Projection,
) -> Result<(i64, f64), sqlx::Error> {
    let (behind, oldest): (i64, Option<OffsetDateTime>) = sqlx::query_as(
        "WITH c AS (SELECT coalesce(min(position), 0) AS position FROM projection_checkpoints \
                    WHERE projection = $1) \
         SELECT (SELECT count(*) FROM events e, c WHERE e.context = $2 AND e.position > c.position), \
                (SELECT e.occurred_at FROM events e, c WHERE e.context = $2 AND e.position > c.position \
                 ORDER BY e.position LIMIT 1)",
    )
    .bind(projection.name())
    .bind(projection.context())
    .fetch_one(pool)
    .await?;
    let seconds = oldest
        .map(|at| (OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0))
        .unwrap_or(0.0);
    metrics::gauge!("projection_lag_events", "projection" => projection.name()).set(behind as f64);
    metrics::gauge!("projection_lag_seconds", "projection" => projection.name()).set(seconds);
    Ok((behind, seconds))
}
