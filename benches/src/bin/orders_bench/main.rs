//! orders-bench: `GET /api/v1/orders` with a million orders in the read model, straight
//! from PostgreSQL (a query-api with `CACHE_CAPACITY=0`) against the platform with its
//! caches, under the same load in the same run.
//!
//! 1. Setup: registers and logs in `--members` members, writes `--orders` OrderPlaced
//!    events of `--order-members` members (the real ones first) straight into the event log
//!    in one transaction (plus a status change to PAID for every second order of each
//!    member), waits for the projector to build the read model, flushes it all to disk
//!    (`VACUUM (ANALYZE)`, `CHECKPOINT`), checks a few orders placed
//!    through the API and the listing totals against the seed, and prints the query plans.
//! 2. `throughput`: `--concurrency` clients in a closed loop, uncached then cached.
//! 3. `latency`: an open loop at a fixed rate, timed from each request's intended start (no
//!    coordinated omission): uncached at `--uncached-rate` (default 80 % of its measured
//!    throughput), cached at `--rate`.
//!
//! The latency phase starts with `GET /healthz` of the cached target at `--rate` (the
//! `trivial` row): the same client, loop and machine against an endpoint that does nothing,
//! so that the tail the load generator and the machine add is told apart from the
//! platform's.
//!
//! With `--balanced-url`, a third target, `nginx`, takes both phases after the cached one:
//! the deployment's load balancer in front of two query-api instances with their caches,
//! whose `/metrics` (`--balanced-metrics-urls`) show how the requests were spread; its
//! open loop runs at `--balanced-rate` (default 80 % of its throughput, at most `--rate`).
//!
//! Every request is one of a fixed mix (70 % page 1, 15 % page 2, 10 % paid orders, 5 %
//! oldest first) for one of the members, both chosen from the request number. Reports
//! requests/s, p50/p99/p99.9/max latency, the cache hit ratio from the cached target's
//! `/metrics`, and cached ÷ uncached throughput; `--json` adds one summary line. The exit
//! status is non-zero when any request or check failed. The goal (over 20,000 requests/s
//! cached with p99 under 5 ms) is printed with whether this run met it.
//!
//! Run it on a fresh database (builds everything, starts both targets, cleans up after):
//!
//! ```text
//! benches/run-orders-bench [--seconds 10 --rate 20000 ...]
//! ```
//!
//! Only loopback addresses are contacted unless `--allow-remote` is given.

mod api;
mod args;
mod check;
mod phases;
mod report;
mod seed;

use std::{process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use clap::Parser;
use serde::Serialize;
use tokio::time::{Instant, timeout};
use uuid::Uuid;

use crate::{
    args::{Args, Phase},
    phases::{PhaseResult, Target},
};

/// The goal: more than this many requests/s cached...
const GOAL_PER_SECOND: f64 = 20_000.0;
/// ...with p99 under this.
const GOAL_P99_US: u64 = 5_000;
/// Orders placed through the API after the seed, as member 0.
const SANITY_ORDERS: u32 = 5;
/// Default open-loop rate of the uncached and the load-balanced target: this share of its
/// throughput.
const OPEN_LOOP_RATE_SHARE: f64 = 0.8;

/// How long the setup took.
#[derive(Debug, Default, Serialize)]
pub struct Setup {
    pub registration_seconds: f64,
    pub seeded_orders: i64,
    pub status_changes: i64,
    pub seed_seconds: Option<f64>,
    pub seed_events_per_second: Option<f64>,
    pub projection_seconds: Option<f64>,
    pub projection_events_per_second: Option<f64>,
    pub vacuum_seconds: Option<f64>,
    /// The `CHECKPOINT` that flushed the seed's writes before the loads.
    pub checkpoint_seconds: Option<f64>,
    /// The seed left the log's statistics stale (`--stale-statistics`).
    pub stale_statistics: bool,
}

/// The goal, and what this run measured against it.
#[derive(Debug, Serialize)]
pub struct Goal {
    pub per_second: f64,
    pub p99_us: u64,
    /// The cached closed loop did more than `per_second`, and the cached open loop at
    /// `per_second` or more kept its rate (99 %) with p99 under `p99_us` and no errors.
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    benchmark: &'static str,
    orders: i64,
    members: u32,
    order_members: u32,
    concurrency: u32,
    seconds: f64,
    warmup_seconds: f64,
    max_requests: u64,
    setup: Setup,
    throughput_uncached: Option<PhaseResult>,
    throughput_cached: Option<PhaseResult>,
    latency_uncached: Option<PhaseResult>,
    latency_trivial: Option<PhaseResult>,
    latency_cached: Option<PhaseResult>,
    throughput_balanced: Option<PhaseResult>,
    latency_balanced: Option<PhaseResult>,
    /// Cached ÷ uncached requests/s of the throughput phase.
    cached_per_uncached: Option<f64>,
    /// Through nginx ÷ cached direct requests/s of the throughput phase.
    balanced_per_cached: Option<f64>,
    goal: Goal,
    failures: Vec<String>,
    passed: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    args.phases.sort_unstable();
    args.phases.dedup();
    if let Err(error) = args::check_args(&args) {
        eprintln!("orders-bench: {error:#}");
        return ExitCode::from(2);
    }
    let mut summary = Summary {
        benchmark: "orders-bench",
        orders: args.orders,
        members: args.members,
        order_members: args.order_members,
        concurrency: args.concurrency,
        seconds: args.seconds,
        warmup_seconds: args.warmup_seconds,
        max_requests: args.max_requests,
        setup: Setup {
            stale_statistics: args.stale_statistics,
            ..Setup::default()
        },
        throughput_uncached: None,
        throughput_cached: None,
        latency_uncached: None,
        latency_trivial: None,
        latency_cached: None,
        throughput_balanced: None,
        latency_balanced: None,
        cached_per_uncached: None,
        balanced_per_cached: None,
        goal: Goal {
            per_second: GOAL_PER_SECOND,
            p99_us: GOAL_P99_US,
            met: false,
        },
        failures: Vec::new(),
        passed: false,
    };
    if let Err(error) = run(&args, &mut summary).await {
        summary.failures.push(format!("{error:#}"));
    }
    finish(&mut summary);
    report::print_table(&args, &summary);
    benches::cli::finish(
        "orders-bench",
        args.options.json,
        &summary,
        &summary.failures,
    )
}

/// Setup, checks and load phases. An error here ends the run; failed checks and requests
/// are recorded in `summary` and the run goes on.
async fn run(args: &Args, summary: &mut Summary) -> anyhow::Result<()> {
    // One client and connection pool per target, as large as the most requests in flight.
    let pool_size = args.concurrency.max(args.max_in_flight) as usize;
    let cached_client = api::client(pool_size)?;
    let trivial_client = api::client(pool_size)?;
    let uncached_client = api::client(pool_size)?;
    let balanced_client = api::client(pool_size)?;

    eprintln!(
        "setup: registering and logging in {} members at {}",
        args.members, args.cached_url
    );
    let started = Instant::now();
    let tag = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let members = api::register_members(&cached_client, &args.cached_url, &tag, args.members)
        .await
        .context("registering members")?;
    summary.setup.registration_seconds = started.elapsed().as_secs_f64();

    let db = seed::connect(&args.database_url).await?;
    let member_ids: Vec<Uuid> = members
        .iter()
        .map(|m| m.id)
        .chain((args.members..args.order_members).map(|_| Uuid::new_v4()))
        .collect();
    let seed_timeout = Duration::from_secs_f64(args.seed_timeout_seconds);
    let mut last_seeded = 0;
    if args.orders > 0 {
        eprintln!(
            "setup: seeding {} orders of {} members into the event log{}",
            args.orders,
            args.order_members,
            if args.stale_statistics {
                ", leaving its statistics stale"
            } else {
                ""
            }
        );
        let analyze = !args.stale_statistics;
        let seeded = timeout(
            seed_timeout,
            seed::seed(&db, &member_ids, args.orders, analyze),
        )
        .await
        .context("the seed timed out")??;
        let events = seeded.head_after - seeded.head_before;
        let seed_seconds = seeded.elapsed.as_secs_f64();
        eprintln!(
            "setup: {events} events ({} OrderPlaced, {} OrderStatusChanged) at positions {}..={} in {seed_seconds:.1} s",
            seeded.orders,
            seeded.status_changes,
            seeded.head_before + 1,
            seeded.head_after
        );
        let projection =
            seed::wait_projected(&db, seeded.head_before, seeded.head_after, seed_timeout)
                .await?
                .as_secs_f64();
        eprintln!(
            "setup: the orders projection applied them in {projection:.1} s ({:.0} events/s)",
            events as f64 / projection
        );
        let setup = &mut summary.setup;
        setup.seeded_orders = seeded.orders;
        setup.status_changes = seeded.status_changes;
        setup.seed_seconds = Some(seed_seconds);
        setup.seed_events_per_second = Some(events as f64 / seed_seconds);
        setup.projection_seconds = Some(projection);
        setup.projection_events_per_second = Some(events as f64 / projection);
        last_seeded = seeded.base + seeded.orders;
        let vacuum = seed::vacuum_analyze(&db).await?.as_secs_f64();
        eprintln!("setup: VACUUM (ANALYZE) orders in {vacuum:.1} s");
        summary.setup.vacuum_seconds = Some(vacuum);
        let checkpoint = seed::checkpoint(&db).await?.as_secs_f64();
        eprintln!("setup: CHECKPOINT in {checkpoint:.1} s");
        summary.setup.checkpoint_seconds = Some(checkpoint);
    }

    let placed = check::place_orders(
        &cached_client,
        &args.cached_url,
        &members[0],
        SANITY_ORDERS,
        last_seeded,
    )
    .await
    .context("placing orders through the API")?;
    let last = placed.iter().map(|p| p.position).max().unwrap_or(0);
    seed::wait_projected(&db, last, last, seed_timeout)
        .await
        .context("waiting for the orders placed through the API")?;
    let mut targets = vec![
        ("uncached", &uncached_client, &args.uncached_url),
        ("cached", &cached_client, &args.cached_url),
    ];
    if let Some(url) = &args.balanced_url {
        targets.push(("nginx", &balanced_client, url));
    }
    let mismatches = check::verify_totals(
        &targets,
        &members,
        i64::from(args.order_members),
        args.orders,
        i64::from(SANITY_ORDERS),
    )
    .await
    .context("reading listing totals")?;
    summary.failures.extend(mismatches);
    match seed::print_plans(&db, member_ids[0]).await {
        Ok(failures) => summary.failures.extend(failures),
        Err(error) => summary.failures.push(format!("query plans: {error:#}")),
    }
    db.close().await;
    if args.setup_only {
        return Ok(());
    }

    let uncached = Arc::new(Target::new(
        "uncached",
        &args.uncached_url,
        std::slice::from_ref(&args.uncached_metrics_url),
        uncached_client,
        &members,
    )?);
    let cached = Arc::new(Target::new(
        "cached",
        &args.cached_url,
        std::slice::from_ref(&args.cached_metrics_url),
        cached_client,
        &members,
    )?);
    let balanced = match &args.balanced_url {
        Some(url) => Some(Arc::new(Target::new(
            "nginx",
            url,
            &args.balanced_metrics_urls,
            balanced_client,
            &members,
        )?)),
        None => None,
    };
    let limits = args.limits();
    if args.phases.contains(&Phase::Throughput) {
        let concurrency = args.concurrency as usize;
        summary.throughput_uncached = record(
            &mut summary.failures,
            "throughput",
            phases::throughput(&uncached, concurrency, limits).await,
        );
        summary.throughput_cached = record(
            &mut summary.failures,
            "throughput",
            phases::throughput(&cached, concurrency, limits).await,
        );
        if let Some(balanced) = &balanced {
            summary.throughput_balanced = record(
                &mut summary.failures,
                "throughput",
                phases::throughput(balanced, concurrency, limits).await,
            );
        }
    }
    if args.phases.contains(&Phase::Latency) {
        let in_flight = args.max_in_flight as usize;
        match open_loop_rate(args.uncached_rate, &summary.throughput_uncached, args.rate) {
            Some(rate) if rate > 0.0 => {
                summary.latency_uncached = record(
                    &mut summary.failures,
                    "latency",
                    phases::latency(&uncached, rate, in_flight, limits).await,
                );
            }
            _ => summary.failures.push(
                "latency, uncached: no rate (pass --uncached-rate, or run the throughput phase)"
                    .into(),
            ),
        }
        let trivial = Arc::new(Target::trivial(
            "trivial",
            &args.cached_url,
            trivial_client,
        )?);
        summary.latency_trivial = record(
            &mut summary.failures,
            "latency",
            phases::latency(&trivial, args.rate, in_flight, limits).await,
        );
        summary.latency_cached = record(
            &mut summary.failures,
            "latency",
            phases::latency(&cached, args.rate, in_flight, limits).await,
        );
        if let Some(balanced) = &balanced {
            let rate = open_loop_rate(args.balanced_rate, &summary.throughput_balanced, args.rate)
                .unwrap_or(args.rate);
            summary.latency_balanced = record(
                &mut summary.failures,
                "latency",
                phases::latency(balanced, rate, in_flight, limits).await,
            );
        }
    }
    Ok(())
}

/// The rate of a target's open loop: the one given, else a share of the throughput it
/// measured, at most `ceiling`; None when neither is known.
fn open_loop_rate(
    given: Option<f64>,
    throughput: &Option<PhaseResult>,
    ceiling: f64,
) -> Option<f64> {
    given.or(throughput
        .as_ref()
        .map(|t| (t.measured.per_second * OPEN_LOOP_RATE_SHARE).min(ceiling)))
}

/// Keeps a phase's result, recording its failed requests and a cache that does not behave
/// as its target's name says.
fn record(
    failures: &mut Vec<String>,
    phase: &str,
    result: anyhow::Result<PhaseResult>,
) -> Option<PhaseResult> {
    let result = match result {
        Ok(result) => result,
        Err(error) => {
            failures.push(format!("{phase}: {error:#}"));
            return None;
        }
    };
    let name = format!("{phase}, {}", result.target);
    if result.measured.errors > 0 {
        failures.push(format!(
            "{name}: {} requests failed",
            result.measured.errors
        ));
    }
    let lookups = result.cache.as_ref().map_or(0, |c| c.hits + c.misses);
    let hits = result.cache.as_ref().map_or(0, |c| c.hits);
    let spread = result
        .cache
        .as_ref()
        .map_or(&[][..], |c| &c.lookups_per_instance[..]);
    match result.target {
        "cached" | "nginx" if lookups == 0 => failures.push(format!(
            "{name}: /metrics counted no cache_requests_total{{cache=\"order_pages\"}} lookups"
        )),
        "nginx" if spread.contains(&0) => failures.push(format!(
            "{name}: not every query-api instance served (lookups per instance {spread:?})"
        )),
        "uncached" if hits > 0 => failures.push(format!(
            "{name}: {hits} cache hits on the uncached target (CACHE_CAPACITY=0 should disable its cache)"
        )),
        _ => {}
    }
    Some(result)
}

/// The ratio, the goal and the verdict.
fn finish(summary: &mut Summary) {
    if let (Some(uncached), Some(cached)) =
        (&summary.throughput_uncached, &summary.throughput_cached)
        && uncached.measured.per_second > 0.0
    {
        summary.cached_per_uncached =
            Some(cached.measured.per_second / uncached.measured.per_second);
    }
    if let (Some(cached), Some(balanced)) =
        (&summary.throughput_cached, &summary.throughput_balanced)
        && cached.measured.per_second > 0.0
    {
        summary.balanced_per_cached =
            Some(balanced.measured.per_second / cached.measured.per_second);
    }
    let closed = summary
        .throughput_cached
        .as_ref()
        .is_some_and(|t| t.measured.per_second > GOAL_PER_SECOND);
    let open = summary.latency_cached.as_ref().is_some_and(|l| {
        let rate = l.target_rate.unwrap_or(0.0);
        rate >= GOAL_PER_SECOND
            && l.measured.per_second >= 0.99 * rate
            && l.measured.latency_us.p99_us < GOAL_P99_US
            && l.measured.errors == 0
    });
    summary.goal.met = closed && open;
    summary.passed = summary.failures.is_empty();
}
