//! Prometheus metrics: one recorder per process, request metrics per route and status.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    sync::{OnceLock, RwLock},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Tests build several apps in one process; the first recorder serves them all.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// `GET /metrics`.
pub async fn render() -> String {
    let handle = handle();
    handle.run_upkeep();
    handle.render()
}

/// Counts requests and times them, labelled by route template, method and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let (requests, duration) = handles(route, method, response.status().as_u16());
    requests.increment(1);
    duration.record(started.elapsed().as_secs_f64());
    response
}

/// A route's label, as the router matched it.
type RouteKey = Option<MatchedPath>;

/// The counter and histogram of one route, method and status.
type Handles = (metrics::Counter, metrics::Histogram);

/// A label set: route template, method, status.
type Labels = (String, Method, u16);

/// Registered handles by a hash of their labels; equal hashes share a slot.
type Registry = RwLock<HashMap<u64, Vec<(Labels, Handles)>>>;

/// The handles of a label set, registered once: every later request of the same route,
/// method and status records through them without building labels or looking up keys.
fn handles(route: RouteKey, method: Method, status: u16) -> Handles {
    // By a hash of the labels, so a lookup needs no owned key; equal hashes share a slot.
    static KNOWN: OnceLock<Registry> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    let path = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let mut hasher = DefaultHasher::new();
    (path, &method, status).hash(&mut hasher);
    let hash = hasher.finish();
    let same = |(p, m, s): &Labels| p == path && *m == method && *s == status;
    if let Some(slot) = known.read().expect("metrics handles lock").get(&hash)
        && let Some((_, handles)) = slot.iter().find(|(labels, _)| same(labels))
    {
        return handles.clone();
    }
    let labels = [
        ("method", method.to_string()),
        ("route", path.to_owned()),
        ("status", status.to_string()),
    ];
    let handles = (
        metrics::counter!("http_requests_total", &labels),
        metrics::histogram!("http_request_duration_seconds", &labels),
    );
    let mut known = known.write().expect("metrics handles lock");
    let slot = known.entry(hash).or_default();
    if !slot.iter().any(|(labels, _)| same(labels)) {
        slot.push(((path.to_owned(), method, status), handles.clone()));
    }
    handles
}
