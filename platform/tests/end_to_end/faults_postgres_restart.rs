//! PostgreSQL restarted under write load, on a private cluster of the test's own: a
//! request the restart interrupts is answered `503` with `Retry-After` in the error
//! envelope (never `500`), its retry under the same `Idempotency-Key` lands once, and
//! every background reader picks up by itself: the followers that build the read models
//! (and, in Kafka mode, the relay), and the listeners of session revocations and of
//! presence.

use std::time::{Duration, Instant};

use crate::support::{
    self,
    accounts::PASSWORD,
    load::{self, Load},
    private_postgres::PrivatePostgres,
    processes::{PlatformProcess, Processes},
};

use event_log::testing::TestDatabase;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

/// How long a restarted server's readers may take to pick up again.
const RESUME_LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_postgres_restart_under_writes_loses_and_doubles_nothing_and_answers_503_meanwhile() {
    let postgres = PrivatePostgres::start();
    let processes = Processes::on(TestDatabase::on(&postgres.server_url()).await);
    let one = processes.start(load::LOG, &[]).await;
    let other = processes.start(load::LOG, &[]).await;
    let token = sign_up(&processes.client, &one.base).await;

    let target = load::target(&one.base);
    let writes = Load::start_reading(&target, 6, 40);
    writes.wait_for_acks(20, RESUME_LIMIT).await;
    restart_with_appends_in_flight(&postgres, &processes.db.pool, "fast").await;
    writes.wait_for_acks(80, RESUME_LIMIT).await;
    restart_with_appends_in_flight(&postgres, &processes.db.pool, "immediate").await;
    // Half the writes go to the other instance from here: both must have recovered.
    *target.lock().unwrap() = other.base.clone();
    let tally = writes.finish().await;

    let created = load::created_in_log(&processes.db.pool).await;
    for process in [&one, &other] {
        load::assert_all_readable_once(&tally, &process.base, created).await;
    }
    assert!(
        tally.unavailable > 0,
        "no write met the restarts; the test proved nothing"
    );
    // Presence: a stream opened on one instance after the restarts shows on the other.
    let stream = processes
        .client
        .get(format!("{}/api/v1/chats/stream", one.base))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(3600))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    online_within(&processes.client, &other, &token).await;
    drop(stream);
    log_out(&processes.client, &one.base, &token).await;
    refused_within(&processes.client, &other, &token).await;
    processes.stop(vec![one, other]).await;
}

/// Restarts the server while appends are in flight: the log head is locked until an
/// append waits on it, so the restart surely cuts requests off mid-statement (rather than
/// only between them, where the pool would hide it).
async fn restart_with_appends_in_flight(postgres: &PrivatePostgres, pool: &PgPool, mode: &str) {
    let mut head = pool.begin().await.unwrap();
    sqlx::query("SELECT last_position FROM event_log_head FOR UPDATE")
        .execute(&mut *head)
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE NOT granted")
            .fetch_one(pool)
            .await
            .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            started.elapsed() < RESUME_LIMIT,
            "no append waits on the log head"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    postgres.restart(mode);
    // Its connection died with the server.
    let _ = head.rollback().await;
}

/// Registers an account through `base` and logs it in: its access token.
async fn sign_up(client: &Client, base: &str) -> String {
    let email = "ada@example.com";
    let body = json!({ "email": email, "password": PASSWORD, "name": "Ada" });
    let registered = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    support::json(registered, StatusCode::CREATED).await;
    let body = json!({ "email": email, "password": PASSWORD });
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let data: Value = support::json(login, StatusCode::OK).await["data"].clone();
    data["access_token"].as_str().unwrap().to_owned()
}

async fn log_out(client: &Client, base: &str, token: &str) {
    let response = client
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// The other instance lists the token's user online: its presence listener heard of the
/// stream, on a connection opened after the restarts.
async fn online_within(client: &Client, process: &PlatformProcess, token: &str) {
    let started = Instant::now();
    loop {
        let response = client
            .get(format!(
                "{}/api/v1/users?online=true&size=100",
                process.base
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let page: Value = support::json(response, StatusCode::OK).await;
        if !page["data"]["items"].as_array().unwrap().is_empty() {
            return;
        }
        assert!(
            started.elapsed() < RESUME_LIMIT,
            "the other instance never saw the stream: {}",
            process.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The other instance refuses the logged-out token: its revocation listener heard the
/// logout, on a connection opened after the restarts.
async fn refused_within(client: &Client, process: &PlatformProcess, token: &str) {
    let started = Instant::now();
    loop {
        let response = client
            .get(format!("{}/api/v1/users/me", process.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::UNAUTHORIZED {
            return;
        }
        assert!(
            started.elapsed() < RESUME_LIMIT,
            "the other instance still accepts a logged-out token ({}): {}",
            response.status(),
            process.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
