//! What one released event does in the hub: the membership it changes and the streams its
//! frame reaches. Called under the hub's lock, in log order.
//!
//! Chat events reach the members of their room (their all-rooms streams and their streams
//! of that room). Email events reach the all-rooms streams of the user the email belongs
//! to, and no room's stream.

use bytes::Bytes;
use schemas::{RecordedEvent, chat::ChatEvent, email::EmailEvent};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    frames::{self, MessageView},
    hub::{Room, State},
};
use crate::email::change::EmailChange;

/// Applies a chat event to the membership and delivers its frame.
pub(super) fn chat_event(state: &mut State, event: &RecordedEvent) {
    let Ok(decoded) = event.decode::<ChatEvent>() else {
        tracing::warn!(position = event.position, event_type = %event.event_type, "chat event this version cannot read");
        return;
    };
    let position = event.position;
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
                deliver(state, *member, None, &frame);
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
            to_room(state, e.room_id, &frame);
        }
        ChatEvent::MemberLeft(e) => {
            // The member hears of it, then hears nothing more of the room.
            let frame = frames::logged(position, "member_left", &e);
            to_room(state, e.room_id, &frame);
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
            to_room(state, e.room_id, &frames::message(&view));
        }
        ChatEvent::MessagesRead(e) => {
            let frame = frames::logged(position, "read", &e);
            deliver(state, e.user_id, Some(e.room_id), &frame);
        }
    }
}

/// Delivers an email's status change to its owner's all-rooms streams.
pub(super) fn email_event(state: &mut State, event: &RecordedEvent) {
    let Ok(decoded) = event.decode::<EmailEvent>() else {
        tracing::warn!(position = event.position, event_type = %event.event_type, "email event this version cannot read");
        return;
    };
    let frame = EmailChange::of_event(&decoded, event.position).frame();
    deliver(state, decoded.requested_by(), None, &frame);
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
pub(super) fn deliver(state: &mut State, user: Uuid, room: Option<i64>, frame: &Bytes) {
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
