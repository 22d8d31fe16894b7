-- The chat context.

-- Sequential room numbers are a command-side resource, drawn as the creating append
-- commits (like item ids).
CREATE SEQUENCE room_ids;

-- The rooms read model, with each room's last message so a listing needs no other read.
CREATE TABLE chat_rooms (
    room_id         bigint PRIMARY KEY,
    kind            text NOT NULL,
    name            text,
    owner_id        uuid,
    created_by      uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    member_count    integer NOT NULL,
    -- The version of the room's membership stream.
    version         bigint NOT NULL,
    -- The sequence of the room's last message (0 before the first).
    last_seq        bigint NOT NULL DEFAULT 0,
    last_message_id uuid,
    last_sender_id  uuid,
    last_text       text,
    last_sent_at    timestamptz
);

-- Members by room, and a user's rooms. `read_seq` is the last sequence the member has
-- read: their unread count is the room's last_seq minus it.
CREATE TABLE chat_members (
    room_id   bigint NOT NULL,
    user_id   uuid NOT NULL,
    joined_at timestamptz NOT NULL,
    read_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX chat_members_by_user ON chat_members (user_id, room_id);

-- Every message, by room and sequence (history pages), and by room and global position
-- (what a reconnecting stream missed since the position it last saw).
CREATE TABLE chat_messages (
    room_id    bigint NOT NULL,
    seq        bigint NOT NULL,
    message_id uuid NOT NULL,
    sender_id  uuid NOT NULL,
    text       text NOT NULL,
    sent_at    timestamptz NOT NULL,
    position   bigint NOT NULL,
    PRIMARY KEY (room_id, seq)
);
CREATE INDEX chat_messages_by_position ON chat_messages (room_id, position);

-- Presence, kept by the query-api instances themselves (it is not an event): which
-- instance holds live streams of which user, and each instance's last heartbeat. A user
-- is online while a row of a live instance names them.
CREATE UNLOGGED TABLE chat_instances (
    instance_id  uuid PRIMARY KEY,
    heartbeat_at timestamptz NOT NULL
);
CREATE UNLOGGED TABLE chat_presence (
    instance_id uuid NOT NULL,
    user_id     uuid NOT NULL,
    since       timestamptz NOT NULL,
    PRIMARY KEY (instance_id, user_id)
);
CREATE INDEX chat_presence_by_user ON chat_presence (user_id);
-- When each user was last seen online (kept across restarts).
CREATE TABLE chat_last_seen (
    user_id      uuid PRIMARY KEY,
    last_seen_at timestamptz NOT NULL
);
