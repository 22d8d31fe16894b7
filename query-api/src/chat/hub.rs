//! The live fan-out: who is in which room, which streams are open, and the delivery of
//! each chat event to the streams of the room's members and of each email change to the
//! streams of the email's owner.
//!
//! The hub is fed by this instance's followers of the chat and the email context, merged
//! back into log order ([`super::feed`]), so its membership is the membership as of the
//! position it has released (its `position`). A stream registers under the same lock that
//! delivery takes: every event after the position it registered at reaches it, and
//! everything up to that position is history, read from the read models.
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
use schemas::RecordedEvent;
use tokio::sync::{Notify, mpsc, watch};
use uuid::Uuid;

use super::{
    fanout::{self, deliver},
    feed::{Lag, Lane, Merge},
};

/// Frames a stream may have waiting before it counts as too slow.
pub const STREAM_BUFFER: usize = 512;

pub struct Hub {
    state: Mutex<State>,
    /// Every event at or below this position has been delivered.
    position: watch::Sender<i64>,
    /// Told when a lane of the feed holds events back, for [`super::align`].
    stalled: Notify,
    max_streams_per_user: usize,
}

pub(super) struct State {
    /// Members of every room, in joining order.
    pub(super) rooms: HashMap<i64, Room>,
    /// Every user's rooms.
    pub(super) user_rooms: HashMap<Uuid, HashSet<i64>>,
    /// Open streams by user.
    pub(super) streams: HashMap<Uuid, Vec<Stream>>,
    next_id: u64,
    /// Events arrived from the followers, until every lane has passed them.
    feed: Merge,
}

pub(super) struct Room {
    pub(super) members: Vec<Uuid>,
}

/// One open stream: all of a user's rooms, or one room.
pub(super) struct Stream {
    id: u64,
    session: Uuid,
    pub(super) room: Option<i64>,
    pub(super) tx: mpsc::Sender<Bytes>,
}

/// A stream just registered.
pub struct Registration {
    pub id: u64,
    pub frames: mpsc::Receiver<Bytes>,
    /// Events after this position will arrive as frames; the rest is history.
    pub position: i64,
    /// The last chat event and the last email event at or below `position`: once the read
    /// models have applied these, they hold all of the history.
    pub chat_at: i64,
    pub email_at: i64,
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
        // Exported at zero from the start: an alert on its increase then sees the first
        // drop too, which a series first scraped at 1 would hide.
        metrics::counter!("chat_streams_dropped_total", "reason" => "slow").increment(0);
        metrics::gauge!("chat_streams_open").increment(0.0);
        Self {
            state: Mutex::new(State {
                rooms: HashMap::new(),
                user_rooms: HashMap::new(),
                streams: HashMap::new(),
                next_id: 0,
                feed: Merge::new(0, [0, 0]),
            }),
            position: watch::Sender::new(0),
            stalled: Notify::new(),
            max_streams_per_user,
        }
    }

    /// Loads membership as the read model has it, as of `position` or later: events
    /// applied afterwards from `position` on bring it to the same state (each event sets
    /// the membership it describes). The feed starts there; `last_email` is the last
    /// email event at or below it.
    pub fn load(
        &self,
        members: impl IntoIterator<Item = (i64, Uuid)>,
        position: i64,
        last_email: i64,
    ) {
        let mut state = self.state.lock().expect("hub lock");
        state.feed = Merge::new(position, [position, last_email]);
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
            position: state.feed.released(),
            chat_at: state.feed.last(Lane::Chat),
            email_at: state.feed.last(Lane::Email),
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

    /// An event of `lane` arrived, in the lane's order. It is delivered once every lane has
    /// passed its position.
    pub fn push(&self, lane: Lane, event: &RecordedEvent) {
        let mut state = self.state.lock().expect("hub lock");
        state.feed.push(lane, event.clone());
    }

    /// `lane` has delivered every event of its context up to `through`: applies and
    /// delivers, in log order, what that releases.
    pub fn advance(&self, lane: Lane, through: i64) {
        let mut state = self.state.lock().expect("hub lock");
        for (lane, event) in state.feed.advance(lane, through) {
            match lane {
                Lane::Chat => fanout::chat_event(&mut state, &event),
                Lane::Email => fanout::email_event(&mut state, &event),
            }
        }
        // Moved under the lock: a stream registering next must see this position.
        let released = state.feed.released();
        self.position.send_if_modified(|position| {
            let moved = *position != released;
            *position = released;
            moved
        });
        if state.feed.lagging().is_some() {
            self.stalled.notify_one();
        }
    }

    /// The lane that holds arrived events back, if one does.
    pub fn lagging(&self) -> Option<Lag> {
        self.state.lock().expect("hub lock").feed.lagging()
    }

    /// Resolves when a lane has held events back since the last call.
    pub async fn stalled(&self) {
        self.stalled.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use schemas::{
        DomainEvent,
        chat::{ChatEvent, MessageSent, RoomCreated, RoomKind},
        email::{EmailCancelled, EmailEvent},
    };
    use time::OffsetDateTime;

    use super::*;

    const ADA: Uuid = Uuid::from_u128(1);
    const BOB: Uuid = Uuid::from_u128(2);
    const SESSION: Uuid = Uuid::from_u128(9);

    fn recorded<E: DomainEvent>(event: E, position: i64, version: i64) -> RecordedEvent {
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: "room-1".into(),
            stream_version: version,
            position,
            context: E::CONTEXT.into(),
            event_type: event.event_type().into(),
            schema_version: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            correlation_id: "test".into(),
            actor: None,
            data: event.payload().into(),
        }
    }

    /// Feeds an event as the followers do when both lanes keep pace.
    fn feed(hub: &Hub, lane: Lane, event: RecordedEvent) {
        let position = event.position;
        hub.push(lane, &event);
        hub.advance(lane, position);
        for other in Lane::ALL {
            hub.advance(other, position);
        }
    }

    fn cancelled(owner: Uuid) -> EmailEvent {
        EmailEvent::Cancelled(EmailCancelled {
            email_id: Uuid::from_u128(77),
            requested_by: owner,
            by: owner,
            cancelled_at: OffsetDateTime::UNIX_EPOCH,
        })
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
        feed(hub, Lane::Chat, recorded(created, 1, 1));
    }

    fn message(hub: &Hub, n: i64) {
        let sent = ChatEvent::MessageSent(MessageSent {
            room_id: 1,
            message_id: Uuid::now_v7(),
            sender_id: ADA,
            text: format!("m{n}"),
            sent_at: OffsetDateTime::UNIX_EPOCH,
        });
        feed(hub, Lane::Chat, recorded(sent, 1 + n, n));
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

    #[test]
    fn an_email_change_reaches_its_owners_streams_of_all_rooms_only() {
        let hub = Hub::new(8);
        room(&hub);
        let mut all = hub.register(ADA, SESSION, None).unwrap();
        let mut team = hub.register(ADA, SESSION, Some(1)).unwrap();
        let mut bobs = hub.register(BOB, SESSION, None).unwrap();
        feed(&hub, Lane::Email, recorded(cancelled(ADA), 2, 2));
        let frame = all.frames.try_recv().unwrap();
        assert!(frame.starts_with(b"id: 2\nevent: email\n"), "{frame:?}");
        assert!(team.frames.try_recv().is_err(), "not a room's event");
        assert!(bobs.frames.try_recv().is_err(), "not Bob's email");
        assert_eq!(hub.position(), 2);
    }

    #[test]
    fn frames_leave_in_log_order_whichever_lane_arrives_first() {
        let hub = Hub::new(8);
        room(&hub);
        let mut stream = hub.register(ADA, SESSION, None).unwrap();
        // The email follower is ahead: its event waits for the chat lane to pass it.
        hub.push(Lane::Email, &recorded(cancelled(ADA), 3, 2));
        hub.advance(Lane::Email, 3);
        assert!(stream.frames.try_recv().is_err());
        assert_eq!(hub.lagging().map(|lag| lag.lane), Some(Lane::Chat));
        let registered = hub.register(BOB, SESSION, None).unwrap();
        assert_eq!(registered.position, 1, "what waits is not history yet");
        message(&hub, 1);
        let frame = stream.frames.try_recv().unwrap();
        assert!(frame.starts_with(b"id: 2\nevent: message\n"), "{frame:?}");
        assert!(stream.frames.try_recv().is_err(), "the chat lane is at 2");
        hub.advance(Lane::Chat, 3);
        let frame = stream.frames.try_recv().unwrap();
        assert!(frame.starts_with(b"id: 3\nevent: email\n"), "{frame:?}");
        let later = hub.register(BOB, SESSION, None).unwrap();
        assert_eq!((later.position, later.chat_at, later.email_at), (3, 2, 3));
    }
}
