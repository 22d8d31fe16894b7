-- The email context. Ids are UUIDv7 drawn by the command side: a request must answer
-- 202 with its id before any worker has seen it, and no number is needed.

-- The emails read model (built by the projector from the email events): one row per
-- email with its current status. The bodies stay in the events, which the worker reads.
CREATE TABLE emails (
    email_id        uuid PRIMARY KEY,
    requested_by    uuid NOT NULL,
    recipients      text[] NOT NULL,
    subject         text NOT NULL,
    status          text NOT NULL,
    -- Attempts started over the email's life.
    attempts        integer NOT NULL,
    message_id      text,
    -- The last attempt's reply, or what went wrong before one came.
    last_reply      text,
    -- When a worker should next look at the email: queued, since it was queued;
    -- retrying, at the retry time; sending, when the attempt's lease runs out. NULL once
    -- settled (sent, failed, dead, cancelled).
    next_attempt_at timestamptz,
    source_event_id uuid,
    requested_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         bigint NOT NULL,
    -- The global position of the last event applied to the row. A user's live stream
    -- resumes from a position: the emails whose last change lies after it are what the
    -- client missed, each sent once with its current status.
    position        bigint NOT NULL
);

-- Listings are newest first with the id as tie-breaker: a sender's own, or (admins) all,
-- optionally of one status.
CREATE INDEX emails_by_sender ON emails (requested_by, requested_at, email_id);
CREATE INDEX emails_by_status ON emails (status, requested_at, email_id);
CREATE INDEX emails_by_date ON emails (requested_at, email_id);
-- What changed for one user after a position: a resuming stream's catch-up.
CREATE INDEX emails_changes ON emails (requested_by, position);
-- The worker's queue: only emails that still want an attempt, in the order they are due.
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every attempt of every email, with how it ended. An attempt with no outcome is under
-- way, or was abandoned by a worker that died (a later attempt then exists).
CREATE TABLE email_attempts (
    email_id   uuid NOT NULL,
    attempt    integer NOT NULL,
    worker     text NOT NULL,
    started_at timestamptz NOT NULL,
    -- sent, deferred, failed or dead; NULL while none is recorded.
    outcome    text,
    reply      text,
    ended_at   timestamptz,
    retry_at   timestamptz,
    PRIMARY KEY (email_id, attempt)
);
