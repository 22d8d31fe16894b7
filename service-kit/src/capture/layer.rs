//! The `tracing` layer that captures records: on the caller's thread it only copies the
//! record's fields and offers them to a bounded queue, never waiting on it. Masking,
//! folding storms and recording happen in the drain, off the request's path.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tracing::{
    Event, Metadata, Subscriber,
    span::{Attributes, Id, Record},
};
use tracing_subscriber::{Layer, layer::Context, registry::LookupSpan};

use super::{
    CaptureLevel,
    level::level_of,
    record::{CapturedRecord, Fields},
};

/// The span field that marks a request's span (see [`crate::layers`]).
const REQUEST_ID: &str = "request_id";

/// The capture layer's own target: what it logs about itself is never captured.
pub(crate) const OWN_TARGET: &str = "service_kit::capture";

/// Turns records at or above the capture level into [`CapturedRecord`]s on a queue. It
/// filters nothing for other layers: it enables every callsite and looks at the level
/// itself.
pub struct CaptureLayer {
    level: CaptureLevel,
    queue: mpsc::Sender<CapturedRecord>,
    dropped: Arc<AtomicU64>,
}

/// What the layer may use, whatever the log filter says: warnings and errors, and
/// request spans. (The log lines' layer keeps these enabled; see `telemetry`.)
pub fn wants(metadata: &Metadata<'_>) -> bool {
    if metadata.is_span() {
        metadata.fields().field(REQUEST_ID).is_some()
    } else {
        *metadata.level() <= tracing::Level::WARN
    }
}

/// The fields of a request's span, kept in its extensions for the records logged in it.
struct RequestFields(Map<String, Value>);

impl CaptureLayer {
    pub fn new(level: CaptureLevel, queue: mpsc::Sender<CapturedRecord>) -> Self {
        Self {
            level,
            queue,
            dropped: Arc::default(),
        }
    }

    /// How many records found the queue full (also the `errors_capture_dropped_total`
    /// counter).
    pub fn dropped(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped)
    }

    fn offer(&self, record: CapturedRecord) {
        if self.queue.try_send(record).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("errors_capture_dropped_total", "reason" => "queue_full")
                .increment(1);
        }
    }
}

impl<S> Layer<S> for CaptureLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().fields().field(REQUEST_ID).is_none() {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(RequestFields(fields.values));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(RequestFields(known)) = extensions.get_mut::<RequestFields>() {
            let mut fields = Fields::default();
            values.record(&mut fields);
            known.extend(fields.values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if !self.level.captures(metadata.level())
            || metadata.target().starts_with(OWN_TARGET)
            || super::deliver::delivering()
        {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let target = fields
            .take_log_target()
            .unwrap_or_else(|| metadata.target().to_owned());
        let mut request_id = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if let Some(RequestFields(request)) = span.extensions().get::<RequestFields>() {
                    let mut request = request.clone();
                    request_id = match request.remove(REQUEST_ID) {
                        Some(Value::String(id)) if !id.is_empty() => Some(id),
                        _ => None,
                    };
                    fields
                        .values
                        .insert("request".to_owned(), Value::Object(request));
                    break;
                }
            }
        }
        self.offer(CapturedRecord {
            level: level_of(metadata.level()),
            message: fields.message.unwrap_or_default(),
            target,
            request_id,
            fields: fields.values,
            occurred_at: schemas::clock::now(),
            count: 1,
        });
    }
}
