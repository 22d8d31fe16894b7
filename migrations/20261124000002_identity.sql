-- The identity context's secrets, kept by command-api and never put in events.

-- One argon2id hash (PHC string) per user. Written before the registration's events, so a
-- registration that fails afterwards leaves at most a row no user refers to.
CREATE TABLE credentials (
    user_id       uuid PRIMARY KEY,
    password_hash text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A session is one login; its refresh tokens form one family. Revoking the session (logout,
-- reuse of a spent refresh token, blocking) ends every token of the family.
CREATE TABLE sessions (
    session_id uuid PRIMARY KEY,
    user_id    uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Refresh tokens by SHA-256: only the newest of a session is unspent; presenting a spent
-- one means it was stolen or replayed.
CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    spent_at   timestamptz
);

-- The members read model (built by the projector from the identity events).
CREATE TABLE members (
    user_id    uuid PRIMARY KEY,
    email      text NOT NULL,
    name       text NOT NULL,
    role       text NOT NULL,
    blocked    boolean NOT NULL DEFAULT false,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX members_email ON members (email);
