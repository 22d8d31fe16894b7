//! The live fan-out: who is in which room, which streams are open, and the delivery of
//! each chat event to the streams of the room's members.
//!
//! The hub is fed in log order by this instance's stream follower, so its membership is
//! the membership as of the last event it applied (its `position`). A stream registers
//! under the same lock that delivery takes: every event after the position it registered
//! at reaches it, and everything up to that position is history, read from the read model.
//!
//! Each stream has a bounded buffer. A stream that does not keep up is dropped rather than
//! allowed to grow memory or slow the others; its client reconnects with `Last-Event-ID`
//! and reads what it missed from history.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::Duration,
};

use bytes::Bytes;
use schemas::{RecordedEvent, chat::ChatEvent};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::frames::{self, MessageView};

/// Frames a stream may have waiting before it counts as too slow.
pub const STREAM_BUFFER: usize = 512;

pub struct Hub {
    state: Mutex<State>,
    /// The position of the last chat event applied.
    position: watch::Sender<i64>,
    max_streams_per_user: usize,
}

#[derive(Default)]
struct State {
    /// Members of every room, in joining order.
    rooms: HashMap<i64, Room>,
    /// Every user's rooms.
    user_rooms: HashMap<Uuid, HashSet<i64>>,
    /// Open streams by user.
    streams: HashMap<Uuid, Vec<Stream>>,
    next_id: u64,
}

struct Room {
    members: Vec<Uuid>,
}

/// One open stream: all of a user's rooms, or one room.
struct Stream {
    id: u64,
    session: Uuid,
    room: Option<i64>,
    tx: mpsc::Sender<Bytes>,
}

/// A stream just registered.
pub struct Registration {
    pub id: u64,
    pub frames: mpsc::Receiver<Bytes>,
    /// Events after this position will arrive as frames; the rest is history.
    pub position: i64,
    /// The rooms whose history the stream covers.
    pub rooms: Vec<i64>,
    /// Whether this is the user's first open stream here.
    pub first: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("no such room")]
    NoRoom,
    #[error("only members of the room may follow it")]
    NotMember,
    #[error("too many open streams: at most {0} per user")]
    TooMany(usize),
}

impl Hub {
    pub fn new(max_streams_per_user: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            position: watch::Sender::new(0),
            max_streams_per_user,
        }
    }

    /// Loads membership as the read model has it, as of `position` or later: events
    /// applied afterwards from `position` on bring it to the same state (each event sets
    /// the membership it describes).
    pub fn load(&self, members: impl IntoIterator<Item = (i64, Uuid)>, position: i64) {
        let mut state = self.state.lock().expect("hub lock");
        for (room, user) in members {
            state
                .rooms
                .entry(room)
                .or_insert_with(|| Room {
                    members: Vec::new(),
                })
                .members
                .push(user);
            state.user_rooms.entry(user).or_default().insert(room);
        }
        self.position.send_replace(position);
    }

    pub fn position(&self) -> i64 {
        *self.position.borrow()
    }

    /// Waits, at most `timeout`, until the hub has applied `position`.
    pub async fn wait_for(&self, position: i64, timeout: Duration) -> bool {
        let mut applied = self.position.subscribe();
        tokio::time::timeout(timeout, applied.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Whether `user` is a member of `room` (None: no such room).
    pub fn is_member(&self, room: i64, user: Uuid) -> Option<bool> {
        let state = self.state.lock().expect("hub lock");
        state.rooms.get(&room).map(|r| r.members.contains(&user))
    }

    /// Opens a stream of all of `user`'s rooms (`room` None) or of one room.
    pub fn register(
        &self,
        user: Uuid,
        session: Uuid,
        room: Option<i64>,
    ) -> Result<Registration, RegisterError> {
        let mut state = self.state.lock().expect("hub lock");
        let rooms = match room {
            Some(room) => {
                let entry = state.rooms.get(&room).ok_or(RegisterError::NoRoom)?;
                if !entry.members.contains(&user) {
                    return Err(RegisterError::NotMember);
                }
                vec![room]
            }
            None => state
                .user_rooms
                .get(&user)
                .map(|rooms| rooms.iter().copied().collect())
                .unwrap_or_default(),
        };
        let open = state.streams.get(&user).map_or(0, Vec::len);
        if open >= self.max_streams_per_user {
            return Err(RegisterError::TooMany(self.max_streams_per_user));
        }
        state.next_id += 1;
        let id = state.next_id;
        let (tx, frames) = mpsc::channel(STREAM_BUFFER);
        state.streams.entry(user).or_default().push(Stream {
            id,
            session,
            room,
            tx,
        });
        Ok(Registration {
            id,
            frames,
            position: self.position(),
            rooms,
            first: open == 0,
        })
    }

    /// Closes a stream; true when it was the user's last one here.
    pub fn unregister(&self, user: Uuid, id: u64) -> bool {
        let mut state = self.state.lock().expect("hub lock");
        let Some(streams) = state.streams.get_mut(&user) else {
            return false;
        };
        streams.retain(|s| s.id != id);
        if streams.is_empty() {
            state.streams.remove(&user);
            return true;
        }
        false
    }

    /// How many streams `user` holds here.
    pub fn streams_of(&self, user: Uuid) -> usize {
        let state = self.state.lock().expect("hub lock");
        state.streams.get(&user).map_or(0, Vec::len)
    }

    /// Ends every stream of a session (logout, blocking).
    pub fn end_session(&self, session: Uuid) {
        self.end_sessions_where(|s| s == session);
    }

    /// Ends every stream whose session `ended` says has ended.
    pub fn end_sessions_where(&self, ended: impl Fn(Uuid) -> bool) {
        let mut state = self.state.lock().expect("hub lock");
        for streams in state.streams.values_mut() {
            streams.retain(|s| !ended(s.session));
        }
    }

    /// Everyone who shares a room with `user`.
    pub fn contacts(&self, user: Uuid) -> Vec<Uuid> {
        let state = self.state.lock().expect("hub lock");
        let mut contacts: HashSet<Uuid> = HashSet::new();
        for room in state.user_rooms.get(&user).into_iter().flatten() {
            if let Some(room) = state.rooms.get(room) {
                contacts.extend(room.members.iter().filter(|m| **m != user));
            }
        }
        contacts.into_iter().collect()
    }

    /// Sends a frame to the all-rooms streams of `users`.
    pub fn notify(&self, users: &[Uuid], frame: &Bytes) {
        let mut state = self.state.lock().expect("hub lock");
        for user in users {
            deliver(&mut state, *user, None, frame);
        }
    }

    /// Applies one chat event (in log order) and delivers its frame.
    pub fn apply(&self, event: &RecordedEvent) {
        let Ok(decoded) = event.decode::<ChatEvent>() else {
            tracing::warn!(position = event.position, event_type = %event.event_type, "chat event this version cannot read");
            let _state = self.state.lock().expect("hub lock");
            self.position.send_replace(event.position);
            return;
        };
        let position = event.position;
        let mut state = self.state.lock().expect("hub lock");
        match decoded {
            ChatEvent::RoomCreated(e) => {
                for member in &e.members {
                    state
                        .user_rooms
                        .entry(*member)
                        .or_default()
                        .insert(e.room_id);
                }
                state.rooms.insert(
                    e.room_id,
                    Room {
                        members: e.members.clone(),
                    },
                );
                let frame = frames::logged(position, "room_created", &e);
                for member in &e.members {
                    deliver(&mut state, *member, None, &frame);
                }
            }
            ChatEvent::MemberJoined(e) => {
                if let Some(room) = state.rooms.get_mut(&e.room_id)
                    && !room.members.contains(&e.user_id)
                {
                    room.members.push(e.user_id);
                }
                state
                    .user_rooms
                    .entry(e.user_id)
                    .or_default()
                    .insert(e.room_id);
                let frame = frames::logged(position, "member_joined", &e);
                to_room(&mut state, e.room_id, &frame);
            }
            ChatEvent::MemberLeft(e) => {
                // The member hears of it, then hears nothing more of the room.
                let frame = frames::logged(position, "member_left", &e);
                to_room(&mut state, e.room_id, &frame);
                if let Some(room) = state.rooms.get_mut(&e.room_id) {
                    room.members.retain(|m| *m != e.user_id);
                }
                if let Some(rooms) = state.user_rooms.get_mut(&e.user_id) {
                    rooms.remove(&e.room_id);
                }
                if let Some(streams) = state.streams.get_mut(&e.user_id) {
                    streams.retain(|s| s.room != Some(e.room_id));
                }
            }
            ChatEvent::MessageSent(e) => {
                let view = MessageView {
                    room_id: e.room_id,
                    seq: event.stream_version,
                    message_id: e.message_id,
                    sender_id: e.sender_id,
                    text: e.text,
                    sent_at: e.sent_at,
                    position,
                };
                to_room(&mut state, e.room_id, &frames::message(&view));
            }
            ChatEvent::MessagesRead(e) => {
                let frame = frames::logged(position, "read", &e);
                deliver(&mut state, e.user_id, Some(e.room_id), &frame);
            }
        }
        // Moved under the lock: a stream registering next must see this position.
        self.position.send_replace(position);
    }
}

/// Delivers a frame to every member's streams of the room (their all-rooms streams and
/// their streams of this room).
fn to_room(state: &mut State, room: i64, frame: &Bytes) {
    let Some(members) = state.rooms.get(&room).map(|r| r.members.clone()) else {
        return;
    };
    for member in members {
        deliver(state, member, Some(room), frame);
    }
}

/// Delivers a frame to the streams of `user` that carry `room` (all-rooms streams carry
/// every room; None reaches all-rooms streams only). A stream whose buffer is full is
/// dropped: it ends, and its client resumes from history.
fn deliver(state: &mut State, user: Uuid, room: Option<i64>, frame: &Bytes) {
    let Some(streams) = state.streams.get_mut(&user) else {
        return;
    };
    streams.retain(|stream| {
        if stream.room.is_some() && stream.room != room {
            return true;
        }
        match stream.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("chat_streams_dropped_total", "reason" => "slow").increment(1);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    });
}

#[cfg(test)]
mod tests {
    use schemas::{
        DomainEvent,
        chat::{MessageSent, RoomCreated, RoomKind},
    };
    use time::OffsetDateTime;

    use super::*;

    const ADA: Uuid = Uuid::from_u128(1);
    const BOB: Uuid = Uuid::from_u128(2);
    const SESSION: Uuid = Uuid::from_u128(9);

    fn recorded(event: ChatEvent, position: i64, version: i64) -> RecordedEvent {
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: "room-1".into(),
            stream_version: version,
            position,
            context: ChatEvent::CONTEXT.into(),
            event_type: event.event_type().into(),
            schema_version: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            correlation_id: "test".into(),
            actor: None,
            data: event.payload(),
        }
    }

    fn room(hub: &Hub) {
        let created = ChatEvent::RoomCreated(RoomCreated {
            room_id: 1,
            kind: RoomKind::Group,
            name: Some("team".into()),
            owner_id: Some(ADA),
            members: vec![ADA, BOB],
            created_by: ADA,
            created_at: OffsetDateTime::UNIX_EPOCH,
        });
        hub.apply(&recorded(created, 1, 1));
    }

    fn message(hub: &Hub, n: i64) {
        let sent = ChatEvent::MessageSent(MessageSent {
            room_id: 1,
            message_id: Uuid::now_v7(),
            sender_id: ADA,
            text: format!("m{n}"),
            sent_at: OffsetDateTime::UNIX_EPOCH,
        });
        hub.apply(&recorded(sent, 1 + n, n));
    }

    #[test]
    fn a_stream_that_does_not_keep_up_is_dropped_and_the_others_get_everything() {
        let hub = Hub::new(8);
        room(&hub);
        let mut slow = hub.register(BOB, SESSION, None).unwrap();
        let mut fast = hub.register(ADA, SESSION, Some(1)).unwrap();
        assert_eq!((slow.position, fast.position), (1, 1));
        let total = STREAM_BUFFER as i64 + 100;
        let mut received = 0;
        for n in 1..=total {
            message(&hub, n);
            while fast.frames.try_recv().is_ok() {
                received += 1;
            }
        }
        assert_eq!(received, total, "the reading stream got every frame");
        // The slow one holds what was buffered, then ends: memory stays bounded.
        let mut buffered = 0;
        while slow.frames.try_recv().is_ok() {
            buffered += 1;
        }
        assert_eq!(buffered, STREAM_BUFFER);
        assert!(matches!(
            slow.frames.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        assert_eq!(hub.streams_of(BOB), 0);
    }

    #[test]
    fn a_registration_learns_the_position_after_which_every_event_arrives() {
        let hub = Hub::new(8);
        room(&hub);
        message(&hub, 1);
        let mut stream = hub.register(BOB, SESSION, None).unwrap();
        assert_eq!(stream.position, 2);
        assert_eq!(stream.rooms, [1]);
        message(&hub, 2);
        let frame = stream.frames.try_recv().unwrap();
        assert!(frame.starts_with(b"id: 3\nevent: message\n"));
        assert!(stream.frames.try_recv().is_err());
        assert_eq!(
            hub.register(Uuid::from_u128(7), SESSION, Some(1)).err(),
            Some(RegisterError::NotMember)
        );
        assert_eq!(
            hub.register(BOB, SESSION, Some(5)).err(),
            Some(RegisterError::NoRoom)
        );
    }
}
