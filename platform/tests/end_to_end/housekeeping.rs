//! What command-api deletes once it has lapsed: answered idempotency keys past their
//! retention, and sessions ended for longer than an access token lives (with their
//! refresh tokens). Nothing still in use goes.

use std::time::Duration;

use command_api::housekeeping::{self, Purged, Retention};
use reqwest::StatusCode;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::TestApp;

#[tokio::test]
async fn lapsed_idempotency_keys_and_ended_sessions_go_and_nothing_in_use() {
    let app = TestApp::spawn().await;
    let pool = &app.db.pool;
    let ada = app.sign_up("ada@example.com").await;
    for key in ["old-key", "new-key"] {
        let created = app
            .client
            .post(format!("{}/api/v1/items", app.base))
            .header("idempotency-key", key)
            .json(&json!({ "name": key }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    sqlx::query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key LIKE '%old-key'")
        .execute(pool)
        .await
        .unwrap();
    // Sessions of another user: revoked 2 h ago, revoked a minute ago, ended a day ago,
    // and one still running; the first and third with a refresh token each.
    let user = Uuid::new_v4();
    let sessions = [
        ("now() + interval '1 day'", "now() - interval '2 hours'"),
        ("now() + interval '1 day'", "now() - interval '1 minute'"),
        ("now() - interval '1 day'", "NULL"),
        ("now() + interval '1 day'", "NULL"),
    ];
    let mut ids = Vec::new();
    for (expires, revoked) in sessions {
        let id = Uuid::new_v4();
        sqlx::query(&format!(
            "INSERT INTO sessions (session_id, user_id, expires_at, revoked_at) \
             VALUES ($1, $2, {expires}, {revoked})"
        ))
        .bind(id)
        .bind(user)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        ids.push(id);
    }

    let retention = Retention {
        idempotency_keys: Some(Duration::from_secs(24 * 3600)),
        access_token_ttl: Duration::from_secs(900),
    };
    let purged = housekeeping::purge(pool, retention, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        purged,
        Purged {
            keys: 1,
            sessions: 2
        }
    );

    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM idempotency_keys")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(keys.iter().any(|k| k.ends_with("new-key")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.ends_with("old-key")), "{keys:?}");
    let left: Vec<Uuid> = sqlx::query_scalar("SELECT session_id FROM sessions WHERE user_id = $1")
        .bind(user)
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(
        !left.contains(&ids[0]),
        "revoked longer ago than a token lives"
    );
    assert!(left.contains(&ids[1]), "its revocation must stay readable");
    assert!(!left.contains(&ids[2]), "ended a day ago");
    assert!(left.contains(&ids[3]), "still running");
    let tokens: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE session_id = ANY($1)")
            .bind(&ids)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(tokens, 2, "refresh tokens go with their sessions");
    // Ada's own session is untouched and still works.
    let me = app
        .client
        .get(format!("{}/api/v1/users/me", app.base))
        .bearer_auth(&ada.token)
        .header("x-min-position", ada.position.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    app.stop().await;
}
