//! An envelope: a JSON header line, then items, each a JSON header line and a payload.
//!
//! A payload is framed by the `length` its header gives, in bytes, or, without one, runs
//! to the next newline. SDKs send items besides events (sessions, client reports,
//! transactions, attachments): they are read, so that the framing holds, and left to the
//! caller to ignore.

use serde_json::{Map, Value};
use uuid::Uuid;

/// What an envelope holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The header (`event_id`, `dsn`, `sent_at`, ...); an empty object when it has none.
    pub header: Map<String, Value>,
    pub items: Vec<Item>,
}

/// One item: its header (with at least `type`) and its payload's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: String,
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
}

/// Why a body is not an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope is empty")]
    Empty,
    #[error("the envelope header is not a JSON object: {0}")]
    Header(String),
    #[error("item {index}: its header is not a JSON object with a type: {reason}")]
    ItemHeader { index: usize, reason: String },
    #[error("item {index}: its length says {length} bytes, {left} are left")]
    Truncated {
        index: usize,
        length: usize,
        left: usize,
    },
}

impl Envelope {
    /// Reads an envelope from its (decompressed) body.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let mut rest = body;
        let header_line = next_line(&mut rest).ok_or(EnvelopeError::Empty)?;
        let header = object(header_line).map_err(EnvelopeError::Header)?;
        let mut items = Vec::new();
        while let Some(line) = next_line(&mut rest) {
            // Blank lines between items carry nothing.
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let index = items.len();
            let item_error = |reason: String| EnvelopeError::ItemHeader { index, reason };
            let header = object(line).map_err(item_error)?;
            let kind = header
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| item_error("it has no type".to_owned()))?
                .to_owned();
            let payload = match header.get("length") {
                Some(length) => {
                    let length = length
                        .as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| item_error(format!("length {length} is not a size")))?;
                    if length > rest.len() {
                        return Err(EnvelopeError::Truncated {
                            index,
                            length,
                            left: rest.len(),
                        });
                    }
                    let (payload, after) = rest.split_at(length);
                    rest = after.strip_prefix(b"\n").unwrap_or(after);
                    payload
                }
                None => next_line(&mut rest).unwrap_or_default(),
            };
            items.push(Item {
                kind,
                header,
                payload: payload.to_vec(),
            });
        }
        Ok(Self { header, items })
    }

    /// The items that carry an error or a message to record.
    pub fn events(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|item| item.kind == "event")
    }

    /// The envelope's event id, from its header.
    pub fn event_id(&self) -> Option<Uuid> {
        self.header
            .get("event_id")
            .and_then(Value::as_str)
            .and_then(event_id)
    }
}

/// An event id as SDKs write it: 32 hex digits (in payloads) or a hyphenated UUID (the
/// Rust SDK's envelope header).
pub fn event_id(text: &str) -> Option<Uuid> {
    Uuid::try_parse(text.trim()).ok()
}

/// The next line of `rest` without its newline (and a carriage return before it), moving
/// `rest` past it; None at the end.
fn next_line<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    if rest.is_empty() {
        return None;
    }
    let (line, after) = match rest.iter().position(|&b| b == b'\n') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (*rest, &rest[rest.len()..]),
    };
    *rest = after;
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

/// A line as a JSON object; a blank one is an empty object.
fn object(line: &[u8]) -> Result<Map<String, Value>, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("found {other}")),
        Err(err) => Err(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_framed_by_length_may_hold_newlines() {
        let payload = "{\"message\":\"a\\nb\"}\n{}";
        let body = format!(
            "{{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}}\n\
             {{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
            payload.len()
        );
        let envelope = Envelope::parse(body.as_bytes()).unwrap();
        assert_eq!(envelope.items.len(), 1);
        assert_eq!(envelope.items[0].payload, payload.as_bytes());
        assert_eq!(
            envelope.event_id(),
            Some(Uuid::parse_str("9ec79c33-ec99-42ab-8353-589fcb2e04dc").unwrap())
        );
    }

    #[test]
    fn items_without_a_length_run_to_the_end_of_their_line() {
        let body =
            b"{}\n{\"type\":\"session\"}\n{\"sid\":1}\n{\"type\":\"event\"}\n{\"level\":\"error\"}";
        let envelope = Envelope::parse(body).unwrap();
        let kinds: Vec<&str> = envelope.items.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["session", "event"]);
        let events: Vec<&Item> = envelope.events().collect();
        assert_eq!(events[0].payload, b"{\"level\":\"error\"}");
    }

    #[test]
    fn an_envelope_of_only_a_header_holds_no_items() {
        let envelope = Envelope::parse(b"{\"dsn\":\"http://k@h/1\"}\n").unwrap();
        assert!(envelope.items.is_empty());
        assert_eq!(envelope.event_id(), None);
    }

    #[test]
    fn a_length_past_the_end_is_refused_rather_than_read_short() {
        let body = b"{}\n{\"type\":\"event\",\"length\":50}\n{}";
        assert_eq!(
            Envelope::parse(body),
            Err(EnvelopeError::Truncated {
                index: 0,
                length: 50,
                left: 2
            })
        );
    }

    #[test]
    fn broken_headers_are_refused_with_what_is_wrong() {
        assert_eq!(Envelope::parse(b""), Err(EnvelopeError::Empty));
        assert!(matches!(
            Envelope::parse(b"[1]\n"),
            Err(EnvelopeError::Header(_))
        ));
        assert!(matches!(
            Envelope::parse(b"{}\n{\"length\":2}\n{}"),
            Err(EnvelopeError::ItemHeader { index: 0, .. })
        ));
        assert!(matches!(
            Envelope::parse(b"{}\nnot json\n"),
            Err(EnvelopeError::ItemHeader { index: 0, .. })
        ));
    }

    /// An exception captured by Python's `sentry-sdk` 2.76.0, as its transport serialized
    /// it.
    const PYTHON_EXCEPTION: &[u8] = include_bytes!("fixtures/python-exception.envelope");

    #[test]
    fn the_python_sdk_s_envelope_holds_one_event_with_its_exception() {
        let envelope = Envelope::parse(PYTHON_EXCEPTION).unwrap();
        assert_eq!(
            envelope.event_id(),
            event_id("85727085acb8484690f4d47cf632eeb4")
        );
        let events: Vec<&Item> = envelope.events().collect();
        assert_eq!(events.len(), 1);
        let event: Value = serde_json::from_slice(&events[0].payload).unwrap();
        assert_eq!(event["exception"]["values"][0]["type"], "ZeroDivisionError");
        assert_eq!(event["release"], "shop@1.2.3");
    }

    #[test]
    fn event_ids_are_read_in_both_of_the_sdks_forms() {
        let simple = event_id("9ec79c33ec9942ab8353589fcb2e04dc").unwrap();
        let hyphenated = event_id("9ec79c33-ec99-42ab-8353-589fcb2e04dc").unwrap();
        assert_eq!(simple, hyphenated);
        assert_eq!(event_id("not an id"), None);
    }
}
