//! Group commit: concurrent appends are committed together in one transaction.
//!
//! One task per process owns the writing. While a transaction is in flight, new requests
//! queue up and become the next batch, so batches grow with load and add no delay when
//! idle. Every batch first locks the log head row, which serialises appenders across
//! processes and makes commit order equal position order.

use std::collections::{HashMap, HashSet};

use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{AppendError, AppendRequest, Appended};

/// Largest number of requests committed in one transaction.
const MAX_BATCH: usize = 512;

pub(crate) struct Job {
    pub request: AppendRequest,
    pub reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Starts the writer task; it ends when every sender is dropped.
pub(crate) fn spawn(pool: PgPool) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            commit(&pool, std::mem::take(&mut jobs)).await;
        }
    });
    tx
}

/// Commits a batch and answers every job. A failing batch is retried one request at a
/// time, so one bad request cannot fail the others.
async fn commit(pool: &PgPool, jobs: Vec<Job>) {
    let requests: Vec<&AppendRequest> = jobs.iter().map(|job| &job.request).collect();
    match write_batch(pool, &requests).await {
        Ok(results) => reply_all(jobs, results),
        Err(err) if jobs.len() == 1 => reply_all(jobs, vec![Err(err)]),
        Err(err) => {
            tracing::warn!(error = %err, size = jobs.len(), "append batch failed; retrying singly");
            for job in jobs {
                let result = match write_batch(pool, &[&job.request]).await {
                    Ok(mut results) => results.remove(0),
                    Err(err) => Err(err),
                };
                let _ = job.reply.send(result);
            }
        }
    }
}

fn reply_all(jobs: Vec<Job>, results: Vec<Result<Appended, AppendError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        // The caller may have given up (request cancelled); the append stands regardless.
        let _ = job.reply.send(result);
    }
}

/// Column arrays for one multi-row insert.
#[derive(Default)]
struct Rows {
    position: Vec<i64>,
    stream_id: Vec<String>,
    version: Vec<i64>,
    event_id: Vec<Uuid>,
    context: Vec<&'static str>,
    event_type: Vec<&'static str>,
    schema_version: Vec<i32>,
    occurred_at: Vec<OffsetDateTime>,
    correlation_id: Vec<String>,
    actor: Vec<Option<String>>,
    data: Vec<String>,
}

#[derive(Default)]
struct Keys {
    key: Vec<String>,
    fingerprint: Vec<String>,
    stream_id: Vec<String>,
    appended: Vec<Appended>,
}

type StoredKey = (String, Appended);

async fn write_batch(
    pool: &PgPool,
    requests: &[&AppendRequest],
) -> Result<Vec<Result<Appended, AppendError>>, AppendError> {
    let mut tx = pool.begin().await?;
    // Keys are read before the lock: a key another process commits in between makes
    // this batch fail on the key's primary key, and the retry one by one answers it.
    let mut known = stored_keys(&mut tx, requests).await?;
    let (head, mut numbers) = lock_and_draw(&mut tx, requests, &known).await?;
    // Read after the lock, so no other appender can change them before the commit.
    let mut versions = stream_versions(&mut tx, requests).await?;
    let now = OffsetDateTime::now_utc();
    let mut rows = Rows::default();
    let mut keys = Keys::default();
    let mut results = Vec::with_capacity(requests.len());
    let mut position = head;
    for request in requests {
        if let Some(idem) = &request.idempotency
            && let Some((fingerprint, appended)) = known.get(&idem.key)
        {
            results.push(if *fingerprint == idem.fingerprint {
                Ok(Appended {
                    replayed: true,
                    ..*appended
                })
            } else {
                Err(AppendError::IdempotencyKeyReused)
            });
            continue;
        }
        let (number, built) = match &request.numbered {
            Some(numbered) => {
                let number = numbers.remove(0);
                (Some(number), Some((numbered.build)(number)))
            }
            None => (None, None),
        };
        let (stream_id, events) = match &built {
            Some((stream_id, events)) => (stream_id, events),
            None => (&request.stream_id, &request.events),
        };
        let current = versions.get(stream_id).copied().unwrap_or(0);
        if !request.expected.admits(current) {
            results.push(Err(AppendError::Conflict {
                stream_id: stream_id.clone(),
                expected: request.expected,
                actual: current,
            }));
            continue;
        }
        let first_position = position + 1;
        for (offset, event) in events.iter().enumerate() {
            position += 1;
            rows.position.push(position);
            rows.stream_id.push(stream_id.clone());
            rows.version.push(current + 1 + offset as i64);
            rows.event_id.push(Uuid::now_v7());
            rows.context.push(event.context);
            rows.event_type.push(event.event_type);
            rows.schema_version.push(event.schema_version);
            rows.occurred_at.push(now);
            rows.correlation_id
                .push(request.metadata.correlation_id.clone());
            rows.actor.push(request.metadata.actor.clone());
            rows.data.push(event.data.to_string());
        }
        let last_version = current + events.len() as i64;
        versions.insert(stream_id.clone(), last_version);
        let appended = Appended {
            first_version: current + 1,
            last_version,
            first_position,
            last_position: position,
            replayed: false,
            number,
        };
        if let Some(idem) = &request.idempotency {
            keys.key.push(idem.key.clone());
            keys.fingerprint.push(idem.fingerprint.clone());
            keys.stream_id.push(stream_id.clone());
            keys.appended.push(appended);
            known.insert(idem.key.clone(), (idem.fingerprint.clone(), appended));
        }
        results.push(Ok(appended));
    }
    if position == head {
        tx.rollback().await?;
        return Ok(results);
    }
    insert(&mut tx, &rows, &versions, &keys, position).await?;
    tx.commit().await?;
    metrics::counter!("events_appended_total").increment((position - head) as u64);
    metrics::histogram!("append_batch_requests").record(requests.len() as f64);
    Ok(results)
}

/// Locks the log head (the serialisation point of every appender) and, in the same
/// statement, draws the numbers of the batch's numbered streams in request order,
/// skipping the requests that their idempotency key will answer. Returns the head.
async fn lock_and_draw(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
    known: &HashMap<String, StoredKey>,
) -> Result<(i64, Vec<i64>), sqlx::Error> {
    let mut seen: HashSet<&str> = known.keys().map(String::as_str).collect();
    let mut wanted: Vec<&str> = Vec::new();
    for request in requests {
        let answered = match &request.idempotency {
            Some(idem) => !seen.insert(idem.key.as_str()),
            None => false,
        };
        if let Some(numbered) = &request.numbered
            && !answered
        {
            wanted.push(numbered.sequence);
        }
    }
    // The numbers are drawn only once the head row is locked, so they follow commit order.
    sqlx::query_as(
        "WITH h AS (SELECT last_position FROM event_log_head WHERE id FOR UPDATE) \
         SELECT h.last_position, ARRAY(SELECT nextval(s::regclass) \
             FROM UNNEST($1::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n) FROM h",
    )
    .bind(&wanted)
    .fetch_one(&mut **tx)
    .await
}

/// Current versions of the batch's existing streams (numbered streams are new).
async fn stream_versions(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let ids: HashSet<&str> = requests
        .iter()
        .filter(|r| r.numbered.is_none())
        .map(|r| r.stream_id.as_str())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<&str> = ids.into_iter().collect();
    // A join on the unnested ids keeps to index lookups whatever plan is cached.
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.stream_id, s.version FROM UNNEST($1::text[]) AS u(id) \
         JOIN streams s ON s.stream_id = u.id",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn stored_keys(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
) -> Result<HashMap<String, StoredKey>, sqlx::Error> {
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
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.key.clone(), (row.fingerprint.clone(), row.appended())))
        .collect())
}

/// Writes events, stream heads, idempotency keys and the log head in one statement, and
/// notifies waiting readers (delivered at commit).
async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
    versions: &HashMap<String, i64>,
    keys: &Keys,
    last_position: i64,
) -> Result<(), sqlx::Error> {
    let (stream_ids, stream_versions): (Vec<&str>, Vec<i64>) = rows
        .stream_id
        .iter()
        .map(|id| (id.as_str(), versions[id]))
        .collect::<HashMap<_, _>>()
        .into_iter()
        .unzip();
    let field = |f: fn(&Appended) -> i64| keys.appended.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "WITH e AS (
            INSERT INTO events (position, stream_id, stream_version, event_id, context, event_type,
                                schema_version, occurred_at, correlation_id, actor, data)
            SELECT p, s, v, i, c, t, sv, o, cr, a, d::jsonb
            FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[],
                        $7::int[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])
                 AS r(p, s, v, i, c, t, sv, o, cr, a, d)
        ), s AS (
            INSERT INTO streams (stream_id, version)
            SELECT * FROM UNNEST($12::text[], $13::bigint[])
            ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version
        ), k AS (
            INSERT INTO idempotency_keys (key, fingerprint, stream_id, first_version, last_version,
                                          first_position, last_position)
            SELECT * FROM UNNEST($14::text[], $15::text[], $16::text[], $17::bigint[],
                                 $18::bigint[], $19::bigint[], $20::bigint[])
        ), h AS (
            UPDATE event_log_head SET last_position = $21 WHERE id
        )
        SELECT pg_notify('events', $21::text)",
    )
    .bind(&rows.position)
    .bind(&rows.stream_id)
    .bind(&rows.version)
    .bind(&rows.event_id)
    .bind(&rows.context)
    .bind(&rows.event_type)
    .bind(&rows.schema_version)
    .bind(&rows.occurred_at)
    .bind(&rows.correlation_id)
    .bind(&rows.actor)
    .bind(&rows.data)
    .bind(&stream_ids)
    .bind(&stream_versions)
    .bind(&keys.key)
    .bind(&keys.fingerprint)
    .bind(&keys.stream_id)
    .bind(field(|a| a.first_version))
    .bind(field(|a| a.last_version))
    .bind(field(|a| a.first_position))
    .bind(field(|a| a.last_position))
    .bind(last_position)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
