//! A captured record: what the layer takes from a log record on the caller's thread, as
//! plain data, before anything is masked, folded or recorded.

use std::fmt::Debug;

use schemas::errors::Level;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tracing::field::{Field, Visit};

/// One log record at or above the capture level.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRecord {
    pub level: Level,
    pub message: String,
    /// The module that logged it.
    pub target: String,
    /// The `X-Request-ID` of the request it was logged in, if any.
    pub request_id: Option<String>,
    /// The record's fields other than its message; the request's (method, uri) under
    /// `request`.
    pub fields: Map<String, Value>,
    pub occurred_at: OffsetDateTime,
    /// How many identical records it stands for: above 1 for a storm's summary.
    pub count: i64,
}

impl CapturedRecord {
    /// What the record says: its message, followed by its `error` field when it has one
    /// ("internal error" tells little until it says which).
    pub fn text(&self) -> String {
        match self.fields.get("error") {
            Some(Value::String(error)) if !self.message.is_empty() => {
                format!("{}: {error}", self.message)
            }
            Some(Value::String(error)) => error.clone(),
            _ => self.message.clone(),
        }
    }
}

/// Collects a record's (or a span's) fields as JSON, the message apart.
#[derive(Default)]
pub(crate) struct Fields {
    pub message: Option<String>,
    pub values: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.values.insert(field.name().to_owned(), value);
        }
    }

    /// The target of a record bridged from the `log` crate (which all arrive with target
    /// `log`), taking its `log.*` fields out.
    pub(crate) fn take_log_target(&mut self) -> Option<String> {
        self.values
            .retain(|key, _| !key.starts_with("log.") || key == "log.target");
        match self.values.remove("log.target") {
            Some(Value::String(target)) => Some(target),
            _ => None,
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The causes too: "connection refused" says more than "pool timed out" alone.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.put(field, Value::String(text));
    }
}
