//! [`EventStore`]: the write face of the store: appending, and the outcomes of idempotent
//! appends. Reading goes through its [`EventLog`].

use event_log::{EventLog, StoreError};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::{
    AppendError, AppendRequest, Appended,
    appender::{self, Job},
    rows::IdempotencyRow,
};

/// The event store. Cheap to clone; all clones share one group-commit writer.
#[derive(Clone)]
pub struct EventStore {
    log: EventLog,
    writer: mpsc::Sender<Job>,
}

impl EventStore {
    /// A store on a migrated database. Starts the writer task.
    pub fn new(pool: PgPool) -> Self {
        let writer = appender::spawn(pool.clone());
        Self {
            log: EventLog::new(pool),
            writer,
        }
    }

    /// The log this store appends to, for reading it.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    pub fn pool(&self) -> &PgPool {
        self.log.pool()
    }

    /// Appends events to one stream if it is at the expected version. Concurrent calls are
    /// committed together; each still succeeds or fails on its own.
    pub async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        let mut appended = self.submit(vec![request]).await?;
        Ok(appended.remove(0))
    }

    /// Appends to several streams at once: every request is appended, or none is (the
    /// first conflict refuses them all). Each stream appears at most once. The first
    /// request may carry an idempotency key for the whole append, and the others none: a
    /// retry under a stored key appends nothing and is answered with where that first
    /// request landed, alone (one `Appended`, `replayed` set). A request may be a
    /// [`AppendRequest::condition`]: its stream is checked and left as it is (its
    /// `Appended` names the version it was at, and writes no position).
    pub async fn append_all(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Appended>, AppendError> {
        if requests.iter().skip(1).any(|r| r.idempotency.is_some()) {
            return Err(StoreError::Malformed(
                "only the first request of an append carries its idempotency key".into(),
            )
            .into());
        }
        if requests
            .first()
            .is_some_and(|r| r.idempotency.is_some() && r.is_condition())
        {
            return Err(StoreError::Malformed(
                "an idempotency key goes with a request that writes events".into(),
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
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|row| {
            (
                row.fingerprint.clone(),
                row.stream_id.clone(),
                row.appended(),
            )
        }))
    }
}
