//! The board context: posts with sequential ids, and comments on them.
//!
//! A comment has a stream of its own, so comments never contend with each other nor with
//! edits of their post; every comment event names its post.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Post streams are named `post-<id>`.
pub const POST_STREAM_PREFIX: &str = "post-";
/// Comment streams are named `comment-<id>`.
pub const COMMENT_STREAM_PREFIX: &str = "comment-";

/// The stream that holds one post's events.
pub fn post_stream(id: i64) -> String {
    format!("{POST_STREAM_PREFIX}{id}")
}

/// The stream that holds one comment's events.
pub fn comment_stream(id: i64) -> String {
    format!("{COMMENT_STREAM_PREFIX}{id}")
}

/// A member wrote a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostCreated {
    /// Sequential id assigned at creation.
    pub post_id: i64,
    pub author_id: Uuid,
    /// 1 to 200 characters.
    pub title: String,
    /// 1 to 20,000 characters.
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// A post's title and content were replaced, by its author or an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostUpdated {
    pub post_id: i64,
    pub title: String,
    pub content: String,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub updated_at: OffsetDateTime,
}

/// A post was deleted, by its author or an admin; its stream ends here and its comments
/// go with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostDeleted {
    pub post_id: i64,
    pub by: Uuid,
}

/// A member commented on a post (on the comment's own stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentAdded {
    /// Sequential id assigned at creation.
    pub comment_id: i64,
    pub post_id: i64,
    pub author_id: Uuid,
    /// 1 to 2,000 characters.
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// A comment was deleted, by its author, the post's author or an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentDeleted {
    pub comment_id: i64,
    pub post_id: i64,
    pub by: Uuid,
}

/// Every event of the board context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoardEvent {
    PostCreated(PostCreated),
    PostUpdated(PostUpdated),
    PostDeleted(PostDeleted),
    CommentAdded(CommentAdded),
    CommentDeleted(CommentDeleted),
}

impl BoardEvent {
    /// The post the event is about (a comment's post for comment events).
    pub fn post_id(&self) -> i64 {
        match self {
            Self::PostCreated(e) => e.post_id,
            Self::PostUpdated(e) => e.post_id,
            Self::PostDeleted(e) => e.post_id,
            Self::CommentAdded(e) => e.post_id,
            Self::CommentDeleted(e) => e.post_id,
        }
    }
}

impl DomainEvent for BoardEvent {
    const CONTEXT: &'static str = "board";

    fn event_type(&self) -> &'static str {
        match self {
            Self::PostCreated(_) => "PostCreated",
            Self::PostUpdated(_) => "PostUpdated",
            Self::PostDeleted(_) => "PostDeleted",
            Self::CommentAdded(_) => "CommentAdded",
            Self::CommentDeleted(_) => "CommentDeleted",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::PostCreated(e) => serde_json::to_value(e),
            Self::PostUpdated(e) => serde_json::to_value(e),
            Self::PostDeleted(e) => serde_json::to_value(e),
            Self::CommentAdded(e) => serde_json::to_value(e),
            Self::CommentDeleted(e) => serde_json::to_value(e),
        };
        value.expect("board events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "PostCreated" => payload(event_type, data).map(Self::PostCreated),
            "PostUpdated" => payload(event_type, data).map(Self::PostUpdated),
            "PostDeleted" => payload(event_type, data).map(Self::PostDeleted),
            "CommentAdded" => payload(event_type, data).map(Self::CommentAdded),
            "CommentDeleted" => payload(event_type, data).map(Self::CommentDeleted),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}
