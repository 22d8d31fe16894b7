//! Rebuilding a projection from the first event without serving half-built data.
//!
//! The rebuild writes shadow tables (`<table>__rebuild`) while the live tables keep
//! serving and the live runner keeps applying. When the shadow tables have caught up,
//! one transaction takes the projection's lock (pausing the runner), applies the last
//! events, renames the shadow tables into place and moves every checkpoint of the
//! projection to the rebuilt position. Events are read from the PostgreSQL log, the
//! store of record, whatever transport the live runner uses.

use std::time::{Duration, Instant};

use event_log::checkpoint;
use schemas::RecordedEvent;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::{
    AnyProjection, Tables,
    failpoint::{self, Point},
    progress::Progress,
    projection::lock_key,
};

const BATCH: i64 = 1000;
/// Batches read ahead of the one being applied.
const READ_AHEAD: usize = 4;

/// What a replay did, and where its time went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub events: u64,
    /// The log position the rebuilt tables reflect.
    pub position: i64,
    pub timings: Timings,
}

/// Where a replay's time went. Reading overlaps applying (the next batches are read while
/// one is applied), so the parts may add up to more than the whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub total: Duration,
    /// Reading and decoding the log's rows, on a connection of its own.
    pub reading: Duration,
    /// Of which the applying side waited for a batch.
    pub waiting: Duration,
    /// The projection's statements.
    pub applying: Duration,
    pub committing: Duration,
    /// Building the secondary indexes of the rebuilt tables, after their rows.
    pub indexing: Duration,
    /// Under the lock of the projection: the last events, the swap, the checkpoints.
    pub swapping: Duration,
}

impl Replayed {
    /// Events per second over the whole replay.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.timings.total.as_secs_f64().max(f64::EPSILON)
    }
}

pub async fn replay(pool: &PgPool, projection: &dyn AnyProjection) -> anyhow::Result<Replayed> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let deferred = create_shadow_tables(pool, projection).await?;
    let mut total = Total::count(pool, projection).await?;
    let mut progress = Progress::new(&format!("replay {}", projection.name()), total.events);
    let (batches, mut incoming) = mpsc::channel(READ_AHEAD);
    let reader = tokio::spawn(read_ahead(pool.clone(), projection.context(), batches));
    let mut position = 0;
    let mut applied = 0;
    loop {
        let waited = Instant::now();
        let Some(events) = incoming.recv().await else {
            break;
        };
        timings.waiting += waited.elapsed();
        let last = events.last().map_or(position, |e| e.position);
        let mut tx = pool.begin().await?;
        // Losing these commits in a crash loses only rows of shadow tables that a new
        // replay drops: they need not wait for the disk. The swap commits durably.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let applying = Instant::now();
        projection.apply(&mut tx, Tables::Rebuild, &events).await?;
        timings.applying += applying.elapsed();
        let committing = Instant::now();
        tx.commit().await?;
        timings.committing += committing.elapsed();
        position = last;
        applied += events.len() as u64;
        progress.advance(events.len() as u64);
        progress.grow_to(total.grow(pool, projection).await?);
    }
    timings.reading = reader.await??;
    let indexing = Instant::now();
    for index in &deferred {
        sqlx::query(&index.create).execute(pool).await?;
    }
    timings.indexing = indexing.elapsed();
    failpoint::pass(Point::BeforeSwap, projection.name(), position).await;
    let swapping = Instant::now();
    let (tail, position) = swap(pool, projection, position, &deferred).await?;
    timings.swapping = swapping.elapsed();
    applied += tail;
    progress.advance(tail);
    progress.finish(&format!("rebuilt and swapped in at position {position}"));
    timings.total = started.elapsed();
    Ok(Replayed {
        events: applied,
        position,
        timings,
    })
}

/// Reads the context's events in batches into `batches` until the log has no more, on a
/// connection of its own; returns the time spent reading.
async fn read_ahead(
    pool: PgPool,
    context: &'static str,
    batches: mpsc::Sender<Vec<RecordedEvent>>,
) -> anyhow::Result<Duration> {
    let readers = event_log::database::log_readers(&pool, 1).await?;
    let mut reading = Duration::ZERO;
    let mut after = 0;
    loop {
        let started = Instant::now();
        let events = event_log::read::read_context(&readers, context, after, BATCH).await?;
        reading += started.elapsed();
        let Some(last) = events.last() else { break };
        after = last.position;
        let full = events.len() == BATCH as usize;
        // The applying side stopped (it failed): its error is the one reported.
        if batches.send(events).await.is_err() || !full {
            break;
        }
    }
    Ok(reading)
}

/// The events to replay, for the progress shown: counted once, then only those appended
/// past the part already counted, so that keeping the count is not a scan of the log per
/// batch.
struct Total {
    events: u64,
    counted_through: i64,
}

impl Total {
    async fn count(pool: &PgPool, projection: &dyn AnyProjection) -> anyhow::Result<Self> {
        let mut total = Self {
            events: 0,
            counted_through: 0,
        };
        total.grow(pool, projection).await?;
        Ok(total)
    }

    /// Counts what the log gained since the last count; returns the new total.
    async fn grow(&mut self, pool: &PgPool, projection: &dyn AnyProjection) -> anyhow::Result<u64> {
        let head = event_log::read::head(pool).await?;
        if head > self.counted_through {
            self.events += remaining(pool, projection, self.counted_through, head).await?;
            self.counted_through = head;
        }
        Ok(self.events)
    }
}

/// A secondary index of a live table, built on its shadow once the rows are in: built over
/// the whole table at once, it costs far less than kept up to date through every insert
/// and update of the rebuild. It takes the live index's name at the swap.
struct DeferredIndex {
    name: String,
    /// Its name on the shadow table until the swap.
    building: String,
    create: String,
}

/// Creates the shadow tables like the live ones (columns, constraints, unique indexes,
/// which the projection's upserts need) but without their other indexes, which are
/// returned to be built after the rows.
async fn create_shadow_tables(
    pool: &PgPool,
    projection: &dyn AnyProjection,
) -> anyhow::Result<Vec<DeferredIndex>> {
    const SECONDARY: &str = "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = $1::regclass AND NOT i.indisunique AND NOT i.indisprimary \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY c.relname";
    let mut tx = pool.begin().await?;
    let mut deferred = Vec::new();
    for table in projection.tables() {
        let shadow = Tables::Rebuild.name(table);
        sqlx::query(&format!("DROP TABLE IF EXISTS {shadow}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "CREATE TABLE {shadow} (LIKE {table} INCLUDING ALL)"
        ))
        .execute(&mut *tx)
        .await?;
        let copied: Vec<(String, String)> = sqlx::query_as(SECONDARY)
            .bind(&shadow)
            .fetch_all(&mut *tx)
            .await?;
        for (name, _) in copied {
            sqlx::query(&format!("DROP INDEX {name}"))
                .execute(&mut *tx)
                .await?;
        }
        let live: Vec<(String, String)> = sqlx::query_as(SECONDARY)
            .bind(*table)
            .fetch_all(&mut *tx)
            .await?;
        for (name, definition) in live {
            deferred.push(DeferredIndex::of(name, &definition, &shadow)?);
        }
    }
    tx.commit().await?;
    Ok(deferred)
}

impl DeferredIndex {
    /// The index `name` of a live table, defined as `CREATE INDEX <name> ON <table> USING
    /// ...`, to be built on `shadow`.
    fn of(name: String, definition: &str, shadow: &str) -> anyhow::Result<Self> {
        let (_, method) = definition
            .split_once(" USING ")
            .ok_or_else(|| anyhow::anyhow!("unexpected index definition: {definition}"))?;
        // Names have at most 63 bytes; index names here are ASCII.
        let building = format!("{}__rebuild", &name[..name.len().min(54)]);
        let create = format!("CREATE INDEX {building} ON {shadow} USING {method}");
        Ok(Self {
            name,
            building,
            create,
        })
    }
}

/// Under the projection's lock: catch up to the head, swap tables, move checkpoints.
async fn swap(
    pool: &PgPool,
    projection: &dyn AnyProjection,
    mut position: i64,
    indexes: &[DeferredIndex],
) -> anyhow::Result<(u64, i64)> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(lock_key(projection.name()))
        .execute(&mut *tx)
        .await?;
    let head = event_log::read::head(&mut *tx).await?;
    let mut tail = 0;
    loop {
        let events =
            event_log::read::read_context(&mut *tx, projection.context(), position, BATCH).await?;
        let events: Vec<_> = events.into_iter().filter(|e| e.position <= head).collect();
        let Some(last) = events.last() else { break };
        position = last.position;
        tail += events.len() as u64;
        projection.apply(&mut tx, Tables::Rebuild, &events).await?;
    }
    let position = position.max(head);
    for table in projection.tables() {
        let shadow = Tables::Rebuild.name(table);
        let retired = format!("{table}__retired");
        sqlx::query(&format!("ALTER TABLE {table} RENAME TO {retired}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("ALTER TABLE {shadow} RENAME TO {table}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("DROP TABLE {retired}"))
            .execute(&mut *tx)
            .await?;
    }
    for index in indexes {
        sqlx::query(&format!(
            "ALTER INDEX {} RENAME TO {}",
            index.building, index.name
        ))
        .execute(&mut *tx)
        .await?;
    }
    for source in checkpoint::sources(&mut tx, projection.name()).await? {
        checkpoint::save(&mut tx, projection.name(), &source, position).await?;
    }
    checkpoint::announce_reset(&mut tx, projection.name(), position).await?;
    tx.commit().await?;
    Ok((tail, position))
}

/// The projection's events at positions `(after, through]`.
async fn remaining(
    pool: &PgPool,
    projection: &dyn AnyProjection,
    after: i64,
    through: i64,
) -> anyhow::Result<u64> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE context = $1 AND position > $2 AND position <= $3",
    )
    .bind(projection.context())
    .bind(after)
    .bind(through)
    .fetch_one(pool)
    .await?;
    Ok(count as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_a_live_table_is_built_the_same_on_its_shadow() {
        let index = DeferredIndex::of(
            "orders_by_member".into(),
            "CREATE INDEX orders_by_member ON public.orders USING btree (member_id, placed_at, number)",
            "orders__rebuild",
        )
        .unwrap();
        assert_eq!(index.building, "orders_by_member__rebuild");
        assert_eq!(
            index.create,
            "CREATE INDEX orders_by_member__rebuild ON orders__rebuild \
             USING btree (member_id, placed_at, number)"
        );
        assert!(DeferredIndex::of("x".into(), "CREATE INDEX x ON t (a)", "t__rebuild").is_err());
    }
}
