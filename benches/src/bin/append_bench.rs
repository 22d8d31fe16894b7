//! append-bench: what it costs to append an event through the platform, compared with what
//! PostgreSQL alone can do on the same machine. One run has three phases:
//!
//! 1. `raw`: the PostgreSQL limit. `--concurrency` tasks each insert one row per transaction
//!    (autocommit, durable: the server's synchronous_commit) into a scratch table shaped like
//!    the `events` table, `bench_raw_events`, created in `--database-url` and dropped after.
//! 2. `commands`: command throughput. As many HTTP clients each loop on
//!    `POST {command-url}/api/v1/items`; every answer must be 201. Reports items created per
//!    second and latency percentiles.
//! 3. `lag`: end-to-end lag, a separate phase at a modest steady rate (`--lag-rate`) after the
//!    read model has caught up with the throughput phase. Each sample POSTs an item, then
//!    `GET {query-url}/api/v1/items/{id}` with `X-Min-Position`, which answers once the read
//!    model has applied the item. Samples start on a fixed schedule and are timed from their
//!    intended start (no coordinated omission).
//!
//! Each phase warms up (`--warmup-seconds`) before it measures (`--seconds`, at most
//! `--max-requests` operations). The output is a table, the ratio commands/s ÷ raw
//! inserts/s and, with `--json`, one JSON summary line. The exit status is non-zero when any
//! operation failed.
//!
//! Run it on a fresh database with a freshly built platform (builds both, cleans up after):
//!
//! ```text
//! benches/run-append-bench [--seconds 10 --concurrency 64 ...]
//! ```
//!
//! or against a platform that is already running:
//!
//! ```text
//! cargo build --release -p benches
//! target/release/append-bench --command-url http://127.0.0.1:8080 \
//!     --database-url postgres://postgres@127.0.0.1:5432/platform --phases raw,commands,lag
//! ```
//!
//! Only loopback addresses are contacted unless `--allow-remote` is given.

use std::{net::IpAddr, process::ExitCode, str::FromStr, time::Duration};

use anyhow::{Context, bail, ensure};
use benches::{
    http::{self, snippet},
    latency::{LatencySummary, Micros, Recorder},
    load::{self, Limits, Report},
};
use clap::{Parser, ValueEnum};
use reqwest::{Client, StatusCode, Url};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::time::Instant;
use uuid::Uuid;

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

/// Most lag samples in flight at once; beyond it the schedule waits (and the wait is
/// charged to the samples, measured from their intended start).
const LAG_MAX_IN_FLIGHT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Phase {
    /// Single-row INSERT transactions straight into PostgreSQL.
    Raw,
    /// POST /api/v1/items from concurrent clients.
    Commands,
    /// Time from a command's response until the query side can read its result.
    Lag,
}

#[derive(Debug, Parser)]
#[command(
    name = "append-bench",
    about = "Append throughput and latency: raw PostgreSQL inserts, item commands, command-to-readable lag"
)]
struct Args {
    /// Base URL of the command API.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    command_url: Url,

    /// Base URL of the query API [default: the command URL].
    #[arg(long)]
    query_url: Option<Url>,

    /// Database of the raw phase; it creates the table bench_raw_events there and drops it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/platform")]
    database_url: String,

    /// Concurrent clients of the raw and commands phases (and PostgreSQL connections of the
    /// raw phase).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,

    /// Measured seconds of each phase.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    seconds: f64,

    /// Warm-up seconds before each phase measures (results discarded).
    #[arg(long, default_value_t = 2.0, value_parser = seconds_or_zero)]
    warmup_seconds: f64,

    /// Most operations measured in one phase (the warm-up is bounded the same way).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: u64,

    /// Items measured by the lag phase.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    lag_samples: u64,

    /// Items per second created by the lag phase.
    #[arg(long, default_value_t = 200.0, value_parser = positive_rate)]
    lag_rate: f64,

    /// Longest the lag phase waits for the read model to catch up with the throughput phase
    /// before it starts.
    #[arg(long, default_value_t = 120.0, value_parser = positive_seconds)]
    catch_up_seconds: f64,

    /// Phases to run, comma-separated; they always run in the order raw, commands, lag.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "raw,commands,lag"
    )]
    phases: Vec<Phase>,

    /// Also print one machine-readable JSON summary line.
    #[arg(long)]
    json: bool,

    /// Allow URLs whose host is not a loopback address.
    #[arg(long)]
    allow_remote: bool,
}

impl Args {
    fn query_url(&self) -> &Url {
        self.query_url.as_ref().unwrap_or(&self.command_url)
    }

    fn runs(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    fn limits(&self) -> Limits {
        Limits {
            warmup: Duration::from_secs_f64(self.warmup_seconds),
            duration: Duration::from_secs_f64(self.seconds),
            max_ops: self.max_requests,
        }
    }
}

fn seconds_or_zero(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('s').parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && (0.0..=86_400.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 86400"
        )),
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    seconds_or_zero(text).and_then(|s| {
        (s > 0.0)
            .then_some(s)
            .ok_or_else(|| "must be more than 0".into())
    })
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 100_000.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate between 0 and 100000 per second"
        )),
    }
}

/// Throughput and latency of a closed-loop phase.
#[derive(Debug, Serialize)]
struct Throughput {
    ok: u64,
    errors: u64,
    seconds: f64,
    per_second: f64,
    latency_us: LatencySummary,
    warmup_ops: u64,
    warmup_errors: u64,
    error_samples: Vec<String>,
}

impl<T> From<&Report<T>> for Throughput {
    fn from(report: &Report<T>) -> Self {
        Self {
            ok: report.ok,
            errors: report.errors,
            seconds: report.elapsed.as_secs_f64(),
            per_second: report.ok_per_second(),
            latency_us: report.latency.summary(),
            warmup_ops: report.warmup_ops,
            warmup_errors: report.warmup_errors,
            error_samples: report.error_samples.clone(),
        }
    }
}

/// What the raw phase measured, and how durable its commits were.
#[derive(Debug, Serialize)]
struct RawResult {
    synchronous_commit: String,
    fsync: String,
    #[serde(flatten)]
    throughput: Throughput,
}

/// What the lag phase measured.
#[derive(Debug, Serialize)]
struct LagResult {
    rate: f64,
    ok: u64,
    errors: u64,
    /// How long after the end of the throughput phase the read model had applied all of it.
    catch_up_ms: Option<f64>,
    /// Intended start of the POST until its 201 arrived.
    post_us: LatencySummary,
    /// The 201 arriving until the GET with X-Min-Position answered 200: the lag.
    lag_us: LatencySummary,
    /// Intended start of the POST until the GET answered 200.
    total_us: LatencySummary,
    error_samples: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Summary {
    benchmark: &'static str,
    concurrency: u32,
    seconds: f64,
    warmup_seconds: f64,
    max_requests: u64,
    raw: Option<RawResult>,
    commands: Option<Throughput>,
    lag: Option<LagResult>,
    /// Items created per second ÷ raw inserts per second.
    commands_per_raw_insert: Option<f64>,
    failures: Vec<String>,
    passed: bool,
}

/// An item the command API created.
#[derive(Debug, Clone, Copy)]
struct Created {
    id: i64,
    position: i64,
}

/// Timings of one lag sample.
#[derive(Debug, Clone, Copy)]
struct LagSample {
    post: Duration,
    lag: Duration,
    total: Duration,
}

/// The URLs of the item endpoints.
#[derive(Debug, Clone)]
struct Endpoints {
    create: Url,
    query_base: String,
}

impl Endpoints {
    fn new(args: &Args) -> anyhow::Result<Self> {
        let create = format!("{}/api/v1/items", base(&args.command_url));
        Ok(Self {
            create: Url::parse(&create).with_context(|| format!("bad URL {create}"))?,
            query_base: format!("{}/api/v1/items", base(args.query_url())),
        })
    }

    fn item(&self, id: i64) -> String {
        format!("{}/{id}", self.query_base)
    }
}

fn base(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    args.phases.sort_unstable();
    args.phases.dedup();
    if let Err(error) = check_local(&args) {
        eprintln!("append-bench: {error:#}");
        return ExitCode::from(2);
    }
    let summary = run(&args).await;
    print_table(&args, &summary);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&summary).expect("the summary serializes")
        );
    }
    if summary.passed {
        ExitCode::SUCCESS
    } else {
        for failure in &summary.failures {
            eprintln!("append-bench: FAILED: {failure}");
        }
        ExitCode::FAILURE
    }
}

/// Refuses non-loopback hosts unless `--allow-remote`: the bench writes data and loads hard.
fn check_local(args: &Args) -> anyhow::Result<()> {
    if args.allow_remote {
        return Ok(());
    }
    let is_loopback = |host: &str| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    };
    let mut urls = Vec::new();
    if args.runs(Phase::Commands) || args.runs(Phase::Lag) {
        urls.push(&args.command_url);
    }
    if args.runs(Phase::Lag) {
        urls.push(args.query_url());
    }
    for url in urls {
        let host = url.host_str().unwrap_or_default();
        ensure!(
            is_loopback(host),
            "{url} is not on a loopback address; pass --allow-remote to load it anyway"
        );
    }
    if args.runs(Phase::Raw) {
        let options = PgConnectOptions::from_str(&args.database_url)
            .context("--database-url is not a PostgreSQL URL")?;
        let host = options.get_host();
        // A host starting with '/' is a Unix socket directory: local by construction.
        ensure!(
            host.starts_with('/') || is_loopback(host),
            "database host {host} is not a loopback address; pass --allow-remote to load it anyway"
        );
    }
    Ok(())
}

async fn run(args: &Args) -> Summary {
    let mut summary = Summary {
        benchmark: "append-bench",
        concurrency: args.concurrency,
        seconds: args.seconds,
        warmup_seconds: args.warmup_seconds,
        max_requests: args.max_requests,
        raw: None,
        commands: None,
        lag: None,
        commands_per_raw_insert: None,
        failures: Vec::new(),
        passed: false,
    };

    if args.runs(Phase::Raw) {
        match raw_phase(args).await {
            Ok(raw) => {
                if raw.throughput.errors > 0 {
                    summary
                        .failures
                        .push(format!("raw: {} inserts failed", raw.throughput.errors));
                }
                summary.raw = Some(raw);
            }
            Err(error) => summary.failures.push(format!("raw: {error:#}")),
        }
    }

    let client = match http::client(args.concurrency as usize) {
        Ok(client) => client,
        Err(error) => {
            summary.failures.push(format!("HTTP client: {error:#}"));
            return summary;
        }
    };
    let endpoints = match Endpoints::new(args) {
        Ok(endpoints) => endpoints,
        Err(error) => {
            summary.failures.push(format!("{error:#}"));
            return summary;
        }
    };

    let mut throughput_end = None;
    if args.runs(Phase::Commands) {
        match commands_phase(args, &client, &endpoints).await {
            Ok((commands, last)) => {
                if commands.errors > 0 {
                    summary.failures.push(format!(
                        "commands: {} requests did not get a valid 201",
                        commands.errors
                    ));
                }
                throughput_end = last.map(|created| (created, Instant::now()));
                summary.commands = Some(commands);
            }
            Err(error) => summary.failures.push(format!("commands: {error:#}")),
        }
    }

    if args.runs(Phase::Lag) {
        match lag_phase(args, &client, &endpoints, throughput_end).await {
            Ok((lag, mut failures)) => {
                if lag.errors > 0 {
                    failures.push(format!("lag: {} samples failed", lag.errors));
                }
                summary.failures.append(&mut failures);
                summary.lag = Some(lag);
            }
            Err(error) => summary.failures.push(format!("lag: {error:#}")),
        }
    }

    if let (Some(raw), Some(commands)) = (&summary.raw, &summary.commands)
        && raw.throughput.per_second > 0.0
    {
        summary.commands_per_raw_insert = Some(commands.per_second / raw.throughput.per_second);
    }
    summary.passed = summary.failures.is_empty();
    summary
}

/// Phase 1: single-row INSERT transactions straight into PostgreSQL.
async fn raw_phase(args: &Args) -> anyhow::Result<RawResult> {
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
        throughput: Throughput::from(&report),
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

/// Phase 2: concurrent clients creating items. Returns the measurement and the item with
/// the highest position.
async fn commands_phase(
    args: &Args,
    client: &Client,
    endpoints: &Endpoints,
) -> anyhow::Result<(Throughput, Option<Created>)> {
    create_item(client, &endpoints.create, "bench item probe")
        .await
        .with_context(|| format!("probe POST {}", endpoints.create))?;
    eprintln!(
        "commands: {} clients on POST {}, {} s warm-up, {} s measured",
        args.concurrency, endpoints.create, args.warmup_seconds, args.seconds
    );
    let (op_client, url) = (client.clone(), endpoints.create.clone());
    let report = load::closed_loop(args.concurrency as usize, args.limits(), move |n| {
        let (client, url) = (op_client.clone(), url.clone());
        async move { create_item(&client, &url, &format!("bench item {n}")).await }
    })
    .await;

    let mut throughput = Throughput::from(&report);
    // Every created item has its own id and its own position.
    for (what, mut values) in [
        ("id", report.values.iter().map(|c| c.id).collect::<Vec<_>>()),
        (
            "position",
            report.values.iter().map(|c| c.position).collect::<Vec<_>>(),
        ),
    ] {
        values.sort_unstable();
        values.dedup();
        let duplicates = report.values.len() - values.len();
        if duplicates > 0 {
            throughput.errors += duplicates as u64;
            throughput
                .error_samples
                .push(format!("{duplicates} responses repeated an {what}"));
        }
    }
    let last = report.values.iter().max_by_key(|c| c.position).copied();
    Ok((throughput, last))
}

/// `POST /api/v1/items`; anything but a 201 with matching `X-Position` and body is an error.
async fn create_item(client: &Client, url: &Url, name: &str) -> anyhow::Result<Created> {
    let response = client
        .post(url.clone())
        .json(&json!({ "name": name, "description": "created by append-bench" }))
        .send()
        .await?;
    let status = response.status();
    let header_position = response
        .headers()
        .get("x-position")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i64>().ok());
    let body = response.bytes().await?;
    if status != StatusCode::CREATED {
        bail!("status {status}: {}", snippet(&body));
    }
    let body: Value = serde_json::from_slice(&body).context("the 201 body is not JSON")?;
    let data = &body["data"];
    let (Some(id), Some(position)) = (data["id"].as_i64(), data["position"].as_i64()) else {
        bail!("the 201 body has no data.id or data.position: {body}");
    };
    let header_position = header_position.context("the 201 has no X-Position header")?;
    ensure!(
        header_position == position,
        "X-Position {header_position} differs from data.position {position}"
    );
    Ok(Created { id, position })
}

/// `GET /api/v1/items/{id}` with `X-Min-Position`: 200 with the item, or an error (a 504
/// means the read model did not reach the position within the server's bound).
async fn read_item(client: &Client, endpoints: &Endpoints, item: Created) -> anyhow::Result<()> {
    let response = client
        .get(endpoints.item(item.id))
        .header("X-Min-Position", item.position)
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    match status {
        StatusCode::OK => {}
        StatusCode::GATEWAY_TIMEOUT => bail!(
            "504: the read model did not reach position {} in time",
            item.position
        ),
        _ => bail!("GET item {}: status {status}: {}", item.id, snippet(&body)),
    }
    let body: Value = serde_json::from_slice(&body).context("the 200 body is not JSON")?;
    ensure!(
        body["data"]["id"].as_i64() == Some(item.id),
        "GET item {} answered another item: {body}",
        item.id
    );
    Ok(())
}

/// Phase 3: lag from a command's response until its item is readable.
async fn lag_phase(
    args: &Args,
    client: &Client,
    endpoints: &Endpoints,
    throughput_end: Option<(Created, Instant)>,
) -> anyhow::Result<(LagResult, Vec<String>)> {
    let mut failures = Vec::new();
    let mut catch_up_ms = None;
    if let Some((last, ended)) = throughput_end {
        eprintln!(
            "lag: waiting for the read model to reach position {} (end of the throughput phase)",
            last.position
        );
        let bound = Duration::from_secs_f64(args.catch_up_seconds);
        match wait_readable(client, endpoints, last, ended + bound).await {
            Ok(()) => catch_up_ms = Some(ended.elapsed().as_secs_f64() * 1e3),
            Err(error) => failures.push(format!(
                "lag: the read model did not catch up with the throughput phase within {} s: {error:#}",
                args.catch_up_seconds
            )),
        }
    }

    let probe = create_item(client, &endpoints.create, "bench lag probe")
        .await
        .with_context(|| format!("probe POST {}", endpoints.create))?;
    read_item(client, endpoints, probe)
        .await
        .with_context(|| format!("probe GET {}", endpoints.item(probe.id)))?;

    eprintln!(
        "lag: {} items/s, {} s warm-up, then {} items (at most {} s)",
        args.lag_rate, args.warmup_seconds, args.lag_samples, args.seconds
    );
    let limits = Limits {
        max_ops: args.lag_samples,
        ..args.limits()
    };
    let (op_client, op_endpoints) = (client.clone(), endpoints.clone());
    let report = load::open_loop(
        args.lag_rate,
        LAG_MAX_IN_FLIGHT,
        limits,
        move |n, intended| {
            let (client, endpoints) = (op_client.clone(), op_endpoints.clone());
            async move {
                let item =
                    create_item(&client, &endpoints.create, &format!("bench lag item {n}")).await?;
                let posted = Instant::now();
                read_item(&client, &endpoints, item).await?;
                let readable = Instant::now();
                anyhow::Ok(LagSample {
                    post: posted.saturating_duration_since(intended),
                    lag: readable.saturating_duration_since(posted),
                    total: readable.saturating_duration_since(intended),
                })
            }
        },
    )
    .await;

    let (mut post, mut lag, mut total) = (Recorder::new(), Recorder::new(), Recorder::new());
    for sample in &report.values {
        post.record(sample.post);
        lag.record(sample.lag);
        total.record(sample.total);
    }
    let result = LagResult {
        rate: args.lag_rate,
        ok: report.ok,
        errors: report.errors,
        catch_up_ms,
        post_us: post.summary(),
        lag_us: lag.summary(),
        total_us: total.summary(),
        error_samples: report.error_samples,
    };
    Ok((result, failures))
}

/// Reads `item` with `X-Min-Position`, asking again after each 504 until `deadline`.
async fn wait_readable(
    client: &Client,
    endpoints: &Endpoints,
    item: Created,
    deadline: Instant,
) -> anyhow::Result<()> {
    loop {
        match read_item(client, endpoints, item).await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn print_table(args: &Args, summary: &Summary) {
    println!();
    println!(
        "append-bench: concurrency {}, {} s measured per phase after {} s of warm-up (at most {} operations)",
        args.concurrency, args.seconds, args.warmup_seconds, args.max_requests
    );
    if let Some(raw) = &summary.raw {
        println!(
            "PostgreSQL durability: synchronous_commit={}, fsync={}",
            raw.synchronous_commit, raw.fsync
        );
    }
    let has_throughput = summary.raw.is_some() || summary.commands.is_some();
    if has_throughput {
        println!();
        println!(
            "{:<34} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "phase", "ok", "errors", "ops/s", "p50", "p99", "p99.9", "max"
        );
    }
    let row = |name: &str, t: &Throughput| {
        let l = t.latency_us;
        println!(
            "{:<34} {:>9} {:>7} {:>10.1} {:>10} {:>10} {:>10} {:>10}",
            name,
            t.ok,
            t.errors,
            t.per_second,
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.p999_us),
            Micros(l.max_us),
        );
    };
    if let Some(raw) = &summary.raw {
        row("raw INSERT, 1 row per transaction", &raw.throughput);
    }
    if let Some(commands) = &summary.commands {
        row("POST /api/v1/items (201)", commands);
    }
    if let Some(lag) = &summary.lag {
        println!();
        println!(
            "end-to-end lag: a separate phase after the throughput phase, {} items/s, {} items measured, {} errors",
            lag.rate, lag.ok, lag.errors
        );
        if let Some(ms) = lag.catch_up_ms {
            println!(
                "  (the read model had applied the whole throughput phase {:.0} ms after it ended)",
                ms
            );
        }
        println!("  {:<44} {:>10} {:>10} {:>10}", "", "p50", "p99", "max");
        for (name, l) in [
            ("POST sent -> 201 received", lag.post_us),
            ("201 received -> item readable (lag)", lag.lag_us),
            ("POST sent -> item readable (total)", lag.total_us),
        ] {
            println!(
                "  {:<44} {:>10} {:>10} {:>10}",
                name,
                Micros(l.p50_us),
                Micros(l.p99_us),
                Micros(l.max_us)
            );
        }
        println!("  (\"sent\" is the intended start on the fixed schedule)");
    }
    let samples = summary
        .raw
        .iter()
        .map(|raw| ("raw", &raw.throughput.error_samples))
        .chain(
            summary
                .commands
                .iter()
                .map(|c| ("commands", &c.error_samples)),
        )
        .chain(summary.lag.iter().map(|l| ("lag", &l.error_samples)));
    for (phase, errors) in samples {
        for error in errors {
            println!("  {phase} error: {error}");
        }
    }
    if let Some(ratio) = summary.commands_per_raw_insert {
        println!();
        println!("commands/s ÷ raw inserts/s = {ratio:.3}");
    }
    println!();
    println!("result: {}", if summary.passed { "PASS" } else { "FAIL" });
}
