//! The prompts context: users' prompt profiles (how they want a chat assistant to answer
//! them), their reference books and reference texts, and the public scripts admins curate.
//!
//! Streams:
//! - `prompt-profile-<n>`: one profile, created, updated (its settings and links whole)
//!   and deleted.
//! - `prompt-owner-<user>`: the profiles a user holds, as slots. A slot is taken in the
//!   same all-or-nothing append as each profile's creation, expecting the stream's version,
//!   so concurrent creations cannot pass the limit; it is freed with the deletion.
//! - `prompt-book-<n>`, `prompt-data-<n>`: one reference book; one reference text.
//! - `prompt-script-<n>`: one public script with its numbered scripts.
//!
//! Profiles, books and reference texts are their owner's alone, and every event of theirs
//! names the owner, so a consumer can route it (a cache, a user's views) without looking
//! anything up.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Profile streams are named `prompt-profile-<n>`.
pub const PROFILE_STREAM_PREFIX: &str = "prompt-profile-";
/// A user's profile slots are the stream `prompt-owner-<user id>`.
pub const OWNER_STREAM_PREFIX: &str = "prompt-owner-";
/// Reference book streams are named `prompt-book-<n>`.
pub const BOOK_STREAM_PREFIX: &str = "prompt-book-";
/// Reference text streams are named `prompt-data-<n>`.
pub const DATA_STREAM_PREFIX: &str = "prompt-data-";
/// Public script streams are named `prompt-script-<n>`.
pub const SCRIPT_STREAM_PREFIX: &str = "prompt-script-";

/// The event types of profiles, reference books and reference texts: what a user's own
/// read model is made of.
pub const OWNED_EVENT_TYPES: [&str; 9] = [
    "PromptProfileCreated",
    "PromptProfileUpdated",
    "PromptProfileDeleted",
    "RefBookCreated",
    "RefBookUpdated",
    "RefBookDeleted",
    "RefDataCreated",
    "RefDataUpdated",
    "RefDataDeleted",
];
/// The event types of public scripts.
pub const SCRIPT_EVENT_TYPES: [&str; 4] = [
    "PublicScriptCreated",
    "PublicScriptUpdated",
    "PublicScriptReordered",
    "PublicScriptDeleted",
];

pub fn profile_stream_id(profile: i64) -> String {
    format!("{PROFILE_STREAM_PREFIX}{profile}")
}

pub fn owner_stream_id(owner: Uuid) -> String {
    format!("{OWNER_STREAM_PREFIX}{owner}")
}

pub fn book_stream_id(book: i64) -> String {
    format!("{BOOK_STREAM_PREFIX}{book}")
}

pub fn data_stream_id(data: i64) -> String {
    format!("{DATA_STREAM_PREFIX}{data}")
}

pub fn script_stream_id(script: i64) -> String {
    format!("{SCRIPT_STREAM_PREFIX}{script}")
}

crate::named_enum! {
    /// The language a profile's scripts are written in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
    pub enum Language {
        English = "en",
        Korean = "ko",
    }
}

/// What a profile says of its user and how they want to be answered, with the references
/// it links; an update replaces it whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSettings {
    /// Up to 50 characters ("No Description" when none was given).
    pub description: String,
    pub language: Language,
    /// The user's field of study, 1 to 50 characters.
    pub major: String,
    /// The year of study, 0 to 5: 0 before university, 1 to 4 the undergraduate year,
    /// 5 a graduate.
    pub understanding_level: i16,
    /// Answers are to come from the linked references only.
    pub only_references: bool,
    /// The reference texts are sent one message each, in order.
    pub data_in_sequence: bool,
    /// The owner's reference books the scripts draw on, in order.
    pub ref_book_ids: Vec<i64>,
    /// The owner's reference texts the scripts carry, in order.
    pub ref_data_ids: Vec<i64>,
}

/// A user created a profile (on its own stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptProfileCreated {
    /// Sequential id assigned at creation.
    pub profile_id: i64,
    pub owner_id: Uuid,
    pub settings: ProfileSettings,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// The owner replaced a profile's settings and links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptProfileUpdated {
    pub profile_id: i64,
    pub owner_id: Uuid,
    pub settings: ProfileSettings,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub updated_at: OffsetDateTime,
}

/// The owner deleted a profile; its stream ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptProfileDeleted {
    pub profile_id: i64,
    pub owner_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub deleted_at: OffsetDateTime,
}

/// A user took one of their profile slots, in the same append as the profile's creation
/// (the event just before this one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSlotTaken {
    pub owner_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub taken_at: OffsetDateTime,
}

/// A user's profile slot was freed, in the same append as the profile's deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSlotFreed {
    pub owner_id: Uuid,
    /// The deleted profile.
    pub profile_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub freed_at: OffsetDateTime,
}

/// A user added a reference book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefBookCreated {
    /// Sequential id assigned at creation.
    pub book_id: i64,
    pub owner_id: Uuid,
    /// 1 to 100 characters.
    pub author: String,
    /// 1 to 100 characters.
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// The owner replaced a book's author and title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefBookUpdated {
    pub book_id: i64,
    pub owner_id: Uuid,
    pub author: String,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub updated_at: OffsetDateTime,
}

/// The owner deleted a book: the profiles that linked it no longer do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefBookDeleted {
    pub book_id: i64,
    pub owner_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub deleted_at: OffsetDateTime,
}

/// A user added a reference text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefDataCreated {
    /// Sequential id assigned at creation.
    pub data_id: i64,
    pub owner_id: Uuid,
    /// 1 to 100 characters.
    pub title: String,
    /// 1 to 3,000 characters.
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// The owner replaced a reference text's title and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefDataUpdated {
    pub data_id: i64,
    pub owner_id: Uuid,
    pub title: String,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub updated_at: OffsetDateTime,
}

/// The owner deleted a reference text: the profiles that linked it no longer do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefDataDeleted {
    pub data_id: i64,
    pub owner_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub deleted_at: OffsetDateTime,
}

/// One script of a public script: its place and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// 1 to 10, unique within its public script.
    pub number: i16,
    /// 1 to 3,000 characters.
    pub text: String,
}

/// An admin wrote a public script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicScriptCreated {
    /// Sequential id assigned at creation.
    pub script_id: i64,
    /// 1 to 100 characters.
    pub name: String,
    /// Up to 1,000 characters.
    pub description: String,
    /// 1 to 10 scripts, by number.
    pub scripts: Vec<Script>,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// An admin replaced a public script whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicScriptUpdated {
    pub script_id: i64,
    pub name: String,
    pub description: String,
    pub scripts: Vec<Script>,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub updated_at: OffsetDateTime,
}

/// An admin put a public script's scripts in a new order: the script numbered `order[0]`
/// became number 1, `order[1]` number 2, and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicScriptReordered {
    pub script_id: i64,
    /// Every script's number before, each once, in the new order.
    pub order: Vec<i16>,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub reordered_at: OffsetDateTime,
}

/// An admin deleted a public script; its stream ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicScriptDeleted {
    pub script_id: i64,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub deleted_at: OffsetDateTime,
}

/// Every event of the prompts context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptsEvent {
    PromptProfileCreated(PromptProfileCreated),
    PromptProfileUpdated(PromptProfileUpdated),
    PromptProfileDeleted(PromptProfileDeleted),
    ProfileSlotTaken(ProfileSlotTaken),
    ProfileSlotFreed(ProfileSlotFreed),
    RefBookCreated(RefBookCreated),
    RefBookUpdated(RefBookUpdated),
    RefBookDeleted(RefBookDeleted),
    RefDataCreated(RefDataCreated),
    RefDataUpdated(RefDataUpdated),
    RefDataDeleted(RefDataDeleted),
    PublicScriptCreated(PublicScriptCreated),
    PublicScriptUpdated(PublicScriptUpdated),
    PublicScriptReordered(PublicScriptReordered),
    PublicScriptDeleted(PublicScriptDeleted),
}

impl PromptsEvent {
    /// The user whose own things the event changes; none for public scripts.
    pub fn owner(&self) -> Option<Uuid> {
        match self {
            Self::PromptProfileCreated(e) => Some(e.owner_id),
            Self::PromptProfileUpdated(e) => Some(e.owner_id),
            Self::PromptProfileDeleted(e) => Some(e.owner_id),
            Self::ProfileSlotTaken(e) => Some(e.owner_id),
            Self::ProfileSlotFreed(e) => Some(e.owner_id),
            Self::RefBookCreated(e) => Some(e.owner_id),
            Self::RefBookUpdated(e) => Some(e.owner_id),
            Self::RefBookDeleted(e) => Some(e.owner_id),
            Self::RefDataCreated(e) => Some(e.owner_id),
            Self::RefDataUpdated(e) => Some(e.owner_id),
            Self::RefDataDeleted(e) => Some(e.owner_id),
            Self::PublicScriptCreated(_)
            | Self::PublicScriptUpdated(_)
            | Self::PublicScriptReordered(_)
            | Self::PublicScriptDeleted(_) => None,
        }
    }

    /// The public script the event is about, if it is about one.
    pub fn script_id(&self) -> Option<i64> {
        match self {
            Self::PublicScriptCreated(e) => Some(e.script_id),
            Self::PublicScriptUpdated(e) => Some(e.script_id),
            Self::PublicScriptReordered(e) => Some(e.script_id),
            Self::PublicScriptDeleted(e) => Some(e.script_id),
            _ => None,
        }
    }
}

impl DomainEvent for PromptsEvent {
    const CONTEXT: &'static str = "prompts";

    fn event_type(&self) -> &'static str {
        match self {
            Self::PromptProfileCreated(_) => "PromptProfileCreated",
            Self::PromptProfileUpdated(_) => "PromptProfileUpdated",
            Self::PromptProfileDeleted(_) => "PromptProfileDeleted",
            Self::ProfileSlotTaken(_) => "ProfileSlotTaken",
            Self::ProfileSlotFreed(_) => "ProfileSlotFreed",
            Self::RefBookCreated(_) => "RefBookCreated",
            Self::RefBookUpdated(_) => "RefBookUpdated",
            Self::RefBookDeleted(_) => "RefBookDeleted",
            Self::RefDataCreated(_) => "RefDataCreated",
            Self::RefDataUpdated(_) => "RefDataUpdated",
            Self::RefDataDeleted(_) => "RefDataDeleted",
            Self::PublicScriptCreated(_) => "PublicScriptCreated",
            Self::PublicScriptUpdated(_) => "PublicScriptUpdated",
            Self::PublicScriptReordered(_) => "PublicScriptReordered",
            Self::PublicScriptDeleted(_) => "PublicScriptDeleted",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::PromptProfileCreated(e) => serde_json::to_value(e),
            Self::PromptProfileUpdated(e) => serde_json::to_value(e),
            Self::PromptProfileDeleted(e) => serde_json::to_value(e),
            Self::ProfileSlotTaken(e) => serde_json::to_value(e),
            Self::ProfileSlotFreed(e) => serde_json::to_value(e),
            Self::RefBookCreated(e) => serde_json::to_value(e),
            Self::RefBookUpdated(e) => serde_json::to_value(e),
            Self::RefBookDeleted(e) => serde_json::to_value(e),
            Self::RefDataCreated(e) => serde_json::to_value(e),
            Self::RefDataUpdated(e) => serde_json::to_value(e),
            Self::RefDataDeleted(e) => serde_json::to_value(e),
            Self::PublicScriptCreated(e) => serde_json::to_value(e),
            Self::PublicScriptUpdated(e) => serde_json::to_value(e),
            Self::PublicScriptReordered(e) => serde_json::to_value(e),
            Self::PublicScriptDeleted(e) => serde_json::to_value(e),
        };
        value.expect("prompts events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        let event = match event_type {
            "PromptProfileCreated" => Self::PromptProfileCreated(payload(event_type, data)?),
            "PromptProfileUpdated" => Self::PromptProfileUpdated(payload(event_type, data)?),
            "PromptProfileDeleted" => Self::PromptProfileDeleted(payload(event_type, data)?),
            "ProfileSlotTaken" => Self::ProfileSlotTaken(payload(event_type, data)?),
            "ProfileSlotFreed" => Self::ProfileSlotFreed(payload(event_type, data)?),
            "RefBookCreated" => Self::RefBookCreated(payload(event_type, data)?),
            "RefBookUpdated" => Self::RefBookUpdated(payload(event_type, data)?),
            "RefBookDeleted" => Self::RefBookDeleted(payload(event_type, data)?),
            "RefDataCreated" => Self::RefDataCreated(payload(event_type, data)?),
            "RefDataUpdated" => Self::RefDataUpdated(payload(event_type, data)?),
            "RefDataDeleted" => Self::RefDataDeleted(payload(event_type, data)?),
            "PublicScriptCreated" => Self::PublicScriptCreated(payload(event_type, data)?),
            "PublicScriptUpdated" => Self::PublicScriptUpdated(payload(event_type, data)?),
            "PublicScriptReordered" => Self::PublicScriptReordered(payload(event_type, data)?),
            "PublicScriptDeleted" => Self::PublicScriptDeleted(payload(event_type, data)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        };
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ProfileSettings {
        ProfileSettings {
            description: "No Description".into(),
            language: Language::Korean,
            major: "물리학".into(),
            understanding_level: 5,
            only_references: true,
            data_in_sequence: false,
            ref_book_ids: vec![3, 1],
            ref_data_ids: vec![],
        }
    }

    #[test]
    fn every_event_reads_back_from_its_stored_form() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let owner = Uuid::from_u128(7);
        let events = [
            PromptsEvent::PromptProfileCreated(PromptProfileCreated {
                profile_id: 1,
                owner_id: owner,
                settings: settings(),
                created_at: at,
            }),
            PromptsEvent::ProfileSlotFreed(ProfileSlotFreed {
                owner_id: owner,
                profile_id: 1,
                freed_at: at,
            }),
            PromptsEvent::PublicScriptReordered(PublicScriptReordered {
                script_id: 2,
                order: vec![2, 1],
                by: owner,
                reordered_at: at,
            }),
        ];
        for event in events {
            let stored = event.payload();
            let read = PromptsEvent::decode(event.event_type(), 1, &stored).unwrap();
            assert_eq!(read, event);
        }
    }

    #[test]
    fn a_language_is_stored_as_its_code() {
        let json = serde_json::to_value(settings()).unwrap();
        assert_eq!(json["language"], "ko");
        assert_eq!(Language::parse("en"), Some(Language::English));
        assert_eq!(Language::parse("EN"), None);
    }

    #[test]
    fn only_the_users_own_events_name_an_owner() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let owner = Uuid::from_u128(1);
        let book = PromptsEvent::RefBookDeleted(RefBookDeleted {
            book_id: 4,
            owner_id: owner,
            deleted_at: at,
        });
        assert_eq!(book.owner(), Some(owner));
        assert_eq!(book.script_id(), None);
        let script = PromptsEvent::PublicScriptDeleted(PublicScriptDeleted {
            script_id: 9,
            by: owner,
            deleted_at: at,
        });
        assert_eq!(script.owner(), None);
        assert_eq!(script.script_id(), Some(9));
    }
}
