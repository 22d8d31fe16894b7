//! The room aggregate as pure functions: `decide` turns a command into events given the
//! room's membership (and who may change it), `evolve` folds an event into it. No I/O.

use schemas::chat::{
    ChatEvent, MAX_GROUP_MEMBERS, MemberJoined, MemberLeft, MessageSent, MessagesRead, RoomCreated,
    RoomKind,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// A room as its membership stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub room_id: i64,
    pub kind: RoomKind,
    pub name: Option<String>,
    pub owner_id: Option<Uuid>,
    /// Members in the order they joined: the first is the longest-standing.
    pub members: Vec<Uuid>,
    pub created_by: Uuid,
    pub created_at: OffsetDateTime,
    pub version: i64,
}

impl Room {
    pub fn is_member(&self, user: Uuid) -> bool {
        self.members.contains(&user)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomCommand {
    /// `members` are the creator's invitees (the creator is added as the first member).
    Create {
        room_id: i64,
        kind: RoomKind,
        name: Option<String>,
        members: Vec<Uuid>,
        by: Uuid,
        at: OffsetDateTime,
    },
    AddMember {
        user_id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
    },
    /// Leaving when `user_id` is `by`, a removal by the owner otherwise.
    RemoveMember {
        user_id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
    },
    Send {
        message_id: Uuid,
        text: String,
        by: Uuid,
        at: OffsetDateTime,
    },
    MarkRead {
        through_seq: i64,
        by: Uuid,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("no such room")]
    RoomNotFound,
    #[error("only members of the room may do this")]
    NotMember,
    #[error("only the room's owner may add or remove other members")]
    NotOwner,
    #[error("a group room holds at most {MAX_GROUP_MEMBERS} members")]
    RoomFull,
    #[error("the user is a member already")]
    AlreadyMember,
    #[error("the user is not a member of the room")]
    NoSuchMember,
    #[error("a direct room's members do not change")]
    DirectRoomFixed,
    #[error("it exists already")]
    AlreadyExists,
}

/// The events a room command produces, or why it is refused.
pub fn decide(state: Option<&Room>, command: RoomCommand) -> Result<Vec<ChatEvent>, ChatError> {
    let (room, command) = match (state, command) {
        (
            None,
            RoomCommand::Create {
                room_id,
                kind,
                name,
                members,
                by,
                at,
            },
        ) => return Ok(vec![create(room_id, kind, name, members, by, at)?]),
        (None, _) => return Err(ChatError::RoomNotFound),
        (Some(room), command) => (room, command),
    };
    match command {
        RoomCommand::AddMember { user_id, by, at } => {
            changeable(room, by, user_id)?;
            if room.is_member(user_id) {
                return Err(ChatError::AlreadyMember);
            }
            if room.members.len() >= MAX_GROUP_MEMBERS {
                return Err(ChatError::RoomFull);
            }
            Ok(vec![ChatEvent::MemberJoined(MemberJoined {
                room_id: room.room_id,
                user_id,
                by,
                joined_at: at,
            })])
        }
        RoomCommand::RemoveMember { user_id, by, at } => {
            changeable(room, by, user_id)?;
            if !room.is_member(user_id) {
                return Err(ChatError::NoSuchMember);
            }
            let new_owner = (room.owner_id == Some(user_id))
                .then(|| room.members.iter().copied().find(|m| *m != user_id))
                .flatten();
            Ok(vec![ChatEvent::MemberLeft(MemberLeft {
                room_id: room.room_id,
                user_id,
                by,
                new_owner,
                left_at: at,
            })])
        }
        RoomCommand::Send {
            message_id,
            text,
            by,
            at,
        } => {
            member(room, by)?;
            Ok(vec![ChatEvent::MessageSent(MessageSent {
                room_id: room.room_id,
                message_id,
                sender_id: by,
                text,
                sent_at: at,
            })])
        }
        RoomCommand::MarkRead {
            through_seq,
            by,
            at,
        } => {
            member(room, by)?;
            Ok(vec![ChatEvent::MessagesRead(MessagesRead {
                room_id: room.room_id,
                user_id: by,
                through_seq,
                read_at: at,
            })])
        }
        RoomCommand::Create { .. } => Err(ChatError::AlreadyExists),
    }
}

fn create(
    room_id: i64,
    kind: RoomKind,
    name: Option<String>,
    invitees: Vec<Uuid>,
    by: Uuid,
    at: OffsetDateTime,
) -> Result<ChatEvent, ChatError> {
    let mut members = vec![by];
    for invitee in invitees {
        if !members.contains(&invitee) {
            members.push(invitee);
        }
    }
    if members.len() > MAX_GROUP_MEMBERS {
        return Err(ChatError::RoomFull);
    }
    Ok(ChatEvent::RoomCreated(RoomCreated {
        room_id,
        kind,
        owner_id: (kind == RoomKind::Group).then_some(by),
        name,
        members,
        created_by: by,
        created_at: at,
    }))
}

fn member(room: &Room, by: Uuid) -> Result<(), ChatError> {
    if room.is_member(by) {
        Ok(())
    } else {
        Err(ChatError::NotMember)
    }
}

/// Members change in group rooms only: anyone leaves, the owner removes or adds others.
fn changeable(room: &Room, by: Uuid, user: Uuid) -> Result<(), ChatError> {
    if room.kind == RoomKind::Direct {
        return Err(ChatError::DirectRoomFixed);
    }
    member(room, by)?;
    if by != user && room.owner_id != Some(by) {
        return Err(ChatError::NotOwner);
    }
    Ok(())
}

/// A room after one more event of its membership stream, which is at `version`.
pub fn evolve(state: Option<Room>, event: &ChatEvent, version: i64) -> Option<Room> {
    match (state, event) {
        (_, ChatEvent::RoomCreated(e)) => Some(Room {
            room_id: e.room_id,
            kind: e.kind,
            name: e.name.clone(),
            owner_id: e.owner_id,
            members: e.members.clone(),
            created_by: e.created_by,
            created_at: e.created_at,
            version,
        }),
        (Some(mut room), ChatEvent::MemberJoined(e)) => {
            room.members.push(e.user_id);
            room.version = version;
            Some(room)
        }
        (Some(mut room), ChatEvent::MemberLeft(e)) => {
            room.members.retain(|m| *m != e.user_id);
            if e.new_owner.is_some() || room.owner_id == Some(e.user_id) {
                room.owner_id = e.new_owner;
            }
            room.version = version;
            Some(room)
        }
        (state, _) => state,
    }
}

impl crate::command::Aggregate for Room {
    type Event = ChatEvent;

    fn evolve(state: Option<Self>, event: &ChatEvent, version: i64) -> Option<Self> {
        evolve(state, event, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{UNNUMBERED, numbered::assert_numbered_as_stored};

    const OWNER: Uuid = Uuid::from_u128(1);
    const MEMBER: Uuid = Uuid::from_u128(2);
    const OUTSIDER: Uuid = Uuid::from_u128(3);

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn apply(room: Option<Room>, command: RoomCommand) -> Result<Room, ChatError> {
        let version = room.as_ref().map_or(0, |r| r.version) + 1;
        let events = decide(room.as_ref(), command)?;
        Ok(evolve(room, &events[0], version).unwrap())
    }

    fn create(room_id: i64, invitees: Vec<Uuid>) -> RoomCommand {
        RoomCommand::Create {
            room_id,
            kind: RoomKind::Group,
            name: Some("team".into()),
            members: invitees,
            by: OWNER,
            at: at(),
        }
    }

    fn group(invitees: Vec<Uuid>) -> Result<Room, ChatError> {
        apply(None, create(1, invitees))
    }

    fn add(room: &Room, user_id: Uuid, by: Uuid) -> Result<Room, ChatError> {
        apply(
            Some(room.clone()),
            RoomCommand::AddMember {
                user_id,
                by,
                at: at(),
            },
        )
    }

    fn remove(room: &Room, user_id: Uuid, by: Uuid) -> Result<Room, ChatError> {
        apply(
            Some(room.clone()),
            RoomCommand::RemoveMember {
                user_id,
                by,
                at: at(),
            },
        )
    }

    #[test]
    fn a_new_room_is_numbered_where_the_store_numbers_it() {
        let events = decide(None, create(UNNUMBERED, vec![MEMBER])).unwrap();
        assert_numbered_as_stored::<Room>(events);
    }

    #[test]
    fn the_creator_owns_a_group_and_is_its_first_member() {
        let room = group(vec![MEMBER, MEMBER, OWNER]).unwrap();
        assert_eq!(room.owner_id, Some(OWNER));
        assert_eq!(room.members, [OWNER, MEMBER]);
    }

    #[test]
    fn a_group_takes_a_hundred_members_and_refuses_the_hundred_and_first() {
        let invitees: Vec<Uuid> = (10..109).map(Uuid::from_u128).collect();
        let room = group(invitees.clone()).unwrap();
        assert_eq!(room.members.len(), MAX_GROUP_MEMBERS);
        assert_eq!(add(&room, OUTSIDER, OWNER), Err(ChatError::RoomFull));
        let mut too_many = invitees;
        too_many.push(OUTSIDER);
        assert_eq!(group(too_many), Err(ChatError::RoomFull));
    }

    #[test]
    fn only_the_owner_adds_or_removes_others_and_anyone_leaves() {
        let room = group(vec![MEMBER]).unwrap();
        assert_eq!(add(&room, OUTSIDER, MEMBER), Err(ChatError::NotOwner));
        assert_eq!(add(&room, OUTSIDER, OUTSIDER), Err(ChatError::NotMember));
        assert_eq!(add(&room, MEMBER, OWNER), Err(ChatError::AlreadyMember));
        let bigger = add(&room, OUTSIDER, OWNER).unwrap();
        assert_eq!(remove(&bigger, OUTSIDER, MEMBER), Err(ChatError::NotOwner));
        assert_eq!(
            remove(&bigger, OUTSIDER, OUTSIDER).unwrap().members,
            [OWNER, MEMBER]
        );
        assert_eq!(
            remove(&bigger, MEMBER, OWNER).unwrap().members,
            [OWNER, OUTSIDER]
        );
        assert_eq!(remove(&room, OUTSIDER, OWNER), Err(ChatError::NoSuchMember));
    }

    #[test]
    fn an_owner_who_leaves_hands_the_room_to_the_longest_standing_member() {
        let room = group(vec![MEMBER, OUTSIDER]).unwrap();
        let left = remove(&room, OWNER, OWNER).unwrap();
        assert_eq!(left.owner_id, Some(MEMBER));
        let alone = remove(&remove(&left, OUTSIDER, MEMBER).unwrap(), MEMBER, MEMBER).unwrap();
        assert_eq!((alone.owner_id, alone.members.len()), (None, 0));
    }

    #[test]
    fn only_members_send_and_a_direct_rooms_members_are_fixed() {
        let create = RoomCommand::Create {
            room_id: 2,
            kind: RoomKind::Direct,
            name: None,
            members: vec![MEMBER],
            by: OWNER,
            at: at(),
        };
        let direct = apply(None, create).unwrap();
        assert_eq!(direct.owner_id, None);
        assert_eq!(
            remove(&direct, OWNER, OWNER),
            Err(ChatError::DirectRoomFixed)
        );
        let send = |by| RoomCommand::Send {
            message_id: Uuid::from_u128(9),
            text: "hi".into(),
            by,
            at: at(),
        };
        assert!(decide(Some(&direct), send(MEMBER)).is_ok());
        assert_eq!(
            decide(Some(&direct), send(OUTSIDER)),
            Err(ChatError::NotMember)
        );
    }
}
