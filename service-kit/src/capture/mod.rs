//! The platform's own errors as `ErrorLogged` events: every record at or above the
//! capture level (ERROR, or WARN when an operator lowers it) of every service is captured,
//! masked, folded when it storms, and recorded in the platform's project.
//!
//! The request never pays for it: the layer copies the record and offers it to a bounded
//! queue without waiting (a full queue drops it and counts it in
//! `errors_capture_dropped_total`); the rest happens in two background tasks.
//!
//! Layout:
//! - [`level`]: the capture level, an atomic changed at run time.
//! - [`record`]: a captured record and how fields are read.
//! - [`layer`]: the `tracing` layer, with the request id of the enclosing request span.
//! - [`storm`]: identical records past a threshold within a window folded into one.
//! - [`drain`]: off the queue in batches, masked, folded, handed to the delivery.
//! - [`deliver`]: batches recorded through a [`Sink`], retried briefly, never captured
//!   again.
//! - [`sink`]: records as `ErrorLogged` events, recorded by the errors context's recorder.

mod deliver;
mod drain;
pub mod layer;
pub mod level;
pub mod record;
pub mod sink;
mod storm;

use std::time::Duration;

use schemas::errors::Level;
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use layer::CaptureLayer;
pub use level::CaptureLevel;
pub use record::CapturedRecord;
pub use sink::{RecorderSink, Sink, Source, Unrecorded};
pub use storm::StormRule;

/// Batches waiting for the delivery; past that, the drain counts them dropped.
const DELIVERY_BACKLOG: usize = 64;

/// Settings of the capture, the same for every service.
#[derive(Debug, Clone, clap::Args)]
pub struct CaptureSettings {
    /// Whether the platform's own errors are captured at all (`false` leaves the capture
    /// layer out, as for measuring what it costs).
    #[arg(long, env = "CAPTURE_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub capture_enabled: bool,

    /// Records from this level up become ErrorLogged events: `error` or `warning` (an
    /// admin changes it at run time).
    #[arg(long, env = "CAPTURE_LEVEL", default_value = "error", value_parser = parse_level)]
    pub capture_level: Level,

    /// Captured records waiting to be recorded; more are dropped and counted.
    #[arg(long, env = "CAPTURE_QUEUE_CAPACITY", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub capture_queue_capacity: u32,

    /// Identical records recorded one by one within a storm window; the rest are counted
    /// and recorded as one when the window ends.
    #[arg(long, env = "CAPTURE_STORM_THRESHOLD", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub capture_storm_threshold: u32,

    /// Length of a storm window, in seconds.
    #[arg(long, env = "CAPTURE_STORM_WINDOW_SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub capture_storm_window_seconds: u64,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        Self {
            capture_enabled: true,
            capture_level: Level::Error,
            capture_queue_capacity: 4096,
            capture_storm_threshold: 10,
            capture_storm_window_seconds: 10,
        }
    }
}

impl CaptureSettings {
    pub fn storm_rule(&self) -> StormRule {
        StormRule {
            threshold: self.capture_storm_threshold,
            window: Duration::from_secs(self.capture_storm_window_seconds),
        }
    }
}

/// `error` or `warning` (also `warn`): the levels records can be captured from.
pub fn parse_level(text: &str) -> Result<Level, String> {
    match Level::parse(text) {
        Some(level @ (Level::Error | Level::Warning)) => Ok(level),
        _ => Err(format!("{text:?} is no capture level: error or warning")),
    }
}

/// The receiving end of a capture layer's queue, until it is started.
pub struct Collector {
    queue: mpsc::Receiver<CapturedRecord>,
    rule: StormRule,
    source: Source,
}

/// A capture layer for `source` and the collector of what it captures.
pub fn channel(
    settings: &CaptureSettings,
    level: CaptureLevel,
    source: Source,
) -> (CaptureLayer, Collector) {
    let (sender, queue) = mpsc::channel(settings.capture_queue_capacity as usize);
    let collector = Collector {
        queue,
        rule: settings.storm_rule(),
        source,
    };
    (CaptureLayer::new(level, sender), collector)
}

impl Collector {
    /// What waits in the queue, taken out (for tests).
    #[cfg(test)]
    pub(crate) fn queued(&mut self) -> Vec<CapturedRecord> {
        let mut records = Vec::new();
        while let Ok(record) = self.queue.try_recv() {
            records.push(record);
        }
        records
    }

    /// Starts the drain and the delivery into `sink`. They end after `shutdown`, once
    /// what was captured until then is recorded (or given up).
    pub fn spawn(self, sink: impl Sink, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        let (deliveries, batches) = mpsc::channel(DELIVERY_BACKLOG);
        vec![
            tokio::spawn(drain::drain(
                self.queue,
                self.rule,
                deliveries,
                shutdown.clone(),
            )),
            tokio::spawn(deliver::deliver(sink, self.source, batches)),
        ]
    }
}

#[cfg(test)]
mod tests;
