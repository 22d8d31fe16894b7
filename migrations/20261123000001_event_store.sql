-- The event store: the system's only store of record.

-- One row holds the last global position. Every append locks it first, so appends
-- commit in position order and a reader that has seen position N has also seen every
-- position below N: no reader can skip an event that commits late. Positions are
-- gapless because they are assigned from this row, not from a sequence.
CREATE TABLE event_log_head (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_position bigint NOT NULL
);
INSERT INTO event_log_head (id, last_position) VALUES (true, 0);

CREATE TABLE events (
    position       bigint PRIMARY KEY,
    stream_id      text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version > 0),
    event_id       uuid NOT NULL UNIQUE,
    context        text NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL,
    occurred_at    timestamptz NOT NULL,
    correlation_id text NOT NULL,
    actor          text,
    data           jsonb NOT NULL,
    -- A stale expected version can never overwrite: the second writer of a version fails.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

-- Current version of each stream, so checking an expected version costs one row read
-- however long the stream is.
CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version   bigint NOT NULL
);

-- What a command with an Idempotency-Key produced, so a retry returns the first outcome.
CREATE TABLE idempotency_keys (
    key            text PRIMARY KEY,
    fingerprint    text NOT NULL,
    stream_id      text NOT NULL,
    first_version  bigint NOT NULL,
    last_version   bigint NOT NULL,
    first_position bigint NOT NULL,
    last_position  bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- How far the outbox relay has published the log to Kafka.
CREATE TABLE relay_checkpoints (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);

-- Sequential, human-readable item ids are a command-side resource, not a read model.
CREATE SEQUENCE item_ids;
