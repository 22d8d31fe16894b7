-- Read models built by the projector, and how far each has applied the log.

-- One row per projection and event source ("log" for the PostgreSQL log, the topic
-- name for Kafka). Written in the same transaction as the rows it covers.
CREATE TABLE projection_checkpoints (
    projection text NOT NULL,
    source     text NOT NULL,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, source)
);

CREATE TABLE items (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
