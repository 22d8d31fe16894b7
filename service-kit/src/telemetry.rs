//! Structured logs: JSON lines by default, readable text on request; secrets scrubbed
//! from every line; a filter an admin changes at run time; and the capture of errors (see
//! [`crate::capture`]).
//!
//! Layout:
//! - [`scrub`]: the writer that takes secrets out of each line before it is written.
//! - [`lines`]: the lines' layer behind the filter changed at run time.
//! - [`panics`]: panics logged as errors instead of printed past the logs.

pub mod lines;
pub mod panics;
pub mod scrub;

use std::sync::{Mutex, OnceLock};

use schemas::errors::Level;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use self::lines::{FilteredLines, LogFilter};
use crate::capture::{self, CaptureLevel, CaptureSettings, Collector, RecorderSink, Source};

/// Log line format, from `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// What a running process can change of its logging.
pub struct Telemetry {
    service: String,
    filter: LogFilter,
    capture: CaptureLevel,
    /// Taken by [`start`] once the database is there.
    collector: Mutex<Option<Collector>>,
}

static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();

/// Installs the global subscriber for `service` (`RUST_LOG` filters, default `info`): the
/// log lines, scrubbed, on stdout, and the capture of errors (unless switched off), whose
/// records wait in the queue until [`start`] records them. Also logs panics. Only the
/// first call counts.
pub fn init(service: &str, format: LogFormat, settings: &CaptureSettings) {
    if TELEMETRY.get().is_some() {
        return;
    }
    // The recorder first: the capture counts what it drops from the first record on.
    crate::metrics::handle();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let filter = LogFilter::new(filter);
    let writer = scrub::Scrubbing(std::io::stdout);
    // No colours: escape codes between a key and its value would hide it from the scrub.
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(writer)
            .boxed(),
        LogFormat::Text => fmt::layer().with_ansi(false).with_writer(writer).boxed(),
    };
    let level = CaptureLevel::new(settings.capture_level);
    let (lines, capture, collector) = if settings.capture_enabled {
        let (capture, collector) =
            capture::channel(settings, level.clone(), Source::this_process(service));
        let lines = FilteredLines::new(lines, filter.clone());
        (lines, Some(capture), Some(collector))
    } else {
        (
            FilteredLines::without_capture(lines, filter.clone()),
            None,
            None,
        )
    };
    let installed = tracing_subscriber::registry()
        .with(lines)
        .with(capture)
        .try_init();
    if installed.is_err() {
        return;
    }
    let _ = TELEMETRY.set(Telemetry {
        service: service.to_owned(),
        filter,
        capture: level,
        collector: Mutex::new(collector),
    });
    panics::log_them();
}

/// The running process's telemetry, once [`init`] installed it.
pub fn get() -> Option<&'static Telemetry> {
    TELEMETRY.get()
}

/// Starts recording captured errors in the platform's database and following the log
/// levels admins set, when [`init`] ran (not in tests that build services in-process).
/// The tasks end after `shutdown`.
pub fn start(pool: &PgPool, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
    let Some(telemetry) = get() else {
        return Vec::new();
    };
    let collector = telemetry
        .collector
        .lock()
        .expect("the collector lock is never poisoned")
        .take();
    let mut tasks = match collector {
        Some(collector) => collector.spawn(RecorderSink::new(pool.clone()), shutdown),
        None => Vec::new(),
    };
    tasks.push(tokio::spawn(crate::log_levels::follow(
        event_log::EventLog::new(pool.clone()),
        telemetry,
        shutdown.clone(),
    )));
    tasks
}

/// A `RUST_LOG` filter, or why it is none.
pub fn parse_filter(directives: &str) -> Result<EnvFilter, String> {
    if directives.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    EnvFilter::builder()
        .parse(directives)
        .map_err(|err| format!("is no valid filter: {err}"))
}

impl Telemetry {
    /// `command-api`, `query-api`, `projector` or `platform`.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Logs through `directives` from now on.
    pub fn set_filter(&self, directives: &str) -> Result<(), String> {
        self.filter.replace(parse_filter(directives)?);
        Ok(())
    }

    /// Captures records from `level` up from now on.
    pub fn set_capture(&self, level: Level) {
        self.capture.set(level);
    }

    pub fn capture_level(&self) -> Level {
        self.capture.get()
    }
}
