//! Phase `layer`: what the error layer costs a request. The same endpoint,
//! `GET /api/v1/items/{id}`, on two platforms that differ only in the layer, at the same
//! fixed rate (an open loop: latency from each request's intended start, so a stall is
//! charged to every request it delays). The two are measured in alternating rounds, the
//! order swapped each round, so that a change of the shared machine's load reaches both.

use std::time::Duration;

use anyhow::Context;
use benches::{
    items::{Created, Endpoints, create_item, read_item, wait_readable},
    latency::{LatencySummary, Recorder},
    load::{self, Limits},
};
use reqwest::{Client, Url};
use serde::Serialize;
use tokio::time::Instant;

use crate::args::Args;

/// Requests in flight at most; beyond it the schedule waits, and the wait is charged.
const MAX_IN_FLIGHT: usize = 256;
/// How long a new item may take to become readable before the phase starts.
const READABLE_WITHIN: Duration = Duration::from_secs(30);

/// One platform's requests over all rounds.
#[derive(Debug, Serialize)]
pub(crate) struct Side {
    pub ok: u64,
    pub errors: u64,
    pub latency_us: LatencySummary,
    /// Each round's p99, to show how much it moves from round to round.
    pub p99_us_by_round: Vec<u64>,
    pub error_samples: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LayerResult {
    pub endpoint: &'static str,
    pub rate: f64,
    pub rounds: u32,
    pub seconds_per_round: f64,
    pub with_layer: Side,
    pub without_layer: Side,
    /// (with − without) ÷ without, in %, of p50, p99 and p99.9.
    pub p50_overhead_percent: f64,
    pub p99_overhead_percent: f64,
    pub p999_overhead_percent: f64,
}

/// A platform under measurement: its item and what it measured so far.
struct Platform {
    endpoints: Endpoints,
    item: Created,
    latency: Recorder,
    ok: u64,
    errors: u64,
    p99_by_round: Vec<u64>,
    error_samples: Vec<String>,
}

impl Platform {
    /// Creates the item the phase reads, and waits until it is readable.
    async fn prepare(client: &Client, url: &Url) -> anyhow::Result<Self> {
        let endpoints = Endpoints::new(url, url)?;
        let item = create_item(client, &endpoints.create, "bench layer item")
            .await
            .with_context(|| format!("probe POST {}", endpoints.create))?;
        wait_readable(client, &endpoints, item, Instant::now() + READABLE_WITHIN)
            .await
            .with_context(|| format!("probe GET {}", endpoints.item(item.id)))?;
        Ok(Self {
            endpoints,
            item,
            latency: Recorder::new(),
            ok: 0,
            errors: 0,
            p99_by_round: Vec::new(),
            error_samples: Vec::new(),
        })
    }

    /// One round: `rate` reads a second for the limits' time.
    async fn round(&mut self, client: &Client, rate: f64, limits: Limits) {
        let (client, endpoints, item) = (client.clone(), self.endpoints.clone(), self.item);
        let report = load::open_loop(rate, MAX_IN_FLIGHT, limits, move |_, _| {
            let (client, endpoints) = (client.clone(), endpoints.clone());
            async move { read_item(&client, &endpoints, item).await }
        })
        .await;
        self.latency.merge(&report.latency);
        self.ok += report.ok;
        self.errors += report.errors;
        self.p99_by_round.push(report.latency.summary().p99_us);
        let room = 5usize.saturating_sub(self.error_samples.len());
        self.error_samples
            .extend(report.error_samples.into_iter().take(room));
    }

    fn side(self) -> Side {
        Side {
            ok: self.ok,
            errors: self.errors,
            latency_us: self.latency.summary(),
            p99_us_by_round: self.p99_by_round,
            error_samples: self.error_samples,
        }
    }
}

pub(crate) async fn layer_phase(
    args: &Args,
    client: &Client,
    baseline: &Url,
) -> anyhow::Result<LayerResult> {
    let mut without = Platform::prepare(client, baseline)
        .await
        .context("the platform without the layer")?;
    let mut with = Platform::prepare(client, args.layer_url())
        .await
        .context("the platform with the layer")?;
    // At most twice the scheduled requests, to bound a round by count as well.
    let max_ops = (args.layer_rate * args.layer_seconds * 2.0).ceil() as u64;
    let limits = Limits::from_seconds(args.warmup_seconds, args.layer_seconds, max_ops);
    eprintln!(
        "layer: GET {} and GET {}, {} requests/s, {} rounds of {} s each (after {} s of warm-up)",
        with.endpoints.item(with.item.id),
        without.endpoints.item(without.item.id),
        args.layer_rate,
        args.layer_rounds,
        args.layer_seconds,
        args.warmup_seconds
    );
    for round in 0..args.layer_rounds {
        let (first, second) = if round % 2 == 0 {
            (&mut without, &mut with)
        } else {
            (&mut with, &mut without)
        };
        first.round(client, args.layer_rate, limits).await;
        second.round(client, args.layer_rate, limits).await;
    }
    let (with, without) = (with.side(), without.side());
    let overhead = |on: u64, off: u64| {
        if off == 0 {
            0.0
        } else {
            (on as f64 - off as f64) / off as f64 * 100.0
        }
    };
    let (on, off) = (with.latency_us, without.latency_us);
    Ok(LayerResult {
        endpoint: "GET /api/v1/items/{id}",
        rate: args.layer_rate,
        rounds: args.layer_rounds,
        seconds_per_round: args.layer_seconds,
        p50_overhead_percent: overhead(on.p50_us, off.p50_us),
        p99_overhead_percent: overhead(on.p99_us, off.p99_us),
        p999_overhead_percent: overhead(on.p999_us, off.p999_us),
        with_layer: with,
        without_layer: without,
    })
}
