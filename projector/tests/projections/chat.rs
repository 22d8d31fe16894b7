//! The chat projection: rooms, members and messages follow every history (joins, owners
//! leaving, read markers), and a replay rebuilds exactly the same tables.

use crate::common;

use common::{Running, caught_up};
use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use projector::{Projection, Tables, chat::ChatProjection};
use schemas::{
    EventMetadata, NewEvent,
    chat::{
        self, ChatEvent, MemberJoined, MemberLeft, MessageSent, MessagesRead, RoomCreated, RoomKind,
    },
};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const ROOMS: i64 = 24;

/// Appends one event at `expected` (0: a new stream); returns its global position.
async fn append(store: &EventStore, stream: String, expected: i64, event: ChatEvent) -> i64 {
    let expected = match expected {
        0 => ExpectedVersion::NoStream,
        n => ExpectedVersion::Exact(n),
    };
    store
        .append(AppendRequest::new(
            stream,
            expected,
            vec![NewEvent::from_domain(&event)],
            EventMetadata::default(),
        ))
        .await
        .expect("append")
        .first_position
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + Duration::seconds(seconds)
}

/// User `k` (1 = a, 2 = b, ...) of room `n`.
fn user(n: i64, k: i64) -> Uuid {
    Uuid::from_u128((n * 10 + k) as u128)
}

fn message_id(n: i64, seq: i64) -> Uuid {
    Uuid::from_u128((1_000_000 + n * 100 + seq) as u128)
}

fn text(n: i64, seq: i64) -> String {
    format!("message {seq} in room {n}")
}

fn created(n: i64, kind: RoomKind, members: Vec<Uuid>) -> ChatEvent {
    let group = kind == RoomKind::Group;
    ChatEvent::RoomCreated(RoomCreated {
        room_id: n,
        kind,
        name: group.then(|| format!("Room {n}")),
        owner_id: group.then(|| user(n, 1)),
        members,
        created_by: user(n, 1),
        created_at: at(0),
    })
}

/// Appends message `seq` of room `n` from user `k`; returns its position.
async fn send(store: &EventStore, n: i64, seq: i64, k: i64) -> i64 {
    let sent = MessageSent {
        room_id: n,
        message_id: message_id(n, seq),
        sender_id: user(n, k),
        text: text(n, seq),
        sent_at: at(seq),
    };
    let stream = chat::messages_stream(n);
    append(store, stream, seq - 1, ChatEvent::MessageSent(sent)).await
}

async fn read_through(store: &EventStore, n: i64, k: i64, through_seq: i64) {
    let read = MessagesRead {
        room_id: n,
        user_id: user(n, k),
        through_seq,
        read_at: at(50),
    };
    let stream = chat::reads_stream(n, user(n, k));
    append(store, stream, 0, ChatEvent::MessagesRead(read)).await;
}

async fn leave(store: &EventStore, n: i64, k: i64, by: i64, new_owner: Option<Uuid>, v: i64) {
    let left = MemberLeft {
        room_id: n,
        user_id: user(n, k),
        by: user(n, by),
        new_owner,
        left_at: at(70),
    };
    append(store, chat::room_stream(n), v, ChatEvent::MemberLeft(left)).await;
}

/// Odd rooms are direct (a and b): a sends 1 and 2, b sends 3, a reads through 3, b
/// through 1. Even rooms are groups of a (owner), b and c: a sends 1, b sends 2, d joins,
/// c sends 3, b reads through 3, a leaves handing the room to b, b removes c, and c then
/// reads through 3. Returns each message's position, in room and sequence order.
async fn write_chat(store: &EventStore) -> Vec<i64> {
    let mut positions = Vec::new();
    for n in 1..=ROOMS {
        if n % 2 == 1 {
            let members = vec![user(n, 1), user(n, 2)];
            append(
                store,
                chat::room_stream(n),
                0,
                created(n, RoomKind::Direct, members),
            )
            .await;
            for (seq, k) in [(1, 1), (2, 1), (3, 2)] {
                positions.push(send(store, n, seq, k).await);
            }
            read_through(store, n, 1, 3).await;
            read_through(store, n, 2, 1).await;
            continue;
        }
        let members = vec![user(n, 1), user(n, 2), user(n, 3)];
        append(
            store,
            chat::room_stream(n),
            0,
            created(n, RoomKind::Group, members),
        )
        .await;
        positions.push(send(store, n, 1, 1).await);
        positions.push(send(store, n, 2, 2).await);
        let joined = MemberJoined {
            room_id: n,
            user_id: user(n, 4),
            by: user(n, 1),
            joined_at: at(60),
        };
        append(
            store,
            chat::room_stream(n),
            1,
            ChatEvent::MemberJoined(joined),
        )
        .await;
        positions.push(send(store, n, 3, 3).await);
        read_through(store, n, 2, 3).await;
        leave(store, n, 1, 1, Some(user(n, 2)), 2).await;
        leave(store, n, 3, 2, None, 3).await;
        read_through(store, n, 3, 3).await;
    }
    positions
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Room {
    room_id: i64,
    kind: String,
    name: Option<String>,
    owner_id: Option<Uuid>,
    created_by: Uuid,
    created_at: OffsetDateTime,
    member_count: i32,
    version: i64,
    last_seq: i64,
    last_message_id: Option<Uuid>,
    last_sender_id: Option<Uuid>,
    last_text: Option<String>,
    last_sent_at: Option<OffsetDateTime>,
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Member {
    room_id: i64,
    user_id: Uuid,
    joined_at: OffsetDateTime,
    read_seq: i64,
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Message {
    room_id: i64,
    seq: i64,
    message_id: Uuid,
    sender_id: Uuid,
    text: String,
    sent_at: OffsetDateTime,
    position: i64,
}

type Chat = (Vec<Room>, Vec<Member>, Vec<Message>);

async fn read_chat(pool: &PgPool) -> Chat {
    let rooms = sqlx::query_as("SELECT * FROM chat_rooms ORDER BY room_id")
        .fetch_all(pool)
        .await
        .unwrap();
    let members = sqlx::query_as("SELECT * FROM chat_members ORDER BY room_id, user_id")
        .fetch_all(pool)
        .await
        .unwrap();
    let messages = sqlx::query_as("SELECT * FROM chat_messages ORDER BY room_id, seq")
        .fetch_all(pool)
        .await
        .unwrap();
    (rooms, members, messages)
}

/// The room row `write_chat` must leave behind.
fn expected_room(n: i64) -> Room {
    let direct = n % 2 == 1;
    let last_sender = if direct { 2 } else { 3 };
    Room {
        room_id: n,
        kind: if direct { "direct" } else { "group" }.into(),
        name: (!direct).then(|| format!("Room {n}")),
        owner_id: (!direct).then(|| user(n, 2)),
        created_by: user(n, 1),
        created_at: at(0),
        member_count: 2,
        version: if direct { 1 } else { 4 },
        last_seq: 3,
        last_message_id: Some(message_id(n, 3)),
        last_sender_id: Some(user(n, last_sender)),
        last_text: Some(text(n, 3)),
        last_sent_at: Some(at(3)),
    }
}

/// The members `write_chat` must leave behind: in a direct room a read through 3 (a) and
/// the sender of 3, whose read of 1 cannot move them back (b); in a group the new owner
/// (b) and the newcomer d, who joined after message 2 and has read nothing since.
fn expected_members(n: i64) -> Vec<Member> {
    let member = |k, joined_at, read_seq| Member {
        room_id: n,
        user_id: user(n, k),
        joined_at,
        read_seq,
    };
    if n % 2 == 1 {
        vec![member(1, at(0), 3), member(2, at(0), 3)]
    } else {
        vec![member(2, at(0), 3), member(4, at(60), 2)]
    }
}

fn expected_messages(n: i64, positions: &[i64]) -> Vec<Message> {
    let senders = if n % 2 == 1 { [1, 1, 2] } else { [1, 2, 3] };
    (1..=3)
        .map(|seq| Message {
            room_id: n,
            seq,
            message_id: message_id(n, seq),
            sender_id: user(n, senders[seq as usize - 1]),
            text: text(n, seq),
            sent_at: at(seq),
            position: positions[seq as usize - 1],
        })
        .collect()
}

#[tokio::test]
async fn rooms_members_and_messages_follow_every_history_and_a_replay_rebuilds_them() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    let positions = write_chat(&store).await;
    caught_up(&db.pool, "chat").await;
    let chat = read_chat(&db.pool).await;

    let (rooms, members, messages) = &chat;
    assert_eq!(rooms.len() as i64, ROOMS);
    assert_eq!(members.len() as i64, 2 * ROOMS);
    assert_eq!(messages.len() as i64, 3 * ROOMS);
    for n in 1..=ROOMS {
        let i = n as usize - 1;
        assert_eq!(rooms[i], expected_room(n), "room {n}");
        assert_eq!(members[2 * i..2 * i + 2], expected_members(n), "room {n}");
        let positions = &positions[3 * i..3 * i + 3];
        assert_eq!(
            messages[3 * i..3 * i + 3],
            expected_messages(n, positions),
            "room {n}"
        );
    }

    let projection = projector::projections()
        .into_iter()
        .find(|p| p.name() == "chat")
        .unwrap();
    projector::replay::replay(&db.pool, projection.as_ref())
        .await
        .unwrap();
    assert_eq!(read_chat(&db.pool).await, chat);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn a_room_created_twice_or_a_join_out_of_turn_fails_the_batch() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let members = vec![user(1, 1), user(1, 2), user(1, 3)];
    append(
        &store,
        chat::room_stream(1),
        0,
        created(1, RoomKind::Group, members),
    )
    .await;
    let joined = MemberJoined {
        room_id: 1,
        user_id: user(1, 4),
        by: user(1, 1),
        joined_at: at(60),
    };
    append(
        &store,
        chat::room_stream(1),
        1,
        ChatEvent::MemberJoined(joined),
    )
    .await;
    let events = store
        .log()
        .read_stream(&chat::room_stream(1), None)
        .await
        .unwrap();
    let (created, joined) = (&events[0], &events[1]);

    let apply = |batch: Vec<schemas::RecordedEvent>| {
        let pool = db.pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            ChatProjection.apply(&mut tx, Tables::Live, &batch).await
        }
    };
    let twice = apply(vec![created.clone(), created.clone()]).await;
    assert!(twice.is_err(), "a room created twice is refused");
    let early = apply(vec![joined.clone()]).await;
    assert!(early.is_err(), "a join before its room is refused");
    let again = apply(vec![created.clone(), joined.clone(), joined.clone()]).await;
    assert!(again.is_err(), "a join applied twice is refused");
    apply(vec![created.clone(), joined.clone()])
        .await
        .expect("a room and its join apply");
    db.drop().await;
}
