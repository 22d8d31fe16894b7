//! Phase 3, `lag`: from a command's response until its item is readable, on a fixed
//! schedule after the read model has caught up with the throughput phase.

use std::time::Duration;

use anyhow::Context;
use benches::{
    items::{Created, Endpoints, create_item, read_item, wait_readable},
    latency::{LatencySummary, Recorder},
    load::{self, Limits},
};
use reqwest::Client;
use serde::Serialize;
use tokio::time::Instant;

use crate::args::Args;

/// Most lag samples in flight at once; beyond it the schedule waits (and the wait is
/// charged to the samples, measured from their intended start).
const LAG_MAX_IN_FLIGHT: usize = 4096;

/// Timings of one lag sample.
#[derive(Debug, Clone, Copy)]
struct LagSample {
    post: Duration,
    lag: Duration,
    total: Duration,
}

/// What the lag phase measured.
#[derive(Debug, Serialize)]
pub(crate) struct LagResult {
    pub rate: f64,
    pub ok: u64,
    pub errors: u64,
    /// How long after the end of the throughput phase the read model had applied all of it.
    pub catch_up_ms: Option<f64>,
    /// Intended start of the POST until its 201 arrived.
    pub post_us: LatencySummary,
    /// The 201 arriving until the GET with X-Min-Position answered 200: the lag.
    pub lag_us: LatencySummary,
    /// Intended start of the POST until the GET answered 200.
    pub total_us: LatencySummary,
    pub error_samples: Vec<String>,
}

/// Phase 3: lag from a command's response until its item is readable.
pub(crate) async fn lag_phase(
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
