//! errors-bench: what the errors context costs the platform. One run has three phases:
//!
//! 1. `commands`: the reference. `--concurrency` HTTP clients each loop on
//!    `POST {url}/api/v1/items`; every answer must be a `201`. Items created per second
//!    and latency percentiles.
//! 2. `ingest`: as many Sentry senders each loop on `POST {url}/api/{project}/envelope/`
//!    with a real Python SDK envelope of one exception (a fresh event id each), the key in
//!    `X-Sentry-Auth`, gzip-compressed as the Python SDK sends and then uncompressed as
//!    the Rust SDK sends (`--encodings`); every answer must be `200 {"id": <its id>}`.
//!    Envelopes per second and latency; their ratio to the commands' rate. Each event is
//!    one append through the same group-commit writer as an item command. Run after the
//!    commands, ingestion meets the larger events table: the order favours the commands.
//!    The project is created by the platform's admin (`--admin-email`, `--admin-password`)
//!    through `POST /api/v1/errors/projects` unless it exists, with a quota far above what
//!    a run sends.
//! 3. `layer`: `GET /api/v1/items/{id}` at `--layer-rate` requests a second on a fixed
//!    schedule against `--layer-url` (a platform with the error layer; default `--url`)
//!    and `--baseline-url` (the same without it), in `--layer-rounds` alternating rounds; p50/p99/p99.9 of each
//!    and the layer's overhead in % of p99.
//!
//! Each load warms up (`--warmup-seconds`) before it measures (`--seconds`, at most
//! `--max-requests`; `--layer-seconds` per round for the layer). The output is a table
//! and, with `--json`, one JSON summary line. The exit status is non-zero when any request
//! failed. The goals (ingestion at no less than the command rate; the layer under 5 % of
//! p99) are printed with whether this run met them; they do not change the exit status.
//!
//! Run it with freshly built platforms on fresh databases (builds, cleans up after):
//!
//! ```text
//! benches/run-errors-bench [--seconds 10 --concurrency 32 ...]
//! ```
//!
//! or against platforms that are already running:
//!
//! ```text
//! cargo build --release -p benches
//! ADMIN_EMAIL=root@example.com ADMIN_PASSWORD=... \
//!     target/release/errors-bench --url http://127.0.0.1:8080 \
//!     --baseline-url http://127.0.0.1:8081
//! ```
//!
//! Only loopback addresses are contacted unless `--allow-remote` is given.
//!
//! Layout: [`args`] the command line; [`project`] the project reported to; [`envelope`]
//! the envelope sent; [`ingest`] and [`layer`] their phases (the commands phase is
//! `benches::items`); [`report`] the results.

mod args;
mod envelope;
mod ingest;
mod layer;
mod project;
mod report;

use std::process::ExitCode;

use benches::{cli, http, items};
use clap::Parser;
use reqwest::Client;

use crate::{
    args::{Args, Phase},
    ingest::ingest_phase,
    layer::layer_phase,
    project::ensure_project,
    report::{Summary, print_table},
};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    args.phases.sort_unstable();
    args.phases.dedup();
    args.encodings.dedup();
    if let Err(error) = args.check_local() {
        eprintln!("errors-bench: {error:#}");
        return ExitCode::from(2);
    }
    let summary = run(&args).await;
    print_table(&args, &summary);
    cli::finish(
        "errors-bench",
        args.options.json,
        &summary,
        &summary.failures,
    )
}

async fn run(args: &Args) -> Summary {
    let mut summary = Summary::new(args);
    match http::client(args.concurrency as usize) {
        Ok(client) => run_phases(args, &client, &mut summary).await,
        Err(error) => summary.failures.push(format!("HTTP client: {error:#}")),
    }
    summary.compare();
    summary.passed = summary.failures.is_empty();
    summary
}

async fn run_phases(args: &Args, client: &Client, summary: &mut Summary) {
    if args.runs(Phase::Commands) {
        match commands(args, client).await {
            Ok(commands) => {
                if commands.errors > 0 {
                    summary.failures.push(format!(
                        "commands: {} requests did not get a valid 201",
                        commands.errors
                    ));
                }
                summary.commands = Some(commands);
            }
            Err(error) => summary.failures.push(format!("commands: {error:#}")),
        }
    }
    if args.runs(Phase::Ingest) {
        ingest(args, client, summary).await;
    }
    if let (true, Some(baseline)) = (args.runs(Phase::Layer), &args.baseline_url) {
        match layer_phase(args, client, baseline).await {
            Ok(layer) => {
                let errors = layer.with_layer.errors + layer.without_layer.errors;
                if errors > 0 {
                    summary
                        .failures
                        .push(format!("layer: {errors} requests did not get a valid 200"));
                }
                summary.layer = Some(layer);
            }
            Err(error) => summary.failures.push(format!("layer: {error:#}")),
        }
    }
}

async fn commands(args: &Args, client: &Client) -> anyhow::Result<benches::load::Measured> {
    let endpoints = items::Endpoints::new(&args.url, &args.url)?;
    eprintln!(
        "commands: {} clients on POST {}, {} s warm-up, {} s measured",
        args.concurrency, endpoints.create, args.warmup_seconds, args.seconds
    );
    let (measured, _) = items::create_items(
        client,
        &endpoints.create,
        args.concurrency as usize,
        args.limits(),
    )
    .await?;
    Ok(measured)
}

async fn ingest(args: &Args, client: &Client, summary: &mut Summary) {
    let project = match ensure_project(args, client).await {
        Ok(project) => project,
        Err(error) => {
            summary
                .failures
                .push(format!("ingest: the project: {error:#}"));
            return;
        }
    };
    for &encoding in &args.encodings {
        match ingest_phase(args, client, &project, encoding).await {
            Ok(result) => {
                if result.throughput.errors > 0 {
                    summary.failures.push(format!(
                        "ingest ({}): {} envelopes did not get a valid 200",
                        result.encoding, result.throughput.errors
                    ));
                }
                summary.ingest.push(result);
            }
            Err(error) => summary
                .failures
                .push(format!("ingest ({}): {error:#}", encoding.name())),
        }
    }
}
