//! How far a projection has applied the log, as its checkpoint row records it. The
//! projector writes these rows; the projector and query-api both read them.

/// A projection's checkpoint for a source (0 before it first ran).
pub async fn projection_position<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    projection: &str,
    source: &str,
) -> Result<i64, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE projection = $1 AND source = $2",
    )
    .bind(projection)
    .bind(source)
    .fetch_optional(executor)
    .await?;
    Ok(position.unwrap_or(0))
}
