//! Chat input, parsed into valid commands at the edge.

use schemas::chat::{MAX_GROUP_MEMBERS, MAX_MESSAGE_CHARS, RoomKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service_kit::ApiError;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text;

pub const MAX_NAME_CHARS: usize = 100;

/// Body of `POST /chats`: a direct room with one other user, or a named group room.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomInput {
    /// `direct` or `group`.
    #[serde(rename = "type")]
    #[schema(example = "group")]
    pub kind: String,
    /// The other user of a direct room.
    pub user_id: Option<Uuid>,
    /// A group room's name, 1 to 100 characters.
    #[schema(example = "Project team", max_length = 100)]
    pub name: Option<String>,
    /// A group room's first members besides the creator (at most 99 others).
    pub members: Option<Vec<Uuid>>,
}

/// A room to create, valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum NewRoom {
    Direct { with: Uuid },
    Group { name: String, members: Vec<Uuid> },
}

/// Body of `POST /chats/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub user_id: Uuid,
}

/// Body of `POST /chats/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// 1 to 1,000 characters (not bytes); line breaks allowed.
    #[schema(example = "Hello there", min_length = 1, max_length = 1000)]
    pub text: String,
    /// The client's id for this message: a retry with the same id does not send twice.
    pub message_id: Option<Uuid>,
}

/// Body of `POST /chats/{id}/read`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    /// The sequence of the last message read.
    #[schema(example = 42, minimum = 0)]
    pub seq: i64,
}

impl RoomInput {
    /// Checks the fields the room's type needs (and only those) and reports every broken
    /// rule at once.
    pub fn parse(self, creator: Uuid) -> Result<NewRoom, ApiError> {
        let mut broken = Map::new();
        let Some(kind) = RoomKind::parse(&self.kind) else {
            broken.insert("type".into(), "must be \"direct\" or \"group\"".into());
            return Err(ApiError::invalid_fields(broken));
        };
        let mut unexpected = |field: &str, given: bool| {
            if given {
                broken.insert(
                    field.into(),
                    format!("is not taken by a {} room", kind.as_str()).into(),
                );
            }
        };
        match kind {
            RoomKind::Direct => {
                unexpected("name", self.name.is_some());
                unexpected("members", self.members.is_some());
                match self.user_id {
                    None => {
                        broken.insert("user_id".into(), "is required for a direct room".into());
                    }
                    Some(with) if with == creator => {
                        broken.insert("user_id".into(), "must be another user".into());
                    }
                    Some(_) => {}
                }
                refuse(broken)?;
                Ok(NewRoom::Direct {
                    with: self.user_id.expect("checked above"),
                })
            }
            RoomKind::Group => {
                unexpected("user_id", self.user_id.is_some());
                let name = self.name.as_deref().map(str::trim).unwrap_or_default();
                if let Err(rule) = text::check(name, MAX_NAME_CHARS, false, true) {
                    broken.insert("name".into(), rule.into());
                }
                let mut members: Vec<Uuid> = Vec::new();
                for member in self.members.unwrap_or_default() {
                    if member != creator && !members.contains(&member) {
                        members.push(member);
                    }
                    if members.len() >= MAX_GROUP_MEMBERS {
                        broken.insert(
                            "members".into(),
                            format!(
                                "must name at most {} others: a group room holds at most \
                                 {MAX_GROUP_MEMBERS} members, its creator included",
                                MAX_GROUP_MEMBERS - 1
                            )
                            .into(),
                        );
                        break;
                    }
                }
                refuse(broken)?;
                Ok(NewRoom::Group {
                    name: name.to_owned(),
                    members,
                })
            }
        }
    }
}

impl MessageInput {
    pub fn parse(self) -> Result<(Option<Uuid>, String), ApiError> {
        let mut broken = Map::new();
        if let Err(rule) = text::check(&self.text, MAX_MESSAGE_CHARS, true, true) {
            broken.insert("text".into(), rule.into());
        }
        refuse(broken)?;
        Ok((self.message_id, self.text))
    }
}

impl ReadInput {
    pub fn parse(self) -> Result<i64, ApiError> {
        if self.seq < 0 {
            let mut broken = Map::new();
            broken.insert("seq".into(), "must not be negative".into());
            return Err(ApiError::invalid_fields(broken));
        }
        Ok(self.seq)
    }
}

/// A 422 naming every broken rule, unless there is none.
fn refuse(broken: Map<String, Value>) -> Result<(), ApiError> {
    if broken.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(broken))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Uuid = Uuid::from_u128(1);

    fn message(text: &str) -> Result<(Option<Uuid>, String), ApiError> {
        MessageInput {
            text: text.into(),
            message_id: None,
        }
        .parse()
    }

    fn group(name: Option<&str>, members: Vec<Uuid>) -> Result<NewRoom, ApiError> {
        RoomInput {
            kind: "group".into(),
            user_id: None,
            name: name.map(Into::into),
            members: Some(members),
        }
        .parse(ME)
    }

    #[test]
    fn messages_hold_one_to_a_thousand_characters_not_bytes() {
        assert!(message(&"한".repeat(1000)).is_ok());
        assert!(message(&"🙂".repeat(1000)).is_ok());
        let err = message(&"한".repeat(1001)).unwrap_err();
        assert_eq!(
            err.details.unwrap()["fields"]["text"],
            "must be at most 1000 characters, got 1001"
        );
        assert!(message("").is_err());
        assert!(message(" \n ").is_err());
        assert!(message("two\nlines").is_ok());
    }

    #[test]
    fn a_group_names_at_most_ninety_nine_others_counted_once() {
        let others: Vec<Uuid> = (10..109).map(Uuid::from_u128).collect();
        let mut doubled = others.clone();
        doubled.extend(others.iter().copied());
        doubled.push(ME);
        assert_eq!(
            group(Some("team"), doubled).unwrap(),
            NewRoom::Group {
                name: "team".into(),
                members: others.clone()
            }
        );
        let mut too_many = others;
        too_many.push(Uuid::from_u128(999));
        assert!(group(Some("team"), too_many).is_err());
        assert!(group(None, vec![]).is_err());
    }

    #[test]
    fn a_direct_room_is_with_one_other_user() {
        let direct = |user_id, name: Option<&str>| {
            RoomInput {
                kind: "direct".into(),
                user_id,
                name: name.map(Into::into),
                members: None,
            }
            .parse(ME)
        };
        let other = Uuid::from_u128(2);
        assert_eq!(
            direct(Some(other), None).unwrap(),
            NewRoom::Direct { with: other }
        );
        assert!(direct(Some(ME), None).is_err());
        assert!(direct(None, None).is_err());
        assert!(direct(Some(other), Some("x")).is_err());
    }
}
