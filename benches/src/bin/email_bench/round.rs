//! One round: `count` messages handed over by concurrent senders (to the platform's API,
//! or straight to the sink), then the sink watched until every one has arrived. A phase is
//! a warm-up round, then the measured one.

use std::{
    future::Future,
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use benches::load::{self, Limits, Measured};
use serde::Serialize;
use tokio::time::{Instant, sleep};
use uuid::Uuid;

use crate::{
    cpu::{CpuSample, CpuUse, Watched},
    ledger::{Deliveries, Ledger, Sent},
    sink::ReceivedLog,
};

/// How often the sink's log is read while waiting for arrivals. Arrival times are the
/// sink's own, so this only decides how soon the wait ends.
const POLL: Duration = Duration::from_millis(5);

/// The recipient of every message.
pub(crate) const TO: &str = "bob@example.com";

/// The subject of message `n`.
pub(crate) fn subject(n: u64) -> String {
    format!("email-bench message {n}")
}

/// The text of message `n`.
pub(crate) fn text(n: u64) -> String {
    format!("Message {n} of an email-bench run.\nIt is sent to be counted on arrival.\n")
}

/// Now, in seconds since the Unix epoch: the clock the sink stamps arrivals with.
pub(crate) fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// What a round watches, and for how long.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub spool: PathBuf,
    pub domain: String,
    /// Longest the sending may take, and again the wait for arrivals.
    pub timeout: Duration,
    /// How long the sink is watched for copies after the last arrival.
    pub settle: Duration,
    pub processes: Watched,
}

/// What one round measured.
#[derive(Debug, Serialize)]
pub(crate) struct Round {
    /// The hand-overs: their rate and latency.
    pub sends: Measured,
    pub deliveries: Deliveries,
    /// From the first hand-over until every message had arrived (or the wait ended).
    pub cpu: CpuUse,
    /// The message handed over last.
    #[serde(skip)]
    pub last: Option<Uuid>,
}

/// A phase: the warm-up round (skipped for `warmup` 0), then, if it went well, the
/// measured round.
#[derive(Debug, Serialize)]
pub(crate) struct PhaseResult {
    pub warmup: Option<Deliveries>,
    pub measured: Option<Round>,
    /// What a check after the measured round found wrong.
    pub problems: Vec<String>,
}

impl PhaseResult {
    pub(crate) fn failures(&self, phase: &str) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(warmup) = &self.warmup {
            failures.extend(warmup.failures(&format!("{phase} warm-up")));
        }
        if let Some(round) = &self.measured {
            if round.sends.errors > 0 {
                failures.push(format!(
                    "{phase}: {} of {} messages were not handed over",
                    round.sends.errors,
                    round.sends.errors + round.sends.ok
                ));
            }
            failures.extend(round.deliveries.failures(phase));
        }
        failures.extend(self.problems.iter().map(|p| format!("{phase}: {p}")));
        failures
    }
}

/// Runs a warm-up round of `warmup` messages, then, unless it failed, the measured round
/// of `count`, each with `concurrency` senders calling `send(n)`.
pub(crate) async fn phase<F, Fut>(
    watch: &Watch,
    warmup: u64,
    count: u64,
    concurrency: usize,
    send: F,
) -> anyhow::Result<PhaseResult>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Sent>> + Send + 'static,
{
    let mut result = PhaseResult {
        warmup: None,
        measured: None,
        problems: Vec::new(),
    };
    if warmup > 0 {
        let round = run(watch, warmup, concurrency, send.clone()).await?;
        if round.sends.errors > 0 {
            anyhow::bail!(
                "warm-up: {} of {warmup} messages were not handed over; the first error: {}",
                round.sends.errors,
                round.sends.error_samples.first().map_or("", String::as_str)
            );
        }
        let failed = !round.deliveries.failures("").is_empty();
        result.warmup = Some(round.deliveries);
        if failed {
            return Ok(result);
        }
    }
    result.measured = Some(run(watch, count, concurrency, send).await?);
    Ok(result)
}

/// One round of `count` messages.
async fn run<F, Fut>(
    watch: &Watch,
    count: u64,
    concurrency: usize,
    send: F,
) -> anyhow::Result<Round>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Sent>> + Send + 'static,
{
    let mut log = ReceivedLog::from_end(&watch.spool)?;
    let before = CpuSample::now(watch.processes);
    let limits = Limits {
        warmup: Duration::ZERO,
        duration: watch.timeout,
        max_ops: count,
    };
    let report = load::closed_loop(concurrency, limits, send).await;
    let last = report.values.last().map(|sent| sent.id);
    let mut ledger = Ledger::new(&watch.domain, report.values.iter().copied());
    let after = await_arrivals(watch, &mut log, &mut ledger).await?;
    Ok(Round {
        sends: Measured::from(&report),
        deliveries: ledger.deliveries(),
        cpu: before.until(&after),
        last,
    })
}

/// Reads the sink's log until every message of `ledger` has arrived (then on for the
/// settle time, counting copies) or the timeout has passed. Returns the CPU sample taken
/// when the last message was seen (or when the wait gave up).
async fn await_arrivals(
    watch: &Watch,
    log: &mut ReceivedLog,
    ledger: &mut Ledger,
) -> anyhow::Result<CpuSample> {
    let deadline = Instant::now() + watch.timeout;
    let mut completed: Option<(Instant, CpuSample)> = None;
    loop {
        for received in log.read_new()? {
            ledger.record(&received);
        }
        let now = Instant::now();
        if completed.is_none() && ledger.complete() {
            completed = Some((now, CpuSample::now(watch.processes)));
        }
        match &completed {
            Some((at, _)) if now.duration_since(*at) >= watch.settle => break,
            None if now >= deadline => return Ok(CpuSample::now(watch.processes)),
            _ => sleep(POLL).await,
        }
    }
    Ok(completed.expect("the loop ends on completion or returns").1)
}
