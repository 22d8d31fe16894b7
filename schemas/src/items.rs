//! The items context: CRUD of simple items with sequential ids.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Item streams are named `item-<id>`.
pub const STREAM_PREFIX: &str = "item-";

/// The stream that holds one item's events.
pub fn stream_id(id: i64) -> String {
    format!("{STREAM_PREFIX}{id}")
}

/// An item came into being.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemCreated {
    /// Sequential id assigned at creation.
    pub id: i64,
    /// 1 to 100 characters.
    pub name: String,
    /// Up to 1000 characters; empty when none was given.
    pub description: String,
}

/// An item's name and description were replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemUpdated {
    pub id: i64,
    pub name: String,
    pub description: String,
}

/// An item was deleted; its stream ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemDeleted {
    pub id: i64,
}

/// Every event of the items context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemEvent {
    Created(ItemCreated),
    Updated(ItemUpdated),
    Deleted(ItemDeleted),
}

impl ItemEvent {
    /// The item the event is about.
    pub fn item_id(&self) -> i64 {
        match self {
            Self::Created(e) => e.id,
            Self::Updated(e) => e.id,
            Self::Deleted(e) => e.id,
        }
    }
}

impl DomainEvent for ItemEvent {
    const CONTEXT: &'static str = "items";

    fn event_type(&self) -> &'static str {
        match self {
            Self::Created(_) => "ItemCreated",
            Self::Updated(_) => "ItemUpdated",
            Self::Deleted(_) => "ItemDeleted",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::Created(e) => serde_json::to_value(e),
            Self::Updated(e) => serde_json::to_value(e),
            Self::Deleted(e) => serde_json::to_value(e),
        };
        value.expect("item events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "ItemCreated" => payload(event_type, data).map(Self::Created),
            "ItemUpdated" => payload(event_type, data).map(Self::Updated),
            "ItemDeleted" => payload(event_type, data).map(Self::Deleted),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}
