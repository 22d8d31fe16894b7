//! Load loops shared by the benchmarks.
//!
//! - [`closed_loop`]: `concurrency` workers, each starting its next operation when the
//!   previous one has finished. Measures the throughput a fixed number of clients get.
//! - [`open_loop`]: operations started on a fixed schedule whatever the answers do. Latency
//!   is measured from each operation's *intended* start, so a stall of the system is
//!   charged to every operation it delayed (no coordinated omission).
//!
//! Both first warm up (results discarded), then measure; both are bounded in time and in
//! count.

use std::{
    fmt::Display,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    sync::Semaphore,
    task::JoinSet,
    time::{Instant, sleep_until},
};

use serde::Serialize;

use crate::latency::{LatencySummary, Recorder};

/// How long a loop warms up and measures, and how many operations it measures at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub warmup: Duration,
    pub duration: Duration,
    /// At most this many operations are measured (and at most this many warm up).
    pub max_ops: u64,
}

impl Limits {
    /// Limits given in seconds, as the benchmarks' command lines take them.
    pub fn from_seconds(warmup_seconds: f64, seconds: f64, max_ops: u64) -> Self {
        Self {
            warmup: Duration::from_secs_f64(warmup_seconds),
            duration: Duration::from_secs_f64(seconds),
            max_ops,
        }
    }
}

/// Error messages kept per loop, to show what went wrong without flooding the output.
const ERROR_SAMPLES: usize = 5;

/// What a loop measured: only operations started after the warm-up count.
#[derive(Debug)]
pub struct Report<T> {
    /// Latency of every measured operation, successful or not.
    pub latency: Recorder,
    pub ok: u64,
    pub errors: u64,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// What the successful measured operations returned.
    pub values: Vec<T>,
    /// From the end of the warm-up until the last measured operation finished.
    pub elapsed: Duration,
    pub warmup_ops: u64,
    pub warmup_errors: u64,
}

impl<T> Default for Report<T> {
    fn default() -> Self {
        Self {
            latency: Recorder::new(),
            ok: 0,
            errors: 0,
            error_samples: Vec::new(),
            values: Vec::new(),
            elapsed: Duration::ZERO,
            warmup_ops: 0,
            warmup_errors: 0,
        }
    }
}

impl<T> Report<T> {
    /// Successful operations per second over the measured window.
    pub fn ok_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.ok as f64 / seconds
        } else {
            0.0
        }
    }

    fn add<E: Display>(&mut self, measured: bool, latency: Duration, result: Result<T, E>) {
        if !measured {
            self.warmup_ops += 1;
            if result.is_err() {
                self.warmup_errors += 1;
            }
            return;
        }
        self.latency.record(latency);
        match result {
            Ok(value) => {
                self.ok += 1;
                self.values.push(value);
            }
            Err(error) => {
                self.errors += 1;
                if self.error_samples.len() < ERROR_SAMPLES {
                    self.error_samples.push(format!("{error:#}"));
                }
            }
        }
    }

    fn merge(&mut self, mut other: Report<T>) {
        self.latency.merge(&other.latency);
        self.ok += other.ok;
        self.errors += other.errors;
        let room = ERROR_SAMPLES.saturating_sub(self.error_samples.len());
        self.error_samples
            .extend(other.error_samples.drain(..).take(room));
        self.values.append(&mut other.values);
        self.warmup_ops += other.warmup_ops;
        self.warmup_errors += other.warmup_errors;
    }
}

/// What a loop measured, as the benchmarks report it.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Successful operations per second.
    pub per_second: f64,
    pub latency_us: LatencySummary,
    pub warmup_ops: u64,
    pub warmup_errors: u64,
    pub error_samples: Vec<String>,
}

impl<T> From<&Report<T>> for Measured {
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

/// Runs `op(n)` from `concurrency` workers, each in a loop, `n` numbering the operations
/// from 0 (unique across warm-up and measurement). Latency is from the start of one
/// operation to its end.
pub async fn closed_loop<T, E, F, Fut>(concurrency: usize, limits: Limits, op: F) -> Report<T>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Display + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let measure_from = start + limits.warmup;
    let deadline = measure_from + limits.duration;
    let sequence = Arc::new(AtomicU64::new(0));
    let warmup_started = Arc::new(AtomicU64::new(0));
    let measured_started = Arc::new(AtomicU64::new(0));

    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let op = Arc::clone(&op);
        let sequence = Arc::clone(&sequence);
        let warmup_started = Arc::clone(&warmup_started);
        let measured_started = Arc::clone(&measured_started);
        workers.spawn(async move {
            let mut part = Report::default();
            loop {
                let began = Instant::now();
                if began >= deadline {
                    break;
                }
                let measured = began >= measure_from;
                let started = if measured {
                    &measured_started
                } else {
                    &warmup_started
                };
                if started.fetch_add(1, Ordering::Relaxed) >= limits.max_ops {
                    if measured {
                        break;
                    }
                    sleep_until(measure_from).await;
                    continue;
                }
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                let result = op(n).await;
                part.add(measured, began.elapsed(), result);
            }
            part
        });
    }

    let mut report = Report::default();
    while let Some(part) = workers.join_next().await {
        report.merge(part.expect("load worker panicked"));
    }
    report.elapsed = Instant::now().saturating_duration_since(measure_from);
    report
}

/// Starts `op(n, intended_start)` `rate` times a second on a fixed schedule, each in its own
/// task, with at most `max_in_flight` unfinished. Latency is from the intended start to the
/// end, so operations delayed by a stall (of the system, or of this loop waiting for a free
/// in-flight slot) carry the delay.
pub async fn open_loop<T, E, F, Fut>(
    rate: f64,
    max_in_flight: usize,
    limits: Limits,
    op: F,
) -> Report<T>
where
    F: Fn(u64, Instant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Display + Send + 'static,
{
    assert!(rate > 0.0, "open loop rate must be positive");
    let op = Arc::new(op);
    let slots = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let start = Instant::now();
    let measure_from = start + limits.warmup;
    let deadline = measure_from + limits.duration;
    let mut report = Report::default();
    let mut tasks = JoinSet::new();
    let (mut warmup_started, mut measured_started) = (0u64, 0u64);

    for n in 0u64.. {
        let intended = start + Duration::from_secs_f64(n as f64 / rate);
        if intended >= deadline {
            break;
        }
        let measured = intended >= measure_from;
        let started = if measured {
            &mut measured_started
        } else {
            &mut warmup_started
        };
        if *started >= limits.max_ops {
            if measured {
                break;
            }
            continue;
        }
        *started += 1;
        sleep_until(intended).await;
        let slot = Arc::clone(&slots)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let op = Arc::clone(&op);
        tasks.spawn(async move {
            let result = op(n, intended).await;
            drop(slot);
            (measured, intended.elapsed(), result)
        });
        while let Some(done) = tasks.try_join_next() {
            let (measured, latency, result) = done.expect("load task panicked");
            report.add(measured, latency, result);
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (measured, latency, result) = done.expect("load task panicked");
        report.add(measured, latency, result);
    }
    report.elapsed = Instant::now().saturating_duration_since(measure_from);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(warmup_ms: u64, duration_ms: u64, max_ops: u64) -> Limits {
        Limits {
            warmup: Duration::from_millis(warmup_ms),
            duration: Duration::from_millis(duration_ms),
            max_ops,
        }
    }

    #[tokio::test]
    async fn closed_loop_stops_at_max_ops_and_counts_errors() {
        let report = closed_loop(4, limits(0, 10_000, 100), |n| async move {
            if n % 10 == 0 {
                Err(format!("op {n} failed"))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(report.ok + report.errors, 100);
        assert_eq!(report.errors, 10);
        assert_eq!(report.latency.len(), 100);
        assert_eq!(report.error_samples.len(), ERROR_SAMPLES);
        let mut values = report.values.clone();
        values.sort_unstable();
        values.dedup();
        assert_eq!(
            values.len() as u64,
            report.ok,
            "each operation number is used once"
        );
    }

    #[tokio::test]
    async fn closed_loop_stops_at_deadline() {
        let began = std::time::Instant::now();
        let report = closed_loop(2, limits(50, 200, u64::MAX), |_| async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok::<_, String>(())
        })
        .await;
        assert!(began.elapsed() < Duration::from_secs(2));
        assert!(report.warmup_ops > 0);
        assert!(report.ok > 10, "{}", report.ok);
        assert!(report.ok_per_second() > 50.0);
    }

    #[tokio::test]
    async fn open_loop_charges_stalls_from_the_intended_start() {
        // 100/s for 1 s; every operation takes 2 ms except that the system stalls for
        // 500 ms at the 10th: with one slot in flight, the operations queued behind the
        // stall must report the time they waited.
        let report = open_loop(100.0, 1, limits(0, 1_000, u64::MAX), |n, _| async move {
            let pause = if n == 10 { 500 } else { 2 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
            Ok::<_, String>(())
        })
        .await;
        assert_eq!(report.ok, 100);
        let summary = report.latency.summary();
        assert!(summary.max_us >= 500_000, "{summary:?}");
        assert!(summary.p50_us >= 2_000, "{summary:?}");
        // About 50 operations were due during the stall: well over 1 % waited long.
        assert!(summary.p99_us > 400_000, "{summary:?}");
    }

    #[tokio::test]
    async fn open_loop_is_bounded_by_count() {
        let began = std::time::Instant::now();
        let report = open_loop(1000.0, 64, limits(10, 10_000, 25), |n, _| async move {
            Ok::<_, String>(n)
        })
        .await;
        assert!(began.elapsed() < Duration::from_secs(1));
        assert_eq!(report.ok, 25);
        assert_eq!(report.warmup_ops, 10);
    }
}
