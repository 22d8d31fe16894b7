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

use event_log::StoreError;

use crate::{AppendError, AppendRequest, Appended, ExpectedVersion, Idempotency};

/// Largest number of requests committed in one batch.
const MAX_BATCH: usize = 512;

/// Appends to one or more streams, all or nothing.
pub(crate) struct Job {
    pub requests: Vec<AppendRequest>,
    pub reply: oneshot::Sender<Outcome>,
}

/// Where each of a job's appends landed, or why the job was refused.
pub(crate) type Outcome = Result<Vec<Appended>, AppendError>;

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
            let (batch, later) = disjoint(std::mem::take(&mut jobs));
            writer.commit(batch).await;
            jobs = later;
        }
    });
    tx
}

/// Splits off, for the next batch, the jobs that depend on what an earlier job of the
/// batch writes: a request that checks the version of a stream already appended to
/// (`append_batch` checks against the stored version), or an idempotency key already
/// carried (the first one's stored outcome then answers it). Appends at any version to a
/// stream already in the batch stay: they go after it.
fn disjoint(jobs: Vec<Job>) -> (Vec<Job>, Vec<Job>) {
    let mut keys = HashSet::new();
    let mut streams = HashSet::new();
    jobs.into_iter().partition(|job| {
        let named = || {
            job.requests
                .iter()
                .filter(|request| request.numbered.is_none())
        };
        let free = job_key(job).is_none_or(|key| !keys.contains(key))
            && named().all(|request| {
                request.expected == ExpectedVersion::Any
                    || !streams.contains(request.stream_id.as_str())
            });
        if free {
            keys.extend(job_key(job).map(str::to_owned));
            streams.extend(named().map(|request| request.stream_id.clone()));
        }
        free
    })
}

/// A job's idempotency key.
fn job_key(job: &Job) -> Option<&str> {
    idempotency(&job.requests).map(|idem| idem.key.as_str())
}

/// The idempotency of a job's requests: its first request carries it for all of them
/// (the store refuses a key on any other).
fn idempotency(group: &[AppendRequest]) -> Option<&Idempotency> {
    group.first()?.idempotency.as_ref()
}

/// The writing task's connection, opened on first use and replaced after a failure.
struct Writer {
    pool: PgPool,
    conn: Option<PoolConnection<Postgres>>,
}

impl Writer {
    /// Commits a batch and answers every job. A failing batch is retried one job at a
    /// time, so one bad request cannot fail the others; but not one the database's going
    /// away cut off mid-append.
    async fn commit(&mut self, jobs: Vec<Job>) {
        let groups: Vec<&[AppendRequest]> = jobs.iter().map(|job| &job.requests[..]).collect();
        match self.write(&groups).await {
            Ok(outcomes) => reply_all(jobs, outcomes),
            Err(err) if jobs.len() == 1 && lost_key_race(&err) => {
                let outcome = self
                    .write(&groups)
                    .await
                    .map(|mut outcomes| outcomes.remove(0));
                reply_all(jobs, vec![outcome.and_then(|outcome| outcome)]);
            }
            Err(err) if jobs.len() == 1 => reply_all(jobs, vec![Err(err)]),
            Err(AppendError::Store(StoreError::Unreachable(reason))) => {
                // Whether the batch committed is unknown: running it again could append
                // a job twice. Each caller hears so (a 503, which its client retries
                // under its idempotency key, and the stored key settles it).
                tracing::warn!(error = %reason, size = jobs.len(), "append batch cut off");
                for job in jobs {
                    let cut = StoreError::Unreachable(reason.clone());
                    let _ = job.reply.send(Err(AppendError::Store(cut)));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, size = jobs.len(), "append batch failed; retrying singly");
                for job in jobs {
                    let outcome = match self.write(&[&job.requests]).await {
                        Ok(mut outcomes) => outcomes.remove(0),
                        Err(err) => Err(err),
                    };
                    let _ = job.reply.send(outcome);
                }
            }
        }
    }

    async fn write(&mut self, groups: &[&[AppendRequest]]) -> Result<Vec<Outcome>, AppendError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            none => none.insert(self.pool.acquire().await?),
        };
        let result = write_batch(conn, groups).await;
        if result.is_err() {
            // The connection may be what failed; the next batch starts on a fresh one.
            self.conn = None;
        }
        result
    }
}

/// Another process stored the job's idempotency key after this one read the stored keys:
/// the key's primary key refused the batch, and a second try finds that outcome.
fn lost_key_race(err: &AppendError) -> bool {
    matches!(
        err,
        AppendError::Store(StoreError::Database(sqlx::Error::Database(db)))
            if db.constraint() == Some("idempotency_keys_pkey")
    )
}

fn reply_all(jobs: Vec<Job>, outcomes: Vec<Outcome>) {
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        // The caller may have given up (request cancelled); the append stands regardless.
        let _ = job.reply.send(outcome);
    }
}

/// Answers the jobs whose idempotency key is stored and commits the others.
async fn write_batch(
    conn: &mut PgConnection,
    groups: &[&[AppendRequest]],
) -> Result<Vec<Outcome>, AppendError> {
    // Keys are read before the lock: a key another process commits in between makes the
    // batch fail on the key's primary key, and the retry one by one answers it.
    let known = stored_keys(conn, groups).await?;
    let mut outcomes: Vec<Option<Outcome>> = groups
        .iter()
        .map(|group| {
            let idem = idempotency(group)?;
            let (fingerprint, appended) = known.get(&idem.key)?;
            Some(if *fingerprint == idem.fingerprint {
                Ok(vec![*appended])
            } else {
                Err(AppendError::IdempotencyKeyReused)
            })
        })
        .collect();
    let fresh: Vec<&[AppendRequest]> = groups
        .iter()
        .zip(&outcomes)
        .filter(|(_, answered)| answered.is_none())
        .map(|(group, _)| *group)
        .collect();
    let mut written = append(conn, &fresh).await?.into_iter();
    Ok(outcomes
        .iter_mut()
        .map(|answered| match answered.take() {
            Some(outcome) => outcome,
            None => written.next().expect("one outcome per fresh job"),
        })
        .collect())
}

/// Parallel arrays describing a batch, as `append_batch` takes them.
#[derive(Default)]
struct Batch<'a> {
    /// The job of a request that is one of several appended together; None when alone.
    group: Vec<Option<i32>>,
    stream: Vec<&'a str>,
    expected: Vec<i64>,
    sequence: Vec<Option<&'static str>>,
    field: Vec<Option<&'static str>>,
    events: Vec<i32>,
    correlation: Vec<&'a str>,
    actor: Vec<Option<&'a str>>,
    key: Vec<Option<&'a str>>,
    fingerprint: Vec<Option<&'a str>>,
    /// Each event's request, counted from 1.
    request: Vec<i32>,
    event_id: Vec<Uuid>,
    context: Vec<&'static str>,
    event_type: Vec<&'static str>,
    schema_version: Vec<i32>,
    data: Vec<String>,
}

impl<'a> Batch<'a> {
    /// Adds a request; `group` is its job when the job appends to several streams, `idem`
    /// the idempotency key to store with it.
    fn push(
        &mut self,
        group: Option<i32>,
        request: &'a AppendRequest,
        idem: Option<&'a Idempotency>,
    ) {
        self.group.push(group);
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
        self.key.push(idem.map(|i| i.key.as_str()));
        self.fingerprint.push(idem.map(|i| i.fingerprint.as_str()));
        let ordinal = self.stream.len() as i32;
        for event in &request.events {
            self.request.push(ordinal);
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
struct Written {
    number: Option<i64>,
    first_version: Option<i64>,
    last_version: Option<i64>,
    first_position: Option<i64>,
    last_position: Option<i64>,
    actual: Option<i64>,
    conflict: bool,
}

/// Commits the jobs in one call, in order; each is appended or refused on its own.
async fn append(
    conn: &mut PgConnection,
    groups: &[&[AppendRequest]],
) -> Result<Vec<Outcome>, AppendError> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut batch = Batch::default();
    for (n, group) in groups.iter().enumerate() {
        let alone = group.len() == 1;
        for (i, request) in group.iter().enumerate() {
            // The key is stored once, with where the first request lands.
            let key = if i == 0 { idempotency(group) } else { None };
            batch.push((!alone).then_some(n as i32), request, key);
        }
    }
    let mut rows = sqlx::query_as::<_, Written>(
        "SELECT * FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&batch.group)
    .bind(&batch.stream)
    .bind(&batch.expected)
    .bind(&batch.sequence)
    .bind(&batch.field)
    .bind(&batch.events)
    .bind(&batch.correlation)
    .bind(&batch.actor)
    .bind(&batch.key)
    .bind(&batch.fingerprint)
    .bind(&batch.request)
    .bind(&batch.event_id)
    .bind(&batch.context)
    .bind(&batch.event_type)
    .bind(&batch.schema_version)
    .bind(&batch.data)
    .bind(OffsetDateTime::now_utc())
    .fetch_all(conn)
    .await
    .map_err(cut_off)?
    .into_iter();
    metrics::counter!("events_appended_total").increment(batch.event_id.len() as u64);
    metrics::histogram!("append_batch_requests").record(groups.len() as f64);
    Ok(groups
        .iter()
        .map(|group| {
            let written: Vec<Written> = rows.by_ref().take(group.len()).collect();
            outcome(group, written)
        })
        .collect())
}

/// An `append_batch` that failed. If the database went away during it, it may have
/// committed or not: that is [`StoreError::Unreachable`], never retried here.
fn cut_off(err: sqlx::Error) -> AppendError {
    if event_log::unreachable(&err) {
        AppendError::Store(StoreError::Unreachable(err.to_string()))
    } else {
        err.into()
    }
}

/// A job's outcome from its requests' rows: all appended, or the conflict that refused it.
fn outcome(group: &[AppendRequest], rows: Vec<Written>) -> Outcome {
    let mut appended = Vec::with_capacity(rows.len());
    for (request, row) in group.iter().zip(&rows) {
        match (
            row.first_version,
            row.last_version,
            row.first_position,
            row.last_position,
        ) {
            (Some(_), Some(last_version), Some(_), Some(last_position))
                if request.is_condition() =>
            {
                appended.push(Appended {
                    // Where the stream was, and where the log was before this request.
                    first_version: last_version,
                    last_version,
                    first_position: last_position,
                    last_position,
                    replayed: false,
                    number: None,
                })
            }
            (
                Some(first_version),
                Some(last_version),
                Some(first_position),
                Some(last_position),
            ) => appended.push(Appended {
                first_version,
                last_version,
                first_position,
                last_position,
                replayed: false,
                number: row.number,
            }),
            _ => {
                let (request, row) = group
                    .iter()
                    .zip(&rows)
                    .find(|(_, row)| row.conflict)
                    .unwrap_or((request, row));
                return Err(AppendError::Conflict {
                    stream_id: request.stream_id.clone(),
                    expected: request.expected,
                    actual: row.actual.unwrap_or_default(),
                });
            }
        }
    }
    Ok(appended)
}

/// The stored outcomes of the batch's idempotency keys: fingerprint and where it landed.
async fn stored_keys(
    conn: &mut PgConnection,
    groups: &[&[AppendRequest]],
) -> Result<HashMap<String, (String, Appended)>, sqlx::Error> {
    let keys: Vec<&str> = groups
        .iter()
        .filter_map(|group| idempotency(group).map(|i| i.key.as_str()))
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
