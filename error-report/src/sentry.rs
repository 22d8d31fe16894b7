//! A Sentry event (the JSON payload of an envelope's `event` item, or the body of the
//! older `store` endpoint) as the [`ErrorLogged`] the log keeps.
//!
//! SDKs differ in what they send and how (a message as a string or an object, a timestamp
//! as text or as epoch seconds, tags as an object or as pairs), so the payload is read
//! field by field and leniently: a field of an unexpected shape is left out rather than
//! the whole event refused. Only a payload that is no JSON object, or an `event_id` that
//! is no UUID, is refused. Every text is masked and bounded before it is kept.

use std::collections::BTreeMap;

use schemas::errors::{ErrorLogged, Exception, Frame, Level, Origin, issue_id};
use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    grouping::{self, truncate_chars},
    masking::{self, scrub_text, scrub_value},
};

/// Bounds on what one event keeps.
pub mod limits {
    /// Bytes of the message (and of each exception's value) kept.
    pub const MESSAGE_BYTES: usize = 8 * 1024;
    /// Exceptions of a chain kept (the newest, ending with the one raised).
    pub const EXCEPTIONS: usize = 10;
    /// Frames kept per exception (the newest, where it was raised).
    pub const FRAMES: usize = 100;
    /// Characters of a frame's fields, a tag, a release, an environment, a name.
    pub const SHORT_CHARS: usize = 200;
    /// Characters of a frame's source line.
    pub const LINE_CHARS: usize = 1000;
    /// Tags kept.
    pub const TAGS: usize = 100;
    /// Parts of a fingerprint kept, and characters of each.
    pub const FINGERPRINT_PARTS: usize = 20;
    /// Bytes of `extra` (the request, extra data and contexts) as JSON; a part that
    /// would pass it is replaced by a note of its size.
    pub const EXTRA_BYTES: usize = 64 * 1024;
}

/// Why a payload is no event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("the event is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("the event_id {0:?} is not 32 hex digits or a UUID")]
    EventId(String),
}

/// What the platform knows of an event besides its payload.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub project: i64,
    /// The envelope header's `event_id`, used when the payload has none.
    pub event_id: Option<Uuid>,
    pub at: OffsetDateTime,
}

/// Reads a Sentry event payload into the error to record.
pub fn error_logged(payload: &[u8], received: Received) -> Result<ErrorLogged, InvalidEvent> {
    let event = match shape::EVENT.parse(payload) {
        Ok(Value::Object(event)) => event,
        Ok(other) => return Err(InvalidEvent::NotAnObject(format!("found {}", kind(&other)))),
        Err(err) => return Err(InvalidEvent::NotAnObject(err.to_string())),
    };
    let event_id = match event.get("event_id").and_then(Value::as_str) {
        Some(text) => {
            Uuid::try_parse(text.trim()).map_err(|_| InvalidEvent::EventId(text.into()))?
        }
        None => received.event_id.unwrap_or_else(Uuid::new_v4),
    };
    let message = message(&event);
    let exceptions = exceptions(&event);
    let explicit = event
        .get("fingerprint")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .take(limits::FINGERPRINT_PARTS)
                .filter_map(text_of)
                .map(|part| short(&part))
                .collect::<Vec<_>>()
        });
    let fingerprint = grouping::fingerprint(explicit.as_deref(), &exceptions, message.as_deref());
    let place = short_field(&event, "transaction").or_else(|| short_field(&event, "culprit"));
    Ok(ErrorLogged {
        event_id,
        project: received.project,
        issue_id: issue_id(received.project, &fingerprint),
        title: grouping::title(&exceptions, message.as_deref()),
        culprit: grouping::culprit(&exceptions, place.as_deref()),
        fingerprint,
        level: level(&event),
        message,
        exceptions,
        origin: origin(&event),
        request_id: trace_id(&event),
        release: short_field(&event, "release"),
        environment: short_field(&event, "environment"),
        user: user(&event),
        tags: tags(&event),
        extra: extra(&event),
        count: 1,
        occurred_at: timestamp(&event).unwrap_or(received.at),
        received_at: received.at,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    }
}

/// A string as it is, a number or boolean as its text; nothing for other shapes.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Masked and cut to [`limits::SHORT_CHARS`].
fn short(text: &str) -> String {
    truncate_chars(&scrub_text(text), limits::SHORT_CHARS)
}

fn short_field(object: &Map<String, Value>, name: &str) -> Option<String> {
    let text = object.get(name).and_then(text_of)?;
    let text = text.trim();
    (!text.is_empty()).then(|| short(text))
}

/// Masked and cut to at most `max` bytes, at a character boundary.
fn bounded(text: &str, max: usize) -> String {
    let clean = scrub_text(text);
    if clean.len() <= max {
        return clean.into_owned();
    }
    let mut end = max;
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].to_owned()
}

fn level(event: &Map<String, Value>) -> Level {
    event
        .get("level")
        .and_then(Value::as_str)
        .and_then(Level::parse)
        .unwrap_or(Level::Error)
}

/// An RFC 3339 text (Python) or seconds since the epoch (Rust).
fn timestamp(event: &Map<String, Value>) -> Option<OffsetDateTime> {
    match event.get("timestamp")? {
        Value::String(text) => {
            let text = text.trim();
            OffsetDateTime::parse(text, &Rfc3339)
                .ok()
                // Some SDKs leave out the offset of a UTC time.
                .or_else(|| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok())
        }
        Value::Number(seconds) => {
            // To the microsecond, as SDKs write them: a float has no more digits to give
            // at today's epoch seconds.
            let seconds = seconds.as_f64()?;
            let whole = seconds.floor();
            let micros = ((seconds - whole) * 1e6).round() as i64;
            let at = OffsetDateTime::from_unix_timestamp(whole as i64).ok()?;
            Some(at + time::Duration::microseconds(micros))
        }
        _ => None,
    }
}

/// The message: `logentry` (the structured form) first, then `message` as a string or as
/// `{formatted, message, params}`; the formatted text wins over the template.
fn message(event: &Map<String, Value>) -> Option<String> {
    let entry = |value: &Value| -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Object(entry) => ["formatted", "message"]
                .iter()
                .find_map(|field| entry.get(*field).and_then(Value::as_str))
                .map(str::to_owned),
            _ => None,
        }
    };
    ["logentry", "message"]
        .iter()
        .filter_map(|field| event.get(*field).and_then(entry))
        .find(|text| !text.trim().is_empty())
        .map(|text| bounded(&text, limits::MESSAGE_BYTES))
}

/// `exception.values` (or `exception` as the list itself), oldest first, the newest
/// [`limits::EXCEPTIONS`] kept.
fn exceptions(event: &Map<String, Value>) -> Vec<Exception> {
    let values = match event.get("exception") {
        Some(Value::Object(exception)) => exception.get("values").and_then(Value::as_array),
        Some(Value::Array(values)) => Some(values),
        _ => None,
    };
    let values = values.map(Vec::as_slice).unwrap_or_default();
    let skip = values.len().saturating_sub(limits::EXCEPTIONS);
    values
        .iter()
        .skip(skip)
        .filter_map(Value::as_object)
        .map(exception)
        .collect()
}

fn exception(value: &Map<String, Value>) -> Exception {
    let frames = value
        .get("stacktrace")
        .and_then(|trace| trace.get("frames"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let skip = frames.len().saturating_sub(limits::FRAMES);
    Exception {
        kind: short_field(value, "type"),
        value: value
            .get("value")
            .and_then(text_of)
            .map(|text| bounded(&text, limits::MESSAGE_BYTES)),
        module: short_field(value, "module"),
        handled: value
            .get("mechanism")
            .and_then(|mechanism| mechanism.get("handled"))
            .and_then(Value::as_bool),
        frames: frames
            .iter()
            .skip(skip)
            .filter_map(Value::as_object)
            .map(frame)
            .collect(),
    }
}

fn frame(value: &Map<String, Value>) -> Frame {
    Frame {
        filename: short_field(value, "filename").or_else(|| short_field(value, "abs_path")),
        function: short_field(value, "function"),
        module: short_field(value, "module"),
        lineno: value.get("lineno").and_then(Value::as_i64),
        colno: value.get("colno").and_then(Value::as_i64),
        in_app: value.get("in_app").and_then(Value::as_bool),
        context_line: value
            .get("context_line")
            .and_then(Value::as_str)
            .map(|line| truncate_chars(&scrub_text(line), limits::LINE_CHARS)),
    }
}

fn origin(event: &Map<String, Value>) -> Origin {
    let sdk = event.get("sdk").and_then(Value::as_object).and_then(|sdk| {
        let name = short_field(sdk, "name")?;
        Some(match short_field(sdk, "version") {
            Some(version) => format!("{name} {version}"),
            None => name,
        })
    });
    Origin::Sdk {
        sdk,
        platform: short_field(event, "platform"),
        server_name: short_field(event, "server_name"),
        logger: short_field(event, "logger"),
    }
}

/// The trace the event happened in, which ties it to the request's other records.
fn trace_id(event: &Map<String, Value>) -> Option<String> {
    let trace = event.get("contexts")?.get("trace")?.as_object()?;
    short_field(trace, "trace_id")
}

/// Who it happened to: the user's id, else email, else user name, else address.
fn user(event: &Map<String, Value>) -> Option<String> {
    let user = event.get("user")?.as_object()?;
    ["id", "email", "username", "ip_address"]
        .iter()
        .find_map(|field| short_field(user, field))
}

/// Tags as an object or as `[key, value]` pairs; a secret's value is masked.
fn tags(event: &Map<String, Value>) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> = match event.get("tags") {
        Some(Value::Object(tags)) => tags
            .iter()
            .filter_map(|(key, value)| Some((key.clone(), text_of(value)?)))
            .collect(),
        Some(Value::Array(pairs)) => pairs
            .iter()
            .filter_map(|pair| match pair.as_array()?.as_slice() {
                [key, value] => Some((text_of(key)?, text_of(value)?)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .take(limits::TAGS)
        .map(|(key, value)| {
            let value = if masking::is_sensitive_key(&key) {
                masking::FILTERED.to_owned()
            } else {
                short(&value)
            };
            (short(&key), value)
        })
        .collect()
}

/// The request, the extra data and the contexts, masked, each kept while the whole stays
/// within [`limits::EXTRA_BYTES`].
fn extra(event: &Map<String, Value>) -> Value {
    let mut kept = Map::new();
    let mut size = 0;
    for field in ["request", "extra", "contexts"] {
        let Some(value) = event.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let mut value = value.clone();
        scrub_value(&mut value);
        let bytes = value.to_string().len();
        if size + bytes > limits::EXTRA_BYTES {
            value = Value::String(format!("[{bytes} bytes, too large to keep]"));
        } else {
            size += bytes;
        }
        kept.insert(field.to_owned(), value);
    }
    Value::Object(kept)
}

mod shape;
#[cfg(test)]
mod tests;
