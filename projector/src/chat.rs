//! The chat read model: rooms with their last message, members with their read markers,
//! and every message by room and sequence.
//!
//! A message's sequence is its version in the room's `messages-<n>` stream, and its
//! global position is kept beside it so a reconnecting stream can ask what it missed.
//! Membership changes follow the room row's version exactly; a newcomer starts at the
//! room's last sequence, with nothing unread, and a sender has read their own message.

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    chat::{ChatEvent, MemberJoined, MemberLeft, MessageSent, MessagesRead, RoomCreated},
};
use sqlx::PgConnection;

use crate::{Projection, Tables};

pub struct ChatProjection;

#[async_trait]
impl Projection for ChatProjection {
    const NAME: &str = "chat";
    const CONTEXT: &str = ChatEvent::CONTEXT;
    const TABLES: &[&str] = &["chat_rooms", "chat_members", "chat_messages"];

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let names = Names {
            rooms: tables.name("chat_rooms"),
            members: tables.name("chat_members"),
            messages: tables.name("chat_messages"),
        };
        for event in events {
            match event.decode::<ChatEvent>()? {
                ChatEvent::RoomCreated(e) => create_room(conn, &names, &e, event).await?,
                ChatEvent::MemberJoined(e) => join(conn, &names, &e, event).await?,
                ChatEvent::MemberLeft(e) => leave(conn, &names, &e, event).await?,
                ChatEvent::MessageSent(e) => send(conn, &names, &e, event).await?,
                ChatEvent::MessagesRead(e) => read(conn, &names, &e).await?,
            }
        }
        Ok(())
    }
}

/// Physical table names of one apply.
struct Names {
    rooms: String,
    members: String,
    messages: String,
}

/// Strict on purpose: a room created twice fails the batch (primary key).
async fn create_room(
    conn: &mut PgConnection,
    names: &Names,
    e: &RoomCreated,
    event: &RecordedEvent,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH r AS (INSERT INTO {} (room_id, kind, name, owner_id, created_by, created_at, \
             member_count, version, last_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)) \
         INSERT INTO {} (room_id, user_id, joined_at, read_seq) \
         SELECT $1, u, $6, 0 FROM UNNEST($9::uuid[]) AS u",
        names.rooms, names.members
    );
    sqlx::query(&sql)
        .bind(e.room_id)
        .bind(e.kind.as_str())
        .bind(&e.name)
        .bind(e.owner_id)
        .bind(e.created_by)
        .bind(e.created_at)
        .bind(i32::try_from(e.members.len())?)
        .bind(event.stream_version)
        .bind(&e.members)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the member at the room's last sequence, so they start with nothing unread.
async fn join(
    conn: &mut PgConnection,
    names: &Names,
    e: &MemberJoined,
    event: &RecordedEvent,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH r AS (UPDATE {} SET member_count = member_count + 1, version = $3 \
             WHERE room_id = $1 AND version = $3 - 1 RETURNING room_id, last_seq) \
         INSERT INTO {} (room_id, user_id, joined_at, read_seq) \
         SELECT r.room_id, $2, $4, r.last_seq FROM r",
        names.rooms, names.members
    );
    let joined = sqlx::query(&sql)
        .bind(e.room_id)
        .bind(e.user_id)
        .bind(event.stream_version)
        .bind(e.joined_at)
        .execute(conn)
        .await?
        .rows_affected();
    follows(joined, event)
}

/// Removes the member, and hands the room to its new owner when the owner left.
async fn leave(
    conn: &mut PgConnection,
    names: &Names,
    e: &MemberLeft,
    event: &RecordedEvent,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH m AS (DELETE FROM {} WHERE room_id = $1 AND user_id = $2 RETURNING room_id) \
         UPDATE {} r SET member_count = r.member_count - 1, version = $3, \
             owner_id = coalesce($4, r.owner_id) \
         FROM m WHERE r.room_id = m.room_id AND r.version = $3 - 1",
        names.members, names.rooms
    );
    let left = sqlx::query(&sql)
        .bind(e.room_id)
        .bind(e.user_id)
        .bind(event.stream_version)
        .bind(e.new_owner)
        .execute(conn)
        .await?
        .rows_affected();
    follows(left, event)
}

/// Stores the message at its sequence (a message stored twice fails the batch), makes it
/// the room's last one unless a later one is already there, and marks it read by its
/// sender.
async fn send(
    conn: &mut PgConnection,
    names: &Names,
    e: &MessageSent,
    event: &RecordedEvent,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH m AS (INSERT INTO {messages} (room_id, seq, message_id, sender_id, text, \
             sent_at, position) VALUES ($1, $2, $3, $4, $5, $6, $7)), \
         r AS (UPDATE {rooms} SET last_seq = $2, last_message_id = $3, last_sender_id = $4, \
             last_text = $5, last_sent_at = $6 WHERE room_id = $1 AND last_seq < $2) \
         UPDATE {members} SET read_seq = greatest(read_seq, $2) \
         WHERE room_id = $1 AND user_id = $4",
        messages = names.messages,
        rooms = names.rooms,
        members = names.members
    );
    sqlx::query(&sql)
        .bind(e.room_id)
        .bind(event.stream_version)
        .bind(e.message_id)
        .bind(e.sender_id)
        .bind(&e.text)
        .bind(e.sent_at)
        .bind(event.position)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a member's read marker forward; a marker of someone no longer a member is moot.
async fn read(conn: &mut PgConnection, names: &Names, e: &MessagesRead) -> anyhow::Result<()> {
    let sql = format!(
        "UPDATE {} SET read_seq = greatest(read_seq, $3) WHERE room_id = $1 AND user_id = $2",
        names.members
    );
    sqlx::query(&sql)
        .bind(e.room_id)
        .bind(e.user_id)
        .bind(e.through_seq)
        .execute(conn)
        .await?;
    Ok(())
}

/// A membership change must have found the room's row at the version before it (and a
/// departure its member).
fn follows(rows: u64, event: &RecordedEvent) -> anyhow::Result<()> {
    anyhow::ensure!(
        rows == 1,
        "{} {} at version {} does not follow the read model's rows",
        event.event_type,
        event.stream_id,
        event.stream_version
    );
    Ok(())
}
