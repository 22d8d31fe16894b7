//! The chat context: direct and group rooms, their members, messages and read markers.
//!
//! A room's membership and its messages are two streams, so sending never contends with
//! membership changes: `room-<n>` holds RoomCreated, MemberJoined and MemberLeft;
//! `messages-<n>` holds MessageSent, and a message's sequence in its room is its version
//! in that stream (the envelope's `stream_version`), assigned as the append commits. A
//! member's read marker has a stream of its own, `reads-<n>-<user>`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Room streams are named `room-<number>`.
pub const ROOM_STREAM_PREFIX: &str = "room-";
/// A group room holds at most this many members, owner included.
pub const MAX_GROUP_MEMBERS: usize = 100;
/// A message holds 1 to this many characters (Unicode scalar values, not bytes).
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// The stream of a room's membership.
pub fn room_stream(room_id: i64) -> String {
    format!("{ROOM_STREAM_PREFIX}{room_id}")
}

/// The stream of a room's messages; a message's version in it is its sequence.
pub fn messages_stream(room_id: i64) -> String {
    format!("messages-{room_id}")
}

/// The stream of one member's read marker in one room.
pub fn reads_stream(room_id: i64, user_id: Uuid) -> String {
    format!("reads-{room_id}-{user_id}")
}

crate::named_enum! {
    /// A direct room joins exactly two users; a group room has a name and an owner.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
    pub enum RoomKind {
        Direct = "direct",
        Group = "group",
    }
}

/// A room was opened with its first members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomCreated {
    /// Sequential room number assigned at creation.
    pub room_id: i64,
    pub kind: RoomKind,
    /// A group room's name (1 to 100 characters); none for a direct room.
    pub name: Option<String>,
    /// A group room's owner, who adds and removes members; none for a direct room.
    pub owner_id: Option<Uuid>,
    /// Every first member, the creator included.
    pub members: Vec<Uuid>,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// The owner added a member to a group room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberJoined {
    pub room_id: i64,
    pub user_id: Uuid,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub joined_at: OffsetDateTime,
}

/// A member left a group room (`by` is the member) or the owner removed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberLeft {
    pub room_id: i64,
    pub user_id: Uuid,
    pub by: Uuid,
    /// When the owner left, the member who owns the room from now on (the longest-standing
    /// one); none when the owner stays or nobody is left.
    pub new_owner: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub left_at: OffsetDateTime,
}

/// A member sent a text message to a room (on the room's `messages-<n>` stream, whose
/// version is the message's sequence in the room).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageSent {
    pub room_id: i64,
    /// Chosen by the client (or the server when the client gave none); a retry with the
    /// same id does not send twice.
    pub message_id: Uuid,
    pub sender_id: Uuid,
    /// 1 to 1,000 characters.
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub sent_at: OffsetDateTime,
}

/// A member has read a room's messages up to a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagesRead {
    pub room_id: i64,
    pub user_id: Uuid,
    pub through_seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub read_at: OffsetDateTime,
}

/// Every event of the chat context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    RoomCreated(RoomCreated),
    MemberJoined(MemberJoined),
    MemberLeft(MemberLeft),
    MessageSent(MessageSent),
    MessagesRead(MessagesRead),
}

impl ChatEvent {
    /// The room the event is about.
    pub fn room_id(&self) -> i64 {
        match self {
            Self::RoomCreated(e) => e.room_id,
            Self::MemberJoined(e) => e.room_id,
            Self::MemberLeft(e) => e.room_id,
            Self::MessageSent(e) => e.room_id,
            Self::MessagesRead(e) => e.room_id,
        }
    }
}

impl DomainEvent for ChatEvent {
    const CONTEXT: &'static str = "chat";

    fn event_type(&self) -> &'static str {
        match self {
            Self::RoomCreated(_) => "RoomCreated",
            Self::MemberJoined(_) => "MemberJoined",
            Self::MemberLeft(_) => "MemberLeft",
            Self::MessageSent(_) => "MessageSent",
            Self::MessagesRead(_) => "MessagesRead",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::RoomCreated(e) => serde_json::to_value(e),
            Self::MemberJoined(e) => serde_json::to_value(e),
            Self::MemberLeft(e) => serde_json::to_value(e),
            Self::MessageSent(e) => serde_json::to_value(e),
            Self::MessagesRead(e) => serde_json::to_value(e),
        };
        value.expect("chat events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "RoomCreated" => payload(event_type, data).map(Self::RoomCreated),
            "MemberJoined" => payload(event_type, data).map(Self::MemberJoined),
            "MemberLeft" => payload(event_type, data).map(Self::MemberLeft),
            "MessageSent" => payload(event_type, data).map(Self::MessageSent),
            "MessagesRead" => payload(event_type, data).map(Self::MessagesRead),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}
