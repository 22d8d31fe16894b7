//! The capture as a service sees it: records logged through a subscriber with the layer,
//! and what reaches a sink.

use std::{
    sync::{Arc, Mutex, atomic::Ordering},
    time::{Duration, Instant},
};

use schemas::errors::{ErrorLogged, Level, Origin};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::{Registry, layer::SubscriberExt};

use super::*;

/// The target the tests log under, as an application module would.
const TARGET: &str = "app::orders";

fn settings(capacity: u32) -> CaptureSettings {
    CaptureSettings {
        capture_queue_capacity: capacity,
        capture_storm_threshold: 10,
        capture_storm_window_seconds: 1,
        ..CaptureSettings::default()
    }
}

/// A subscriber with only the capture layer, and the queue it fills.
fn capturing(
    capacity: u32,
    level: &CaptureLevel,
) -> (
    impl tracing::Subscriber + Send + Sync,
    Collector,
    Arc<std::sync::atomic::AtomicU64>,
) {
    let (layer, collector) = channel(
        &settings(capacity),
        level.clone(),
        Source::this_process("command-api"),
    );
    let dropped = layer.dropped();
    (Registry::default().with(layer), collector, dropped)
}

fn queued(collector: &mut Collector) -> Vec<CapturedRecord> {
    collector.queued()
}

#[test]
fn errors_are_captured_and_info_is_not() {
    let (subscriber, mut collector, _) = capturing(16, &CaptureLevel::new(Level::Error));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: TARGET, "all is well");
        tracing::warn!(target: TARGET, "a little odd");
        tracing::error!(target: TARGET, order = 42, reason = %"no stock", "order failed");
    });
    let records = queued(&mut collector);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.level, Level::Error);
    assert_eq!(record.message, "order failed");
    assert_eq!(record.target, TARGET);
    assert_eq!(record.fields["order"], 42);
    assert_eq!(record.fields["reason"], "no stock");
    assert_eq!(record.request_id, None);
    assert_eq!(record.count, 1);
}

#[test]
fn warnings_are_captured_once_the_level_is_lowered_and_not_after_it_is_raised() {
    let level = CaptureLevel::new(Level::Error);
    let (subscriber, mut collector, _) = capturing(16, &level);
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(target: TARGET, "first");
        level.set(Level::Warning);
        tracing::warn!(target: TARGET, "second");
        tracing::info!(target: TARGET, "not even now");
        level.set(Level::Error);
        tracing::warn!(target: TARGET, "third");
    });
    let messages: Vec<String> = queued(&mut collector)
        .into_iter()
        .map(|r| r.message)
        .collect();
    assert_eq!(messages, ["second"]);
}

#[test]
fn a_full_queue_drops_and_counts_without_making_the_caller_wait() {
    crate::metrics::handle();
    let (subscriber, mut collector, dropped) = capturing(2, &CaptureLevel::new(Level::Error));
    let started = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..1000 {
            tracing::error!(target: TARGET, n, "nobody reads the queue");
        }
    });
    // Nobody empties the queue: a caller that waited on it would never have got here.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(queued(&mut collector).len(), 2);
    assert_eq!(dropped.load(Ordering::Relaxed), 998);
    let metrics = crate::metrics::handle().render();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("errors_capture_dropped_total{reason=\"queue_full\"}"))
        .unwrap_or_else(|| panic!("no drop counter in {metrics}"));
    let counted: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(counted >= 998.0, "{line}");
}

#[test]
fn the_request_id_and_the_request_come_from_the_enclosing_request_span() {
    let (subscriber, mut collector, _) = capturing(16, &CaptureLevel::new(Level::Error));
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            method = "GET",
            uri = "/api/v1/items",
            request_id = "req-42"
        );
        let _in_request = request.enter();
        let inner = tracing::info_span!("load", item = 7);
        let _inner = inner.enter();
        tracing::error!(target: TARGET, "cannot load");
    });
    let records = queued(&mut collector);
    assert_eq!(records[0].request_id.as_deref(), Some("req-42"));
    assert_eq!(records[0].fields["request"]["method"], "GET");
    assert_eq!(records[0].fields["request"]["uri"], "/api/v1/items");
    assert!(records[0].fields["request"].get("request_id").is_none());
}

/// A sink that keeps what it is given, after failing `failures` times.
#[derive(Clone, Default)]
struct Memory {
    recorded: Arc<Mutex<Vec<ErrorLogged>>>,
    failures: Arc<Mutex<u32>>,
}

impl Sink for Memory {
    async fn record(&self, errors: Vec<ErrorLogged>) -> Result<(), Unrecorded> {
        // A store logs its failures: they must not come back into the queue.
        tracing::error!(target: "event_store::appender", "the sink is recording");
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(Unrecorded {
                errors,
                cause: "store unavailable".into(),
            });
        }
        self.recorded.lock().unwrap().extend(errors);
        Ok(())
    }
}

impl Memory {
    async fn wait_for(&self, total: i64) -> Vec<ErrorLogged> {
        for _ in 0..100 {
            let recorded = self.recorded.lock().unwrap().clone();
            if recorded.iter().map(|e| e.count).sum::<i64>() >= total {
                return recorded;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{total} records were not recorded");
    }
}

#[tokio::test]
async fn a_storm_is_recorded_as_the_threshold_and_one_summary_counting_the_rest() {
    let (subscriber, collector, _) = capturing(1024, &CaptureLevel::new(Level::Error));
    let _default = tracing::subscriber::set_default(subscriber);
    let sink = Memory::default();
    *sink.failures.lock().unwrap() = 1;
    let shutdown = CancellationToken::new();
    let tasks = collector.spawn(sink.clone(), &shutdown);
    for attempt in 0..25 {
        tracing::error!(target: TARGET, attempt, password = "Hunter22x", "database gone after {attempt} tries");
    }
    let recorded = sink.wait_for(25).await;
    let counts: Vec<i64> = recorded.iter().map(|e| e.count).collect();
    assert_eq!(counts.iter().filter(|c| **c == 1).count(), 10, "{counts:?}");
    assert_eq!(counts.len(), 11, "{counts:?}");
    assert!(counts.contains(&15), "{counts:?}");
    let first = &recorded[0];
    assert_eq!(first.project, schemas::errors::PLATFORM_PROJECT);
    assert_eq!(first.extra["password"], "[Filtered]");
    assert_eq!(
        first.fingerprint,
        [TARGET, "database gone after <int> tries"]
    );
    assert!(recorded.iter().all(|e| e.issue_id == first.issue_id));
    let Origin::Platform {
        service, target, ..
    } = &first.origin
    else {
        panic!("not the platform's: {first:?}");
    };
    assert_eq!((service.as_str(), target.as_str()), ("command-api", TARGET));
    assert!(
        !recorded
            .iter()
            .any(|e| e.message.as_deref() == Some("the sink is recording")),
        "what the sink logged came back"
    );
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn what_is_captured_before_shutdown_is_recorded_on_the_way_out() {
    let (subscriber, collector, _) = capturing(1024, &CaptureLevel::new(Level::Error));
    let _default = tracing::subscriber::set_default(subscriber);
    let sink = Memory::default();
    let (deliveries, batches) = mpsc::channel(4);
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    tracing::error!(target: TARGET, "last words");
    drain::drain(collector.queue, collector.rule, deliveries, shutdown).await;
    deliver::deliver(sink.clone(), collector.source, batches).await;
    let recorded = sink.recorded.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].title, "last words");
}

#[tokio::test]
async fn a_panicking_handler_answers_500_with_the_envelope_and_the_panic_is_captured() {
    use axum::{Router, body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    let (subscriber, mut collector, _) = capturing(16, &CaptureLevel::new(Level::Error));
    let _default = tracing::subscriber::set_default(subscriber);
    let router = Router::new().route(
        "/boom",
        get(|| async {
            if true {
                panic!("boom: the handler broke");
            }
        }),
    );
    let app = crate::layers::wrap(router, crate::layers::Limits::default());
    let response = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let request_id = crate::layers::request_id(response.headers());
    assert!(!request_id.is_empty());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["error"]["code"], "INTERNAL");
    assert_eq!(body["error"]["message"], "internal error");
    assert_eq!(body["error"]["trace_id"], request_id.as_str());
    assert!(!body.to_string().contains("boom"), "{body}");

    let records = queued(&mut collector);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0].message,
        "request panicked: boom: the handler broke"
    );
    assert_eq!(records[0].request_id.as_deref(), Some(request_id.as_str()));
    assert_eq!(records[0].fields["request"]["uri"], "/boom");
}
