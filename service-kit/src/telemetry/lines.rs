//! The log lines' layer behind the filter an admin changes at run time.
//!
//! The filter gates only the lines: records the capture needs (warnings and errors, and
//! request spans) stay enabled whatever it says, so a filter of `error` still lets an
//! operator capture warnings. The gate is written out here rather than built from
//! `tracing-subscriber`'s per-layer filters with a reloadable filter inside: that
//! combination lost warnings after some sequences of reloads (seen in a running platform:
//! a warning that `info` printed stayed unprinted and uncaptured under `warn`), and this
//! one is small enough to hold in one's head.

use std::sync::{Arc, RwLock};

use tracing::{
    Event, Metadata, Subscriber,
    span::{Attributes, Id, Record},
    subscriber::Interest,
};
use tracing_subscriber::{
    EnvFilter, Layer, filter::LevelFilter, layer::Context, registry::LookupSpan,
};

use crate::capture::layer::wants;

/// The filter of the log lines, shared with whoever changes it.
#[derive(Clone)]
pub struct LogFilter(Arc<RwLock<EnvFilter>>);

impl LogFilter {
    pub fn new(filter: EnvFilter) -> Self {
        Self(Arc::new(RwLock::new(filter)))
    }

    /// Filters by `filter` from now on.
    pub fn replace(&self, filter: EnvFilter) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = filter;
        // Every callsite asks again whether anyone wants it.
        tracing::callsite::rebuild_interest_cache();
    }

    fn with<T>(&self, read: impl FnOnce(&EnvFilter) -> T) -> T {
        read(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// `lines` (the formatting layer) writing what the filter lets through.
pub struct FilteredLines<L> {
    lines: L,
    filter: LogFilter,
    /// Whether a capture layer is beside this one (and the records it wants enabled).
    capturing: bool,
}

impl<L> FilteredLines<L> {
    /// The lines of `filter`, keeping what a capture layer wants enabled.
    pub fn new(lines: L, filter: LogFilter) -> Self {
        Self {
            lines,
            filter,
            capturing: true,
        }
    }

    /// The lines of `filter` alone, where nothing is captured.
    pub fn without_capture(lines: L, filter: LogFilter) -> Self {
        Self {
            capturing: false,
            ..Self::new(lines, filter)
        }
    }

    fn kept(&self, metadata: &Metadata<'_>) -> bool {
        self.capturing && wants(metadata)
    }
}

impl<S, L> Layer<S> for FilteredLines<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.lines.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.kept(metadata) {
            return Interest::always();
        }
        self.filter
            .with(|filter| <EnvFilter as Layer<S>>::register_callsite(filter, metadata))
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.kept(metadata) || self.filter.with(|filter| filter.enabled(metadata, ctx))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Request spans are INFO: the capture needs them whatever the filter says.
        let filter = self
            .filter
            .with(|filter| <EnvFilter as Layer<S>>::max_level_hint(filter));
        match self.capturing {
            true => filter.map(|hint| hint.max(LevelFilter::INFO)),
            false => filter,
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let shown = self
            .filter
            .with(|filter| filter.enabled(event.metadata(), ctx.clone()));
        if shown {
            self.lines.on_event(event, ctx);
        }
    }

    // Spans go to the lines whatever the filter says: a line shows the spans it is in.
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.filter
            .with(|filter| filter.on_new_span(attrs, id, ctx.clone()));
        self.lines.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.filter
            .with(|filter| filter.on_record(id, values, ctx.clone()));
        self.lines.on_record(id, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.lines.on_follows_from(span, follows, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.filter.with(|filter| filter.on_enter(id, ctx.clone()));
        self.lines.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.filter.with(|filter| filter.on_exit(id, ctx.clone()));
        self.lines.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.filter
            .with(|filter| filter.on_close(id.clone(), ctx.clone()));
        self.lines.on_close(id, ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use schemas::errors::Level;
    use tracing_subscriber::{fmt::MakeWriter, layer::SubscriberExt};

    use super::*;
    use crate::capture::{self, CaptureLevel, CaptureSettings, Source};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Self;

        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    impl Buffer {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    #[test]
    fn each_new_filter_decides_the_lines_and_never_what_is_captured() {
        let buffer = Buffer::default();
        let filter = LogFilter::new(EnvFilter::new("info"));
        let lines = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(buffer.clone());
        let level = CaptureLevel::new(Level::Warning);
        let (capture, mut collector) = capture::channel(
            &CaptureSettings::default(),
            level,
            Source::this_process("platform"),
        );
        let subscriber = tracing_subscriber::registry()
            .with(FilteredLines::new(lines, filter.clone()))
            .with(capture);
        let log = || {
            tracing::debug!(target: "tower_http::trace", "a debug line");
            let request = tracing::info_span!("request", request_id = "r1");
            let _entered = request.enter();
            tracing::info!(target: "app", "an info line");
            tracing::warn!(target: "app", "a warning");
        };
        let mut seen = Vec::new();
        tracing::subscriber::with_default(subscriber, || {
            for directives in [
                "info",
                "warn",
                "info,sqlx::query=debug",
                "warn,tower_http=debug",
                "warn",
                "error",
                "info",
            ] {
                filter.replace(EnvFilter::new(directives));
                log();
                let written = buffer.take();
                let has = |text: &str| written.contains(text);
                seen.push((
                    directives,
                    has("a debug line"),
                    has("an info line"),
                    has("a warning"),
                ));
            }
        });
        assert_eq!(
            seen,
            [
                ("info", false, true, true),
                ("warn", false, false, true),
                ("info,sqlx::query=debug", false, true, true),
                ("warn,tower_http=debug", true, false, true),
                ("warn", false, false, true),
                ("error", false, false, false),
                ("info", false, true, true),
            ]
        );
        // Whatever the filter, the capture had every warning, in its request.
        let captured = collector.queued();
        assert_eq!(captured.len(), 7);
        assert!(
            captured
                .iter()
                .all(|r| r.request_id.as_deref() == Some("r1"))
        );
    }

    #[test]
    fn without_capture_the_filter_alone_enables_records() {
        let buffer = Buffer::default();
        let filter = LogFilter::new(EnvFilter::new("error"));
        let lines = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(buffer.clone());
        let subscriber = tracing_subscriber::registry()
            .with(FilteredLines::without_capture(lines, filter.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", request_id = "r1");
            assert!(request.is_disabled(), "no capture keeps request spans");
            assert!(!tracing::enabled!(target: "app", tracing::Level::WARN));
            tracing::warn!(target: "app", "a warning");
            tracing::error!(target: "app", "an error");
            filter.replace(EnvFilter::new("warn"));
            tracing::warn!(target: "app", "a later warning");
        });
        let written = buffer.take();
        assert!(!written.contains("a warning"), "{written}");
        assert!(written.contains("an error"), "{written}");
        assert!(written.contains("a later warning"), "{written}");
    }
}
