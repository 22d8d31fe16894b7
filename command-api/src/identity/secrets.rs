//! The identity tables command-api keeps outside the event log because they hold secrets:
//! password hashes, sessions and (hashed) refresh tokens.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub async fn store_password_hash(pool: &PgPool, user: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now()",
    )
    .bind(user)
    .bind(hash)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn forget_password_hash(pool: &PgPool, user: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM credentials WHERE user_id = $1")
        .bind(user)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn password_hash(pool: &PgPool, user: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT password_hash FROM credentials WHERE user_id = $1")
        .bind(user)
        .fetch_optional(pool)
        .await
}

/// A session just begun, with its first refresh token (shown to the client once).
pub struct NewSession {
    pub session_id: Uuid,
    pub refresh_token: String,
    pub expires_at: OffsetDateTime,
}

/// Begins a session of `user` lasting `ttl`, with its first refresh token.
pub async fn start_session(pool: &PgPool, user: Uuid, ttl: Duration) -> sqlx::Result<NewSession> {
    let session = NewSession {
        session_id: Uuid::now_v7(),
        refresh_token: new_token(),
        expires_at: OffsetDateTime::now_utc() + ttl,
    };
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO sessions (session_id, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(session.session_id)
        .bind(user)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)")
        .bind(token_hash(&session.refresh_token))
        .bind(session.session_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(session)
}

/// 256 random bits, hex-encoded.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Refresh tokens are stored only as their SHA-256: a leaked table grants nothing.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Ends a session and announces it to every instance, in one statement. False when it had
/// ended already.
pub async fn revoke_session(pool: &PgPool, session: Uuid) -> sqlx::Result<bool> {
    let revoked: i64 = sqlx::query_scalar(
        "WITH r AS (UPDATE sessions SET revoked_at = now() \
             WHERE session_id = $1 AND revoked_at IS NULL RETURNING session_id) \
         SELECT count(pg_notify($2, session_id::text)::text) FROM r",
    )
    .bind(session)
    .bind(service_kit::auth::revocations::CHANNEL)
    .fetch_one(pool)
    .await?;
    Ok(revoked > 0)
}

/// What presenting a refresh token came to.
pub enum Rotation {
    /// It was the session's current token: here is the next one.
    Rotated {
        session: Uuid,
        user: Uuid,
        refresh_token: String,
    },
    /// It had been spent already: the session must be revoked.
    Reused { session: Uuid, user: Uuid },
    /// No such token, or its session has ended.
    Refused,
}

/// Spends a refresh token and issues the next of its session. The token's row is locked
/// first, so of two concurrent uses one rotates and the other is seen as reuse.
pub async fn rotate(pool: &PgPool, token: &str) -> sqlx::Result<Rotation> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Uuid, bool, bool)> = sqlx::query_as(
        "SELECT r.session_id, s.user_id, r.spent_at IS NOT NULL, \
                s.revoked_at IS NOT NULL OR s.expires_at <= now() \
         FROM refresh_tokens r JOIN sessions s USING (session_id) \
         WHERE r.token_hash = $1 FOR UPDATE OF r",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((session, user, spent, ended)) = row else {
        return Ok(Rotation::Refused);
    };
    if ended {
        return Ok(Rotation::Refused);
    }
    if spent {
        return Ok(Rotation::Reused { session, user });
    }
    let next = new_token();
    sqlx::query("UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)")
        .bind(token_hash(&next))
        .bind(session)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated {
        session,
        user,
        refresh_token: next,
    })
}

/// Ends every session of `user` but `except`, announcing each; returns those ended.
pub async fn revoke_user_sessions(
    pool: &PgPool,
    user: Uuid,
    except: Option<Uuid>,
) -> sqlx::Result<Vec<Uuid>> {
    let ended: Vec<(Uuid, String)> = sqlx::query_as(
        "WITH r AS (UPDATE sessions SET revoked_at = now() \
             WHERE user_id = $1 AND revoked_at IS NULL AND session_id IS DISTINCT FROM $2 \
             RETURNING session_id) \
         SELECT session_id, pg_notify($3, session_id::text)::text FROM r",
    )
    .bind(user)
    .bind(except)
    .bind(service_kit::auth::revocations::CHANNEL)
    .fetch_all(pool)
    .await?;
    Ok(ended.into_iter().map(|(session, _)| session).collect())
}
