//! Live streams end with the session they were opened in and with their access token:
//! a session ended while a stream was still on its way to the hub ends that stream too,
//! and a stream whose token expires says so and ends, to be resumed with a fresh token
//! and `Last-Event-ID`. The chat streams and the errors dashboard alike.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account, PASSWORD},
    chat::{PATIENCE, room_id},
    error, json, position_of,
};

/// A `Last-Event-ID` beyond the log's end: the stream asks the log for its head before it
/// registers, which is where the test holds it.
const AHEAD: &str = "1000000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_while_its_stream_is_on_its_way_to_the_hub_ends_that_stream() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    // A stream of the session already registered: it ends when the hub has handled the
    // revocation.
    let mut registered = app
        .events(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    // The log head is locked: a stream that has passed its token check waits for it
    // before it registers.
    let mut held = app.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE event_log_head IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *held)
        .await
        .unwrap();
    let on_its_way = tokio::spawn(
        app.client
            .get(format!("{}/api/v1/chats/stream", app.base))
            .bearer_auth(&ada.token)
            .header("last-event-id", AHEAD)
            .timeout(PATIENCE * 3)
            .send(),
    );
    wait_for_a_blocked_head_read(&app.db.pool).await;
    let logout = tokio::spawn(
        app.client
            .post(format!("{}/api/v1/auth/logout", app.base))
            .bearer_auth(&ada.token)
            .json(&json!({}))
            .send(),
    );
    registered.end().await;
    // The revocation has been handled; only now does the waiting stream register.
    held.rollback().await.unwrap();
    let late = on_its_way.await.unwrap().unwrap();
    error(
        late,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "the session has ended",
    )
    .await;
    let logout = logout.await.unwrap().unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}

/// Seconds an access token lives in the expiry tests.
const TTL: &str = "--access-token-ttl-seconds=4";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_stream_ends_when_its_token_expires_and_resumes_with_a_fresh_one() {
    let app = TestApp::spawn_with(&[TTL]).await;
    app.sign_up("ada@example.com").await;
    app.sign_up("bob@example.com").await;
    // Each token is taken just before its use: they live a few seconds.
    let bob = app.log_in("bob@example.com", PASSWORD).await;
    let ada_id = app.log_in("ada@example.com", PASSWORD).await.id;
    let team = app.create_group(&bob, "team", &[ada_id]).await;
    let ada = app.log_in("ada@example.com", PASSWORD).await;
    let mut stream = app
        .events_at(
            &app.base,
            &ada,
            "/api/v1/chats/stream",
            None,
            position_of(&team),
        )
        .await;
    let expired = stream.next_of("expired").await;
    assert_eq!(expired.id, None, "the end moves no resume point");
    stream.end().await;
    let refused = app
        .stream(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // Said while Ada's stream was closed: she gets it when she resumes.
    let bob = app.log_in("bob@example.com", PASSWORD).await;
    let said = app.say(&bob, room_id(&team), "while you were away").await;
    let ada = refreshed(&app, &ada).await;
    let last_seen = position_of(&team).to_string();
    let mut resumed = app
        .events_at(
            &app.base,
            &ada,
            "/api/v1/chats/stream",
            Some(&last_seen),
            position_of(&said),
        )
        .await;
    assert_eq!(resumed.texts(1).await, ["while you were away"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_errors_dashboard_stream_ends_with_its_session_and_its_token() {
    let mut flags = ADMIN_FLAGS.to_vec();
    flags.push(TTL);
    let app = TestApp::spawn_with(&flags).await;
    let admin = app.admin().await;
    let mut tail = app
        .events(&app.base, &admin, "/api/v1/errors/stream?backlog=0", None)
        .await;
    let expired = tail.next_of("expired").await;
    assert_eq!(expired.id, None);
    tail.end().await;
    let admin = app.admin().await;
    let mut tail = app
        .events(&app.base, &admin, "/api/v1/errors/stream?backlog=0", None)
        .await;
    let logout = app
        .send_as(
            Some(&admin),
            Method::POST,
            "/api/v1/auth/logout",
            Some(&json!({})),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    tail.end().await;
    app.stop().await;
}

/// The account with tokens from its refresh token.
async fn refreshed(app: &TestApp, account: &Account) -> Account {
    let response = app
        .post(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": account.refresh_token }),
        )
        .await;
    let data = json(response, StatusCode::OK).await["data"].clone();
    Account {
        token: data["access_token"].as_str().unwrap().to_owned(),
        refresh_token: data["refresh_token"].as_str().unwrap().to_owned(),
        ..account.clone()
    }
}

/// Waits until a read of the log head waits for the lock the test holds.
async fn wait_for_a_blocked_head_read(pool: &PgPool) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                   AND wait_event_type = 'Lock' \
                   AND query LIKE 'SELECT last_position FROM event_log_head%'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the stream waits for the log head");
}
