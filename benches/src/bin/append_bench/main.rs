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
//! operation failed. The goal (commands at no less than the raw rate, p99 under 20 ms) is
//! printed with whether this run met it; it does not change the exit status.
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

mod args;
mod commands;
mod lag;
mod raw;
mod report;

use std::process::ExitCode;

use benches::{cli, http, items::Endpoints};
use clap::Parser;
use tokio::time::Instant;

use crate::{
    args::{Args, Phase},
    commands::commands_phase,
    lag::lag_phase,
    raw::raw_phase,
    report::{GOAL_P99_US, Summary, print_table},
};

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
    cli::finish(
        "append-bench",
        args.options.json,
        &summary,
        &summary.failures,
    )
}

/// Refuses non-loopback hosts unless `--allow-remote`: the bench writes data and loads hard.
fn check_local(args: &Args) -> anyhow::Result<()> {
    if args.options.allow_remote {
        return Ok(());
    }
    if args.runs(Phase::Commands) || args.runs(Phase::Lag) {
        cli::ensure_loopback_url(&args.command_url)?;
    }
    if args.runs(Phase::Lag) {
        cli::ensure_loopback_url(args.query_url())?;
    }
    if args.runs(Phase::Raw) {
        cli::ensure_loopback_database(&args.database_url)?;
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
        goal_met: None,
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
    let endpoints = match Endpoints::new(&args.command_url, args.query_url()) {
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
        let ratio = commands.per_second / raw.throughput.per_second;
        summary.commands_per_raw_insert = Some(ratio);
        summary.goal_met = Some(ratio >= 1.0 && commands.latency_us.p99_us < GOAL_P99_US);
    }
    summary.passed = summary.failures.is_empty();
    summary
}
