//! Rebuilding a projection from the first event without serving half-built data.
//!
//! The rebuild writes shadow tables (`<table>__rebuild`) while the live tables keep
//! serving and the live runner keeps applying. When the shadow tables have caught up,
//! one transaction takes the projection's lock (pausing the runner), applies the last
//! events, renames the shadow tables into place and moves every checkpoint of the
//! projection to the rebuilt position. Events are read from the PostgreSQL log, the
//! store of record, whatever transport the live runner uses.

use event_log::checkpoint;
use schemas::RecordedEvent;
use sqlx::PgPool;

use crate::{
    AnyProjection, Tables,
    failpoint::{self, Point},
    progress::Progress,
    projection::lock_key,
};

const BATCH: i64 = 1000;

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub events: u64,
    /// The log position the rebuilt tables reflect.
    pub position: i64,
}

pub async fn replay(pool: &PgPool, projection: &dyn AnyProjection) -> anyhow::Result<Replayed> {
    create_shadow_tables(pool, projection).await?;
    let mut progress = Progress::new(
        &format!("replay {}", projection.name()),
        remaining(pool, projection, 0).await?,
    );
    let readers = event_log::database::log_readers(pool, 1).await?;
    let mut position = 0;
    let mut applied = 0;
    loop {
        let events = read(&readers, projection, position, BATCH).await?;
        let Some(last) = events.last() else { break };
        let last = last.position;
        let mut tx = pool.begin().await?;
        projection.apply(&mut tx, Tables::Rebuild, &events).await?;
        tx.commit().await?;
        position = last;
        applied += events.len() as u64;
        progress.advance(events.len() as u64);
        if events.len() < BATCH as usize {
            break;
        }
        progress.grow_to(applied + remaining(pool, projection, position).await?);
    }
    failpoint::pass(Point::BeforeSwap, projection.name(), position).await;
    let (tail, position) = swap(pool, projection, position).await?;
    applied += tail;
    progress.advance(tail);
    progress.finish(&format!("rebuilt and swapped in at position {position}"));
    Ok(Replayed {
        events: applied,
        position,
    })
}

async fn create_shadow_tables(pool: &PgPool, projection: &dyn AnyProjection) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
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
    }
    tx.commit().await?;
    Ok(())
}

/// Under the projection's lock: catch up to the head, swap tables, move checkpoints.
async fn swap(
    pool: &PgPool,
    projection: &dyn AnyProjection,
    mut position: i64,
) -> anyhow::Result<(u64, i64)> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(lock_key(projection.name()))
        .execute(&mut *tx)
        .await?;
    let head = event_log::read::head(&mut *tx).await?;
    let mut tail = 0;
    loop {
        let events = read(&mut *tx, projection, position, BATCH).await?;
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
    for source in checkpoint::sources(&mut tx, projection.name()).await? {
        checkpoint::save(&mut tx, projection.name(), &source, position).await?;
    }
    checkpoint::announce_reset(&mut tx, projection.name(), position).await?;
    tx.commit().await?;
    Ok((tail, position))
}

async fn read<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    projection: &dyn AnyProjection,
    after: i64,
    limit: i64,
) -> anyhow::Result<Vec<RecordedEvent>> {
    Ok(event_log::read::read_context(executor, projection.context(), after, limit).await?)
}

async fn remaining(
    pool: &PgPool,
    projection: &dyn AnyProjection,
    after: i64,
) -> anyhow::Result<u64> {
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE context = $1 AND position > $2")
            .bind(projection.context())
            .bind(after)
            .fetch_one(pool)
            .await?;
    Ok(count as u64)
}
