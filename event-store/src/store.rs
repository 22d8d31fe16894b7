//! [`EventStore`]: append, read a stream, read the log from a position.

use std::ops::RangeInclusive;

use schemas::RecordedEvent;
use sqlx::{FromRow, PgPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::{
    AppendError, AppendRequest, Appended, StoreError,
    appender::{self, Job},
    rows::{EVENT_COLUMNS, EventRow, IdempotencyRow},
};

/// The event store. Cheap to clone; all clones share one group-commit writer.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    writer: mpsc::Sender<Job>,
}

impl EventStore {
    /// A store on a migrated database. Starts the writer task.
    pub fn new(pool: PgPool) -> Self {
        let writer = appender::spawn(pool.clone());
        Self { pool, writer }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends events to one stream if it is at the expected version. Concurrent calls are
    /// committed together; each still succeeds or fails on its own.
    pub async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        let mut appended = self.submit(vec![request]).await?;
        Ok(appended.remove(0))
    }

    /// Appends to several streams at once: every request is appended, or none is (the
    /// first conflict refuses them all). Each stream appears at most once. Idempotency keys
    /// are honoured on single appends only, so these requests must carry none.
    pub async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Appended>, AppendError> {
        if requests.len() > 1 && requests.iter().any(|r| r.idempotency.is_some()) {
            return Err(StoreError::Malformed(
                "idempotency keys apply to single-stream appends only".into(),
            )
            .into());
        }
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        self.submit(requests).await
    }

    async fn submit(&self, requests: Vec<AppendRequest>) -> Result<Vec<Appended>, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job { requests, reply })
            .await
            .map_err(|_| StoreError::AppenderStopped)?;
        answer.await.map_err(|_| StoreError::AppenderStopped)?
    }

    /// What an earlier append with this idempotency key produced, if any: the request's
    /// fingerprint, the stream and where the append landed.
    pub async fn idempotent_outcome(
        &self,
        key: &str,
    ) -> Result<Option<(String, String, Appended)>, StoreError> {
        let row: Option<IdempotencyRow> = sqlx::query_as(
            "SELECT key, fingerprint, stream_id, first_version, last_version, first_position, last_position \
             FROM idempotency_keys WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| {
            (
                row.fingerprint.clone(),
                row.stream_id.clone(),
                row.appended(),
            )
        }))
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
pub async fn head(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT last_position FROM event_log_head WHERE id")
            .fetch_one(pool)
            .await?,
    )
}

/// Up to `limit` events after `after` in position order, of the given contexts only.
pub(crate) async fn read_all<'e>(
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

/// Up to `limit` events after `after` (of the given contexts only), and the head of the
/// log, read in one snapshot (one statement): the head row always comes back, with the
/// event columns null when there is nothing new.
pub(crate) async fn read_to_head(
    pool: &PgPool,
    after: i64,
    limit: i64,
    contexts: Option<&[String]>,
) -> Result<(i64, Vec<RecordedEvent>), StoreError> {
    let sql = format!(
        "SELECT h.last_position AS head, e.* \
         FROM (SELECT last_position FROM event_log_head WHERE id) h \
         LEFT JOIN LATERAL (SELECT {EVENT_COLUMNS} FROM events \
             WHERE position > $1 AND position <= h.last_position \
             AND ($3::text[] IS NULL OR context = ANY($3)) ORDER BY position LIMIT $2) e ON true"
    );
    let rows = sqlx::query(&sql)
        .bind(after)
        .bind(limit)
        .bind(contexts)
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
