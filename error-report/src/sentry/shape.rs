//! Parsing a Sentry event into a JSON tree of only the parts that are read.
//!
//! SDKs send much that no error keeps: the loaded modules, breadcrumbs, every frame's local
//! variables and surrounding source lines, the SDK's packages and integrations. Building
//! those into a tree only to drop it was the largest cost of taking an event; they are
//! now skipped as they are parsed. A member kept has the same value as in the whole tree,
//! whatever its shape, so reading the pruned tree is reading the event.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Which parts of a JSON value are kept. A value of a kind the shape says nothing of (an
/// object where only elements are described, a string...) is kept whole.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Of an object, the members kept, each with its own shape; all when None.
    members: Option<&'static [(&'static str, Shape)]>,
    /// Of an array, the shape of each element; whole when None.
    elements: Option<&'static Shape>,
}

impl Shape {
    const WHOLE: Self = Self {
        members: None,
        elements: None,
    };

    const fn members(members: &'static [(&'static str, Shape)]) -> Self {
        Self {
            members: Some(members),
            elements: None,
        }
    }

    const fn elements(element: &'static Shape) -> Self {
        Self {
            members: None,
            elements: Some(element),
        }
    }

    /// Parses `payload` (one JSON value and nothing after it) in this shape.
    pub(super) fn parse(self, payload: &[u8]) -> Result<Value, serde_json::Error> {
        let mut input = serde_json::Deserializer::from_slice(payload);
        let value = self.deserialize(&mut input)?;
        input.end()?;
        Ok(value)
    }
}

const WHOLE: Shape = Shape::WHOLE;

const FRAME: Shape = Shape::members(&[
    ("filename", WHOLE),
    ("abs_path", WHOLE),
    ("function", WHOLE),
    ("module", WHOLE),
    ("lineno", WHOLE),
    ("colno", WHOLE),
    ("in_app", WHOLE),
    ("context_line", WHOLE),
]);
const FRAMES: Shape = Shape::elements(&FRAME);

const EXCEPTION: Shape = Shape::members(&[
    ("type", WHOLE),
    ("value", WHOLE),
    ("module", WHOLE),
    ("mechanism", Shape::members(&[("handled", WHOLE)])),
    ("stacktrace", Shape::members(&[("frames", FRAMES)])),
]);
const EXCEPTIONS: Shape = Shape::elements(&EXCEPTION);

/// What [`super::error_logged`] reads of an event. `exception` is `{"values": [...]}` or,
/// from some SDKs, the list itself.
pub(super) const EVENT: Shape = Shape::members(&[
    ("event_id", WHOLE),
    ("fingerprint", WHOLE),
    ("logentry", WHOLE),
    ("message", WHOLE),
    (
        "exception",
        Shape {
            members: Some(&[("values", EXCEPTIONS)]),
            elements: Some(&EXCEPTION),
        },
    ),
    ("transaction", WHOLE),
    ("culprit", WHOLE),
    ("level", WHOLE),
    ("timestamp", WHOLE),
    ("release", WHOLE),
    ("environment", WHOLE),
    (
        "sdk",
        Shape::members(&[("name", WHOLE), ("version", WHOLE)]),
    ),
    ("platform", WHOLE),
    ("server_name", WHOLE),
    ("logger", WHOLE),
    ("user", WHOLE),
    ("tags", WHOLE),
    // Kept whole in the error (masked, bounded).
    ("request", WHOLE),
    ("extra", WHOLE),
    ("contexts", WHOLE),
]);

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.members.is_none() && self.elements.is_none() {
            return serde::Deserialize::deserialize(deserializer);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let element = self.elements.copied().unwrap_or(WHOLE);
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(value) = seq.next_element_seed(element)? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let shape = match self.members {
                None => Some(WHOLE),
                Some(members) => members
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|&(_, shape)| shape),
            };
            match shape {
                Some(shape) => {
                    // The last of duplicate keys wins, as in a whole tree.
                    object.insert(key, map.next_value_seed(shape)?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_members_read_are_kept_whatever_their_shape() {
        let event = json!({
            "event_id": "85727085acb8484690f4d47cf632eeb4",
            "modules": {"sentry-sdk": "2.76.0"},
            "breadcrumbs": {"values": [{"message": "clicked"}]},
            "sdk": {"name": "sentry.python", "version": "2.76.0", "packages": [{"name": "pypi:sentry-sdk"}]},
            "exception": {"values": [{
                "type": "ZeroDivisionError",
                "mechanism": {"type": "generic", "handled": true},
                "stacktrace": {"frames": [
                    {"function": "f", "lineno": 12, "vars": {"password": "hunter2"}, "pre_context": ["a"]},
                    "not a frame"
                ]}
            }]},
            "tags": [["a", "b"]],
            "level": 3,
        });
        let pruned = EVENT.parse(event.to_string().as_bytes()).unwrap();
        assert_eq!(
            pruned,
            json!({
                "event_id": "85727085acb8484690f4d47cf632eeb4",
                "sdk": {"name": "sentry.python", "version": "2.76.0"},
                "exception": {"values": [{
                    "type": "ZeroDivisionError",
                    "mechanism": {"handled": true},
                    "stacktrace": {"frames": [{"function": "f", "lineno": 12}, "not a frame"]}
                }]},
                "tags": [["a", "b"]],
                "level": 3,
            })
        );
    }

    #[test]
    fn an_exception_list_keeps_the_same_parts_and_other_values_come_whole() {
        let list = json!({"exception": [{"type": "E", "vars": {}}]});
        assert_eq!(
            EVENT.parse(list.to_string().as_bytes()).unwrap(),
            json!({"exception": [{"type": "E"}]})
        );
        for value in [
            json!([1, {"a": 2}]),
            json!("text"),
            json!(null),
            json!(-1.5),
        ] {
            assert_eq!(EVENT.parse(value.to_string().as_bytes()).unwrap(), value);
        }
    }

    #[test]
    fn what_is_no_json_or_has_more_after_it_is_refused() {
        for body in [&b"not json"[..], b"", b"{} {}", b"{\"a\": }"] {
            assert!(EVENT.parse(body).is_err(), "{body:?}");
        }
    }
}
