//! The records a tail starts with, read from the log: the latest ones for a fresh stream,
//! or those after the client's last id for a resumed one.

use sqlx::PgPool;

use super::{filter::Filter, tail::Record};

/// Records read from the log at most, per stream opened: a tail shows recent records, and
/// a client further behind than this gets the latest of what it missed.
const SCAN: i64 = 5000;

/// The latest `count` records at or below `through` that pass `filter`, oldest first.
pub async fn latest(
    pool: &PgPool,
    through: i64,
    count: usize,
    filter: &Filter,
) -> sqlx::Result<Vec<Record>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut records = newest_first(pool, 0, through, filter).await?;
    records.truncate(count);
    records.reverse();
    Ok(records)
}

/// The records in (after, through] that pass `filter`, oldest first (the latest
/// [`SCAN`] of them when there are more).
pub async fn after(
    pool: &PgPool,
    after: i64,
    through: i64,
    filter: &Filter,
) -> sqlx::Result<Vec<Record>> {
    let mut records = newest_first(pool, after, through, filter).await?;
    records.reverse();
    Ok(records)
}

/// Up to [`SCAN`] of the newest records in (after, through] that pass `filter`, newest
/// first. The events index by context and position serves the backward scan.
async fn newest_first(
    pool: &PgPool,
    after: i64,
    through: i64,
    filter: &Filter,
) -> sqlx::Result<Vec<Record>> {
    let rows: Vec<(i64, String, i32, serde_json::Value)> = sqlx::query_as(
        "SELECT position, event_type, schema_version, data FROM events \
         WHERE context = 'errors' AND position > $1 AND position <= $2 \
           AND event_type = 'ErrorLogged' \
         ORDER BY position DESC LIMIT $3",
    )
    .bind(after)
    .bind(through)
    .bind(SCAN)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(position, event_type, version, data)| {
            Record::decode(position, &event_type, version, &data)
        })
        .filter(|record| filter.admits(record))
        .collect())
}
