//! [`EventLog`]: reading streams and the log; the head of the log.

use std::ops::RangeInclusive;

use schemas::RecordedEvent;
use sqlx::{FromRow, PgPool, Row};

use crate::{
    StoreError,
    rows::{EVENT_COLUMNS, EventRow},
};

/// The log, read only: what every reader of the store may do. Cheap to clone.
#[derive(Clone)]
pub struct EventLog {
    pool: PgPool,
}

impl EventLog {
    /// The log of a migrated database.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Every event of a stream in version order, up to `max_version` when given.
    pub async fn read_stream(
        &self,
        stream_id: &str,
        max_version: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_versions(stream_id, 1..=max_version.unwrap_or(i64::MAX))
            .await
    }

    /// The events of a stream whose versions are in `versions`, in version order.
    pub async fn read_versions(
        &self,
        stream_id: &str,
        versions: RangeInclusive<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 \
             AND stream_version BETWEEN $2 AND $3 ORDER BY stream_version"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream_id)
            .bind(versions.start())
            .bind(versions.end())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The last event of each of these streams that exists, in no particular order.
    pub async fn last_events(
        &self,
        stream_ids: &[String],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT e.* FROM unnest($1::text[]) AS s(id) CROSS JOIN LATERAL \
             (SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = s.id \
              ORDER BY stream_version DESC LIMIT 1) e"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream_ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Up to `limit` events after `after`, in position order.
    pub async fn read_all(&self, after: i64, limit: i64) -> Result<Vec<RecordedEvent>, StoreError> {
        read_all(&self.pool, after, limit, None).await
    }

    /// The position of the last committed event (0 when the log is empty).
    pub async fn head(&self) -> Result<i64, StoreError> {
        head(&self.pool).await
    }
}

/// The position of the last committed event (0 when the log is empty).
pub async fn head<'e>(executor: impl sqlx::PgExecutor<'e>) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT last_position FROM event_log_head WHERE id")
            .fetch_one(executor)
            .await?,
    )
}

/// Up to `limit` events after `after` in position order, of the given contexts only (all
/// when `None`).
pub async fn read_all<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    after: i64,
    limit: i64,
    contexts: Option<&[String]>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 \
         AND ($3::text[] IS NULL OR context = ANY($3)) ORDER BY position LIMIT $2"
    );
    let rows: Vec<EventRow> = sqlx::query_as(&sql)
        .bind(after)
        .bind(limit)
        .bind(contexts)
        .fetch_all(executor)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Up to `limit` events after `after` (of the given contexts and event types only), and
/// the head of the log, read in one snapshot (one statement): the head row always comes
/// back, with the event columns null when there is nothing new.
pub(crate) async fn read_to_head(
    pool: &PgPool,
    after: i64,
    limit: i64,
    contexts: Option<&[String]>,
    event_types: Option<&[&str]>,
) -> Result<(i64, Vec<RecordedEvent>), StoreError> {
    let sql = format!(
        "SELECT h.last_position AS head, e.* \
         FROM (SELECT last_position FROM event_log_head WHERE id) h \
         LEFT JOIN LATERAL (SELECT {EVENT_COLUMNS} FROM events \
             WHERE position > $1 AND position <= h.last_position \
             AND ($3::text[] IS NULL OR context = ANY($3)) \
             AND ($4::text[] IS NULL OR event_type = ANY($4)) \
             ORDER BY position LIMIT $2) e ON true"
    );
    let rows = sqlx::query(&sql)
        .bind(after)
        .bind(limit)
        .bind(contexts)
        .bind(event_types)
        .fetch_all(pool)
        .await?;
    let mut head = after;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        head = row.try_get("head")?;
        if row.try_get::<Option<i64>, _>("position")?.is_some() {
            events.push(EventRow::from_row(&row)?.into());
        }
    }
    Ok((head, events))
}

/// Up to `limit` events of one context after `after`, in position order.
pub async fn read_context<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    context: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    read_all(executor, after, limit, Some(&[context.to_owned()])).await
}
