//! Phase 1, `raw`: the PostgreSQL limit, single-row INSERT transactions into a table
//! shaped like `events`.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, ensure};
use benches::load::{self, Measured};
use serde::Serialize;
use serde_json::json;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use crate::args::Args;

/// Scratch table of the raw phase: the shape of the platform's `events` table.
const RAW_TABLE: &str = "CREATE TABLE bench_raw_events (\
    position bigserial PRIMARY KEY, \
    stream_id text NOT NULL, \
    stream_version bigint NOT NULL, \
    event_id uuid NOT NULL UNIQUE, \
    context text NOT NULL, \
    event_type text NOT NULL, \
    schema_version integer NOT NULL, \
    occurred_at timestamptz NOT NULL, \
    correlation_id text NOT NULL, \
    actor text, \
    data jsonb NOT NULL, \
    UNIQUE (stream_id, stream_version))";

/// The fourth index of `events`: readers of one context follow it.
const RAW_INDEX: &str =
    "CREATE INDEX bench_raw_events_context ON bench_raw_events (context, position)";

const RAW_INSERT: &str = "INSERT INTO bench_raw_events \
    (stream_id, stream_version, event_id, context, event_type, schema_version, occurred_at, \
     correlation_id, actor, data) \
    VALUES ($1, 1, $2, 'items', 'ItemCreated', 1, now(), $3, NULL, $4)";

/// What the raw phase measured, and how durable its commits were.
#[derive(Debug, Serialize)]
pub(crate) struct RawResult {
    pub synchronous_commit: String,
    pub fsync: String,
    #[serde(flatten)]
    pub throughput: Measured,
}

/// Phase 1: single-row INSERT transactions straight into PostgreSQL.
pub(crate) async fn raw_phase(args: &Args) -> anyhow::Result<RawResult> {
    let options = PgConnectOptions::from_str(&args.database_url)?;
    let target = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    let pool = PgPoolOptions::new()
        .max_connections(args.concurrency)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {target}"))?;
    let (synchronous_commit, fsync): (String, String) =
        sqlx::query_as("SELECT current_setting('synchronous_commit'), current_setting('fsync')")
            .fetch_one(&pool)
            .await?;
    // The table is this bench's own scratch table: a leftover of an interrupted run goes.
    sqlx::query("DROP TABLE IF EXISTS bench_raw_events")
        .execute(&pool)
        .await?;
    sqlx::query(RAW_TABLE)
        .execute(&pool)
        .await
        .context("creating bench_raw_events")?;
    sqlx::query(RAW_INDEX)
        .execute(&pool)
        .await
        .context("indexing bench_raw_events")?;

    eprintln!(
        "raw: {} connections inserting into bench_raw_events at {target} \
         (synchronous_commit={synchronous_commit}, fsync={fsync}), {} s warm-up, {} s measured",
        args.concurrency, args.warmup_seconds, args.seconds
    );
    let insert_pool = pool.clone();
    let report = load::closed_loop(args.concurrency as usize, args.limits(), move |n| {
        let pool = insert_pool.clone();
        async move { insert_raw(&pool, n).await }
    })
    .await;

    let dropped = sqlx::query("DROP TABLE bench_raw_events")
        .execute(&pool)
        .await;
    pool.close().await;
    dropped.context("dropping bench_raw_events")?;
    Ok(RawResult {
        synchronous_commit,
        fsync,
        throughput: Measured::from(&report),
    })
}

async fn insert_raw(pool: &PgPool, n: u64) -> anyhow::Result<()> {
    let data = json!({ "id": n, "name": format!("item {n}"), "description": "" });
    let done = sqlx::query(RAW_INSERT)
        .bind(format!("raw-{n}"))
        // Time-ordered, as the platform's event ids are.
        .bind(Uuid::now_v7())
        .bind(Uuid::new_v4().to_string())
        .bind(data)
        .execute(pool)
        .await?;
    ensure!(
        done.rows_affected() == 1,
        "inserted {} rows",
        done.rows_affected()
    );
    Ok(())
}
