//! Whether an issue regressed since it was resolved: an error of it was logged after its
//! resolution. The errors are not in the issue's stream (it would grow without bound),
//! so the log is asked, from the resolution on.

use schemas::{DomainEvent, errors::ErrorsEvent};
use sqlx::PgPool;
use uuid::Uuid;

/// Whether an `ErrorLogged` of `issue` lies after `position`. It reads the errors
/// logged since then by the log's context index: an admin's action, not a hot path.
pub async fn since(pool: &PgPool, issue: Uuid, position: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events WHERE context = $1 AND position > $2 \
         AND event_type = 'ErrorLogged' AND data->>'issue_id' = $3)",
    )
    .bind(ErrorsEvent::CONTEXT)
    .bind(position)
    .bind(issue.to_string())
    .fetch_one(pool)
    .await
}
