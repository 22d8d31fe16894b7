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
