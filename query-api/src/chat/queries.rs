//! SQL of the chat read model, and of presence.

use serde::Serialize;
use service_kit::paging::Page;
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::frames::MessageView;

const MESSAGE_COLUMNS: &str = "room_id, seq, message_id, sender_id, text, sent_at, position";

/// The last message of a room, as listings show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastMessage {
    pub seq: i64,
    pub message_id: Uuid,
    pub sender_id: Uuid,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: OffsetDateTime,
}

/// A user as chat shows them.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ChatUser {
    pub user_id: Uuid,
    pub name: String,
}

/// A room in a listing, as the caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomSummary {
    /// The room's number.
    pub id: i64,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub owner_id: Option<Uuid>,
    /// The other user of a direct room.
    pub peer: Option<ChatUser>,
    pub member_count: i32,
    pub last_message: Option<LastMessage>,
    /// Messages after the caller's read marker.
    pub unread: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A member of a room.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct RoomMember {
    pub user_id: Uuid,
    pub name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
    /// The last sequence this member has read.
    pub read_seq: i64,
}

/// A room with its members.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomView {
    #[serde(flatten)]
    pub summary: RoomSummary,
    pub version: i64,
    pub members: Vec<RoomMember>,
}

#[derive(sqlx::FromRow)]
struct RoomRow {
    room_id: i64,
    kind: String,
    name: Option<String>,
    owner_id: Option<Uuid>,
    member_count: i32,
    created_at: OffsetDateTime,
    version: i64,
    last_seq: i64,
    last_message_id: Option<Uuid>,
    last_sender_id: Option<Uuid>,
    last_text: Option<String>,
    last_sent_at: Option<OffsetDateTime>,
    read_seq: Option<i64>,
    peer_id: Option<Uuid>,
    peer_name: Option<String>,
}

impl RoomRow {
    fn summary(self) -> (RoomSummary, i64) {
        let last_message = match (
            self.last_message_id,
            self.last_sender_id,
            self.last_text,
            self.last_sent_at,
        ) {
            (Some(message_id), Some(sender_id), Some(text), Some(sent_at)) => Some(LastMessage {
                seq: self.last_seq,
                message_id,
                sender_id,
                text,
                sent_at,
            }),
            _ => None,
        };
        let peer = self.peer_id.map(|user_id| ChatUser {
            user_id,
            name: self.peer_name.unwrap_or_default(),
        });
        let summary = RoomSummary {
            id: self.room_id,
            kind: self.kind,
            name: self.name,
            owner_id: self.owner_id,
            peer,
            member_count: self.member_count,
            last_message,
            unread: (self.last_seq - self.read_seq.unwrap_or(self.last_seq)).max(0),
            created_at: self.created_at,
        };
        (summary, self.version)
    }
}

/// The columns of a room as `viewer` sees it (their read marker, a direct room's peer);
/// `r` is the room and `me` the viewer's membership.
const ROOM_COLUMNS: &str = "r.room_id, r.kind, r.name, r.owner_id, r.member_count, r.created_at, \
     r.version, r.last_seq, r.last_message_id, r.last_sender_id, r.last_text, r.last_sent_at, \
     me.read_seq, peer.user_id AS peer_id, peer.name AS peer_name";

const PEER_JOIN: &str = "LEFT JOIN LATERAL (SELECT o.user_id, u.name FROM chat_members o \
     LEFT JOIN members u ON u.user_id = o.user_id \
     WHERE o.room_id = r.room_id AND o.user_id <> $1 AND r.kind = 'direct' LIMIT 1) peer ON true";

/// One page of `user`'s rooms (of one kind when given), most recently active first.
pub async fn rooms_of(
    pool: &PgPool,
    user: Uuid,
    kind: Option<&str>,
    page: Page,
) -> sqlx::Result<(i64, Vec<RoomSummary>)> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chat_members me JOIN chat_rooms r USING (room_id) \
         WHERE me.user_id = $1 AND ($2::text IS NULL OR r.kind = $2)",
    )
    .bind(user)
    .bind(kind)
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM chat_members me JOIN chat_rooms r USING (room_id) {PEER_JOIN} \
         WHERE me.user_id = $1 AND ($2::text IS NULL OR r.kind = $2) \
         ORDER BY coalesce(r.last_sent_at, r.created_at) DESC, r.room_id DESC LIMIT $3 OFFSET $4"
    );
    let rows: Vec<RoomRow> = sqlx::query_as(&sql)
        .bind(user)
        .bind(kind)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
    Ok((total, rows.into_iter().map(|r| r.summary().0).collect()))
}

/// A room with its members, as `viewer` sees it.
pub async fn room(pool: &PgPool, room_id: i64, viewer: Uuid) -> sqlx::Result<Option<RoomView>> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM chat_rooms r \
         LEFT JOIN chat_members me ON me.room_id = r.room_id AND me.user_id = $1 {PEER_JOIN} \
         WHERE r.room_id = $2"
    );
    let Some(row) = sqlx::query_as::<_, RoomRow>(&sql)
        .bind(viewer)
        .bind(room_id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let members: Vec<RoomMember> = sqlx::query_as(
        "SELECT m.user_id, u.name, m.joined_at, m.read_seq FROM chat_members m \
         LEFT JOIN members u ON u.user_id = m.user_id WHERE m.room_id = $1 \
         ORDER BY m.joined_at, m.user_id",
    )
    .bind(room_id)
    .fetch_all(pool)
    .await?;
    let (summary, version) = row.summary();
    Ok(Some(RoomView {
        summary,
        version,
        members,
    }))
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The newest messages.
    Latest,
    /// Messages before this sequence, newest of them first fetched.
    Before(i64),
    /// Messages after this sequence.
    After(i64),
}

/// Up to `limit` messages of a room in `window`, oldest first, and whether more lie
/// beyond the page in the window's direction.
pub async fn history(
    pool: &PgPool,
    room_id: i64,
    window: Window,
    limit: i64,
) -> sqlx::Result<(Vec<MessageView>, bool)> {
    let (condition, order, bound) = match window {
        Window::Latest => ("seq < $2", "DESC", i64::MAX),
        Window::Before(seq) => ("seq < $2", "DESC", seq),
        Window::After(seq) => ("seq > $2", "ASC", seq),
    };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE room_id = $1 AND {condition} \
         ORDER BY seq {order} LIMIT $3"
    );
    let mut rows: Vec<MessageView> = sqlx::query_as(&sql)
        .bind(room_id)
        .bind(bound)
        .bind(limit + 1)
        .fetch_all(pool)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if order == "DESC" {
        rows.reverse();
    }
    Ok((rows, more))
}

/// One message of a room.
pub async fn message(pool: &PgPool, room_id: i64, seq: i64) -> sqlx::Result<Option<MessageView>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE room_id = $1 AND seq = $2");
    sqlx::query_as(&sql)
        .bind(room_id)
        .bind(seq)
        .fetch_optional(pool)
        .await
}

/// Up to `limit` messages of `rooms` at positions in (after, through], in position order.
pub async fn messages_between(
    pool: &PgPool,
    rooms: &[i64],
    after: i64,
    through: i64,
    limit: i64,
) -> sqlx::Result<Vec<MessageView>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE room_id = ANY($1) \
         AND position > $2 AND position <= $3 ORDER BY position LIMIT $4"
    );
    sqlx::query_as(&sql)
        .bind(rooms)
        .bind(after)
        .bind(through)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// A user with their presence.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct UserPresence {
    pub user_id: Uuid,
    pub name: String,
    pub online: bool,
    /// When the user was last online (none if never, or online now).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<OffsetDateTime>,
}

/// The live instances' presence rows, as a relation of online users.
const ONLINE: &str = "SELECT DISTINCT p.user_id FROM chat_presence p \
     JOIN chat_instances i USING (instance_id) \
     WHERE i.heartbeat_at > now() - make_interval(secs => $1)";

/// One page of the users online now, by name.
pub async fn online_users(
    pool: &PgPool,
    stale_after_secs: f64,
    page: Page,
) -> sqlx::Result<(i64, Vec<UserPresence>)> {
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM ({ONLINE}) o JOIN members m USING (user_id) WHERE NOT m.blocked"
    ))
    .bind(stale_after_secs)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT m.user_id, m.name, true AS online, NULL::timestamptz AS last_seen_at \
         FROM ({ONLINE}) o JOIN members m USING (user_id) WHERE NOT m.blocked \
         ORDER BY m.name, m.user_id LIMIT $2 OFFSET $3"
    ))
    .bind(stale_after_secs)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}

/// One page of the users whose name contains `text` (case-insensitive, taken literally:
/// no character of it is a pattern).
pub async fn search_users(
    pool: &PgPool,
    stale_after_secs: f64,
    text: &str,
    page: Page,
) -> sqlx::Result<(i64, Vec<UserPresence>)> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM members WHERE NOT blocked AND strpos(lower(name), lower($1)) > 0",
    )
    .bind(text)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT m.user_id, m.name, o.user_id IS NOT NULL AS online, \
             CASE WHEN o.user_id IS NULL THEN s.last_seen_at END AS last_seen_at \
         FROM members m LEFT JOIN ({ONLINE}) o USING (user_id) \
         LEFT JOIN chat_last_seen s USING (user_id) \
         WHERE NOT m.blocked AND strpos(lower(m.name), lower($2)) > 0 \
         ORDER BY m.name, m.user_id LIMIT $3 OFFSET $4"
    ))
    .bind(stale_after_secs)
    .bind(text)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}
