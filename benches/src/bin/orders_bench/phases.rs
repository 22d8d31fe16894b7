//! The load phases: the same deterministic request mix of `GET /api/v1/orders` against the
//! uncached and the cached target, in a closed loop (throughput) and an open loop
//! (latency at a fixed rate), with the order page cache counters read around each.

use std::sync::Arc;

use anyhow::bail;
use benches::load::{self, Limits, Measured, Report};
use reqwest::{
    Client, StatusCode, Url,
    header::{AUTHORIZATION, HeaderValue},
};
use serde::Serialize;
use tokio::time::{Instant, sleep_until};

use crate::api::{self, CacheCounts, Member};

/// The listings asked for, and how often in percent; they add up to 100.
const MIX: [(&str, u64); 4] = [
    ("page=1&size=20", 70),
    ("page=2&size=20", 15),
    ("status=PAID&page=1&size=20", 10),
    ("sort=oldest&page=1&size=20", 5),
];

/// What every answer must start with: the success envelope (checked without parsing).
const OK_PREFIX: &[u8] = br#"{"status":"ok""#;

/// One system under test: its client (and connection pool), its listing URLs and the
/// members' pre-formatted `Authorization` values.
pub(crate) struct Target {
    pub name: &'static str,
    /// Where the `/metrics` of its query-api instances are served (several behind nginx).
    pub metrics: Vec<Url>,
    client: Client,
    urls: Vec<Url>,
    auth: Vec<HeaderValue>,
}

impl Target {
    pub(crate) fn new(
        name: &'static str,
        base: &Url,
        metrics: &[Url],
        client: Client,
        members: &[Member],
    ) -> anyhow::Result<Self> {
        let urls = MIX
            .iter()
            .map(|(query, _)| api::endpoint(base, &format!("/api/v1/orders?{query}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            name,
            metrics: metrics.to_vec(),
            client,
            urls,
            auth: members.iter().map(|m| m.auth.clone()).collect(),
        })
    }

    /// The same client and loop against `GET /healthz` of `base`, which does nothing but
    /// answer: what the load generator, the HTTP stack and the machine cost alone.
    pub(crate) fn trivial(name: &'static str, base: &Url, client: Client) -> anyhow::Result<Self> {
        let url = api::endpoint(base, "/healthz")?;
        Ok(Self {
            name,
            metrics: Vec::new(),
            client,
            urls: vec![url; MIX.len()],
            auth: Vec::new(),
        })
    }

    /// Request `n` of the mix: its member and listing follow from `n` alone.
    async fn request(&self, n: u64) -> anyhow::Result<()> {
        let (member, listing) = pick(n, self.auth.len().max(1));
        let mut request = self.client.get(self.urls[listing].clone());
        if let Some(auth) = self.auth.get(member) {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status != StatusCode::OK || !body.starts_with(OK_PREFIX) {
            bail!(
                "GET {} as member {member}: status {status}: {}",
                self.urls[listing],
                api::snippet(&body)
            );
        }
        Ok(())
    }
}

/// Member and listing of request `n`: uniform members, listings in the proportions of
/// [`MIX`], both from one hash of `n` so runs repeat the same sequence.
fn pick(n: u64, members: usize) -> (usize, usize) {
    let h = splitmix64(n);
    let member = ((h >> 32) % members as u64) as usize;
    let mut slot = (h & 0xffff_ffff) % 100;
    for (listing, (_, percent)) in MIX.iter().enumerate() {
        if slot < *percent {
            return (member, listing);
        }
        slot -= percent;
    }
    unreachable!("the mix adds up to 100 %")
}

fn splitmix64(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Order page cache lookups during a phase's measured window, added over the target's
/// instances.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CacheDelta {
    pub hits: u64,
    pub misses: u64,
    /// hits ÷ (hits + misses); None without lookups.
    pub hit_ratio: Option<f64>,
    /// Each instance's lookups, in the order of its metrics URL: how the load was spread.
    pub lookups_per_instance: Vec<u64>,
}

impl CacheDelta {
    /// The counters of each instance when the window opened and when it closed; None when
    /// no instance has the counter.
    fn between(before: &[CacheCounts], after: &[CacheCounts]) -> Option<Self> {
        if !after.iter().any(|counts| counts.present) {
            return None;
        }
        let deltas: Vec<(u64, u64)> = before
            .iter()
            .zip(after)
            .map(|(b, a)| {
                (
                    a.hits.saturating_sub(b.hits),
                    a.misses.saturating_sub(b.misses),
                )
            })
            .collect();
        let hits = deltas.iter().map(|d| d.0).sum();
        let misses = deltas.iter().map(|d| d.1).sum();
        let lookups: u64 = hits + misses;
        Some(Self {
            hits,
            misses,
            hit_ratio: (lookups > 0).then(|| hits as f64 / lookups as f64),
            lookups_per_instance: deltas.iter().map(|(h, m)| h + m).collect(),
        })
    }
}

/// What one phase measured on one target.
#[derive(Debug, Serialize)]
pub(crate) struct PhaseResult {
    pub target: &'static str,
    /// "closed" (fixed clients) or "open" (fixed rate).
    pub mode: &'static str,
    pub concurrency: Option<usize>,
    pub target_rate: Option<f64>,
    /// What the loop measured; its `per_second` is the throughput (closed loop) or the
    /// achieved rate (open loop).
    #[serde(flatten)]
    pub measured: Measured,
    /// The order page cache during the measured window; None when /metrics has no counter.
    pub cache: Option<CacheDelta>,
}

impl PhaseResult {
    fn new<T>(target: &Target, mode: &'static str, report: &Report<T>) -> Self {
        Self {
            target: target.name,
            mode,
            concurrency: None,
            target_rate: None,
            measured: Measured::from(report),
            cache: None,
        }
    }
}

/// `concurrency` clients, each sending its next request when the last one answered.
pub(crate) async fn throughput(
    target: &Arc<Target>,
    concurrency: usize,
    limits: Limits,
) -> anyhow::Result<PhaseResult> {
    eprintln!(
        "throughput, {}: {concurrency} clients, {} s warm-up, {} s measured",
        target.name,
        limits.warmup.as_secs_f64(),
        limits.duration.as_secs_f64()
    );
    let op_target = Arc::clone(target);
    let (report, cache) = with_cache_counts(target, limits, async move {
        load::closed_loop(concurrency, limits, move |n| {
            let target = Arc::clone(&op_target);
            async move { target.request(n).await }
        })
        .await
    })
    .await?;
    let mut result = PhaseResult::new(target, "closed", &report);
    result.concurrency = Some(concurrency);
    result.cache = cache;
    Ok(result)
}

/// Requests started `rate` times a second whatever the answers do, timed from their
/// intended start.
pub(crate) async fn latency(
    target: &Arc<Target>,
    rate: f64,
    max_in_flight: usize,
    limits: Limits,
) -> anyhow::Result<PhaseResult> {
    eprintln!(
        "latency, {}: {rate:.0} requests/s, at most {max_in_flight} in flight, {} s warm-up, {} s measured",
        target.name,
        limits.warmup.as_secs_f64(),
        limits.duration.as_secs_f64()
    );
    let op_target = Arc::clone(target);
    let (report, cache) = with_cache_counts(target, limits, async move {
        load::open_loop(rate, max_in_flight, limits, move |n, _intended| {
            let target = Arc::clone(&op_target);
            async move { target.request(n).await }
        })
        .await
    })
    .await?;
    let mut result = PhaseResult::new(target, "open", &report);
    result.target_rate = Some(rate);
    result.cache = cache;
    Ok(result)
}

/// Runs `phase` and reads the target's cache counters when its warm-up ends and after it,
/// so the delta covers about the measured window.
async fn with_cache_counts<T>(
    target: &Arc<Target>,
    limits: Limits,
    phase: impl Future<Output = Report<T>>,
) -> anyhow::Result<(Report<T>, Option<CacheDelta>)> {
    let measure_from = Instant::now() + limits.warmup;
    let (client, metrics) = (target.client.clone(), target.metrics.clone());
    let before = tokio::spawn(async move {
        sleep_until(measure_from).await;
        cache_counts(&client, &metrics).await
    });
    let report = phase.await;
    let after = cache_counts(&target.client, &target.metrics).await?;
    let before = before.await??;
    Ok((report, CacheDelta::between(&before, &after)))
}

/// The cache counters of every instance, in order.
async fn cache_counts(client: &Client, metrics: &[Url]) -> anyhow::Result<Vec<CacheCounts>> {
    let mut counts = Vec::with_capacity(metrics.len());
    for url in metrics {
        counts.push(api::cache_counts(client, url).await?);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_deterministic_and_in_proportion() {
        let mut listings = [0u64; 4];
        let mut members = vec![0u64; 200];
        for n in 0..100_000 {
            let (member, listing) = pick(n, members.len());
            assert_eq!(pick(n, members.len()), (member, listing));
            listings[listing] += 1;
            members[member] += 1;
        }
        for ((_, percent), count) in MIX.iter().zip(listings) {
            let share = count as f64 / 1_000.0;
            assert!(
                (share - *percent as f64).abs() < 1.0,
                "{share} % for {percent} %"
            );
        }
        // 500 expected per member.
        assert!(
            members.iter().all(|&c| (400..600).contains(&c)),
            "{members:?}"
        );
    }
}
