//! Group commit: concurrent appends are committed together, one batch per round trip.
//!
//! One task per process owns the writing, on a connection of its own. While a batch is in
//! flight, new requests queue up and become the next batch, so batches grow with load and
//! add no delay when idle. A batch is one call of the `append_batch` database function
//! outside any explicit transaction: it locks the log head (the serialisation point of
//! every appender, which makes commit order equal position order), checks versions, writes
//! and commits, all in one round trip.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{AppendError, AppendRequest, Appended, ExpectedVersion};

/// Largest number of requests committed in one batch.
const MAX_BATCH: usize = 512;

pub(crate) struct Job {
    pub request: AppendRequest,
    pub reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Starts the writer task; it ends when every sender is dropped.
pub(crate) fn spawn(pool: PgPool) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut writer = Writer { pool, conn: None };
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        loop {
            if jobs.is_empty() {
                if rx.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                    return;
                }
            } else {
                while jobs.len() < MAX_BATCH
                    && let Ok(job) = rx.try_recv()
                {
                    jobs.push(job);
                }
            }
            let (batch, later) = one_per_key(std::mem::take(&mut jobs));
            writer.commit(batch).await;
            jobs = later;
        }
    });
    tx
}

/// Splits off the requests whose idempotency key an earlier request of the batch carries:
/// they wait for the next batch, where the first one's stored outcome answers them.
fn one_per_key(jobs: Vec<Job>) -> (Vec<Job>, Vec<Job>) {
    let mut keys = HashSet::new();
    jobs.into_iter()
        .partition(|job| match &job.request.idempotency {
            Some(idem) => keys.insert(idem.key.clone()),
            None => true,
        })
}

/// The writing task's connection, opened on first use and replaced after a failure.
struct Writer {
    pool: PgPool,
    conn: Option<PoolConnection<Postgres>>,
}

impl Writer {
    /// Commits a batch and answers every job. A failing batch is retried one request at a
    /// time, so one bad request cannot fail the others.
    async fn commit(&mut self, jobs: Vec<Job>) {
        let requests: Vec<&AppendRequest> = jobs.iter().map(|job| &job.request).collect();
        match self.write(&requests).await {
            Ok(results) => reply_all(jobs, results),
            Err(err) if jobs.len() == 1 => reply_all(jobs, vec![Err(err)]),
            Err(err) => {
                tracing::warn!(error = %err, size = jobs.len(), "append batch failed; retrying singly");
                for job in jobs {
                    let result = match self.write(&[&job.request]).await {
                        Ok(mut results) => results.remove(0),
                        Err(err) => Err(err),
                    };
                    let _ = job.reply.send(result);
                }
            }
        }
    }

    async fn write(
        &mut self,
        requests: &[&AppendRequest],
    ) -> Result<Vec<Result<Appended, AppendError>>, AppendError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            none => none.insert(self.pool.acquire().await?),
        };
        let result = write_batch(conn, requests).await;
        if result.is_err() {
            // The connection may be what failed; the next batch starts on a fresh one.
            self.conn = None;
        }
        result
    }
}

fn reply_all(jobs: Vec<Job>, results: Vec<Result<Appended, AppendError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        // The caller may have given up (request cancelled); the append stands regardless.
        let _ = job.reply.send(result);
    }
}

/// Answers the requests whose idempotency key is stored and commits the others.
async fn write_batch(
    conn: &mut PgConnection,
    requests: &[&AppendRequest],
) -> Result<Vec<Result<Appended, AppendError>>, AppendError> {
    // Keys are read before the lock: a key another process commits in between makes the
    // batch fail on the key's primary key, and the retry one by one answers it.
    let known = stored_keys(conn, requests).await?;
    let mut results: Vec<Option<Result<Appended, AppendError>>> = requests
        .iter()
        .map(|request| {
            let idem = request.idempotency.as_ref()?;
            let (fingerprint, appended) = known.get(&idem.key)?;
            Some(if *fingerprint == idem.fingerprint {
                Ok(*appended)
            } else {
                Err(AppendError::IdempotencyKeyReused)
            })
        })
        .collect();
    let fresh: Vec<&AppendRequest> = requests
        .iter()
        .zip(&results)
        .filter(|(_, answered)| answered.is_none())
        .map(|(request, _)| *request)
        .collect();
    let mut written = append(conn, &fresh).await?.into_iter();
    Ok(results
        .iter_mut()
        .map(|answered| match answered.take() {
            Some(result) => result,
            None => written.next().expect("one outcome per fresh request"),
        })
        .collect())
}

/// Parallel arrays describing a batch, as `append_batch` takes them.
#[derive(Default)]
struct Batch<'a> {
    stream: Vec<&'a str>,
    expected: Vec<i64>,
    sequence: Vec<Option<&'static str>>,
    field: Vec<Option<&'static str>>,
    events: Vec<i32>,
    correlation: Vec<&'a str>,
    actor: Vec<Option<&'a str>>,
    key: Vec<Option<&'a str>>,
    fingerprint: Vec<Option<&'a str>>,
    event_id: Vec<Uuid>,
    context: Vec<&'static str>,
    event_type: Vec<&'static str>,
    schema_version: Vec<i32>,
    data: Vec<String>,
}

impl<'a> Batch<'a> {
    fn push(&mut self, request: &'a AppendRequest) {
        let numbered = request.numbered.as_ref();
        self.stream.push(match numbered {
            Some(numbered) => numbered.stream_prefix,
            None => &request.stream_id,
        });
        self.expected.push(match request.expected {
            ExpectedVersion::Any => -1,
            ExpectedVersion::NoStream => 0,
            ExpectedVersion::Exact(version) => version,
        });
        self.sequence.push(numbered.map(|n| n.sequence));
        self.field.push(numbered.map(|n| n.field));
        self.events.push(request.events.len() as i32);
        self.correlation.push(&request.metadata.correlation_id);
        self.actor.push(request.metadata.actor.as_deref());
        let idem = request.idempotency.as_ref();
        self.key.push(idem.map(|i| i.key.as_str()));
        self.fingerprint.push(idem.map(|i| i.fingerprint.as_str()));
        for event in &request.events {
            self.event_id.push(Uuid::now_v7());
            self.context.push(event.context);
            self.event_type.push(event.event_type);
            self.schema_version.push(event.schema_version);
            self.data.push(event.data.to_string());
        }
    }
}

/// What `append_batch` says of one request.
#[derive(sqlx::FromRow)]
struct Outcome {
    number: Option<i64>,
    first_version: Option<i64>,
    last_version: Option<i64>,
    first_position: Option<i64>,
    last_position: Option<i64>,
    actual: Option<i64>,
}

/// Commits the requests in one call, in order; each is appended or refused on its own.
async fn append(
    conn: &mut PgConnection,
    requests: &[&AppendRequest],
) -> Result<Vec<Result<Appended, AppendError>>, AppendError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let mut batch = Batch::default();
    for request in requests {
        batch.push(request);
    }
    let outcomes: Vec<Outcome> = sqlx::query_as(
        "SELECT * FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&batch.stream)
    .bind(&batch.expected)
    .bind(&batch.sequence)
    .bind(&batch.field)
    .bind(&batch.events)
    .bind(&batch.correlation)
    .bind(&batch.actor)
    .bind(&batch.key)
    .bind(&batch.fingerprint)
    .bind(&batch.event_id)
    .bind(&batch.context)
    .bind(&batch.event_type)
    .bind(&batch.schema_version)
    .bind(&batch.data)
    .bind(OffsetDateTime::now_utc())
    .fetch_all(conn)
    .await?;
    metrics::counter!("events_appended_total").increment(batch.event_id.len() as u64);
    metrics::histogram!("append_batch_requests").record(requests.len() as f64);
    Ok(requests
        .iter()
        .zip(outcomes)
        .map(|(request, outcome)| appended(request, outcome))
        .collect())
}

fn appended(request: &AppendRequest, outcome: Outcome) -> Result<Appended, AppendError> {
    match (
        outcome.first_version,
        outcome.last_version,
        outcome.first_position,
        outcome.last_position,
    ) {
        (Some(first_version), Some(last_version), Some(first_position), Some(last_position)) => {
            Ok(Appended {
                first_version,
                last_version,
                first_position,
                last_position,
                replayed: false,
                number: outcome.number,
            })
        }
        _ => Err(AppendError::Conflict {
            stream_id: request.stream_id.clone(),
            expected: request.expected,
            actual: outcome.actual.unwrap_or_default(),
        }),
    }
}

/// The stored outcomes of the batch's idempotency keys: fingerprint and where it landed.
async fn stored_keys(
    conn: &mut PgConnection,
    requests: &[&AppendRequest],
) -> Result<HashMap<String, (String, Appended)>, sqlx::Error> {
    let keys: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.idempotency.as_ref().map(|i| i.key.as_str()))
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<crate::rows::IdempotencyRow> = sqlx::query_as(
        "SELECT key, fingerprint, first_version, last_version, first_position, last_position \
         FROM idempotency_keys WHERE key = ANY($1)",
    )
    .bind(&keys)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.key.clone(), (row.fingerprint.clone(), row.appended())))
        .collect())
}
