//! Refresh-token rotation, reuse detection and logout.

use crate::support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, error, instances::SHARED_SECRET, json, position_of};
use tokio::sync::Barrier;

const PASSWORD: &str = "Analytical1";

/// Registers Ada and logs her in: the login's `data`.
async fn ada(app: &TestApp) -> Value {
    register(app).await;
    log_in(app).await
}

/// Registers Ada: the registration's `data`.
async fn register(app: &TestApp) -> Value {
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada" });
    json(
        app.post("/api/v1/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await["data"]
        .clone()
}

async fn log_in(app: &TestApp) -> Value {
    let body = json!({ "email": "ada@example.com", "password": PASSWORD });
    json(app.post("/api/v1/auth/login", &body).await, StatusCode::OK).await["data"].clone()
}

async fn refresh(app: &TestApp, token: &Value) -> reqwest::Response {
    app.post("/api/v1/auth/refresh", &json!({ "refresh_token": token }))
        .await
}

/// `GET /users/me` once the members read model holds everything written so far (in Kafka
/// mode it may lag the commands).
async fn me(app: &TestApp, session: &Value) -> reqwest::Response {
    let head: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    app.request(Method::GET, "/api/v1/users/me")
        .header("x-min-position", head)
        .bearer_auth(session["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
}

async fn logout(app: &TestApp, session: &Value) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/logout")
        .bearer_auth(session["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
}

/// Calls `call` until it answers 401, for at most 5 s: an instance hears of a revocation
/// through a notification, a moment after it was made. Returns that answer; fails with
/// `never` when none came.
async fn first_refusal(
    mut call: impl AsyncFnMut() -> reqwest::Response,
    never: &str,
) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = call().await;
        if response.status() == StatusCode::UNAUTHORIZED {
            return response;
        }
        assert!(Instant::now() < deadline, "{never}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The refusal of a token whose session is over.
async fn session_ended(response: reqwest::Response) {
    error(
        response,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "session has ended",
    )
    .await;
}

#[tokio::test]
async fn refreshing_rotates_the_refresh_token_and_keeps_the_session() {
    let app = TestApp::spawn().await;
    let first = ada(&app).await;
    let second =
        json(refresh(&app, &first["refresh_token"]).await, StatusCode::OK).await["data"].clone();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["user"]["email"], "ada@example.com");
    let third = refresh(&app, &second["refresh_token"]).await;
    json(third, StatusCode::OK).await;
    app.stop().await;
}

#[tokio::test]
async fn presenting_a_spent_refresh_token_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let first = ada(&app).await;
    let second =
        json(refresh(&app, &first["refresh_token"]).await, StatusCode::OK).await["data"].clone();
    let replayed = refresh(&app, &first["refresh_token"]).await;
    error(
        replayed,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "used already",
    )
    .await;
    let newest = refresh(&app, &second["refresh_token"]).await;
    error(
        newest,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    for session in [&first, &second] {
        let response = me(&app, session).await;
        session_ended(response).await;
    }
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT data->>'reason' FROM events WHERE event_type = 'SessionRevoked'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reasons, ["refresh_token_reused"]);
    // Another login still works: only the stolen family ended.
    let fresh = log_in(&app).await;
    assert_eq!(me(&app, &fresh).await.status(), StatusCode::OK);
    app.stop().await;
}

/// Concurrent uses of one refresh token are reuse: the row lock lets one through, the
/// others then find it spent and revoke the session, so even the winner's new tokens die.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_refreshes_with_one_token_one_wins_and_the_session_ends() {
    const ATTEMPTS: usize = 6;
    let app = TestApp::spawn().await;
    let session = ada(&app).await;
    let start = Arc::new(Barrier::new(ATTEMPTS));
    let attempts: Vec<_> = (0..ATTEMPTS)
        .map(|_| {
            let request = app
                .request(Method::POST, "/api/v1/auth/refresh")
                .json(&json!({ "refresh_token": session["refresh_token"] }));
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                request.send().await.unwrap()
            })
        })
        .collect();
    let (mut winners, mut refusals) = (Vec::new(), Vec::new());
    for attempt in attempts {
        let response = attempt.await.unwrap();
        if response.status() == StatusCode::OK {
            winners.push(json(response, StatusCode::OK).await["data"].clone());
        } else {
            // Refused as reuse, or as a token of a session a reuse has just ended.
            let refusal = error(response, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "").await;
            refusals.push(refusal["message"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?} {refusals:?}");
    assert!(
        refusals.iter().any(|m| m.contains("used already"))
            && refusals
                .iter()
                .all(|m| m.contains("used already") || m.contains("not valid")),
        "{refusals:?}"
    );
    let winner = &winners[0];
    for tokens in [&session, winner] {
        session_ended(me(&app, tokens).await).await;
    }
    let refreshed = refresh(&app, &winner["refresh_token"]).await;
    error(
        refreshed,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT data->>'reason' FROM events WHERE event_type = 'SessionRevoked'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reasons, ["refresh_token_reused"]);
    app.stop().await;
}

#[tokio::test]
async fn logging_out_ends_the_access_and_refresh_tokens_at_once() {
    let app = TestApp::spawn().await;
    let session = ada(&app).await;
    let other = log_in(&app).await;
    let response = logout(&app, &session).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = me(&app, &session).await;
    session_ended(after).await;
    let refreshed = refresh(&app, &session["refresh_token"]).await;
    error(
        refreshed,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    let again = logout(&app, &session).await;
    session_ended(again).await;
    // The user's other session is untouched.
    assert_eq!(me(&app, &other).await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_revocation_announced_by_another_instance_is_heard_here() {
    let app = TestApp::spawn().await;
    let session = ada(&app).await;
    assert_eq!(me(&app, &session).await.status(), StatusCode::OK);
    // What another instance's logout does in the database.
    sqlx::query(
        "WITH r AS (UPDATE sessions SET revoked_at = now() RETURNING session_id) \
         SELECT count(pg_notify('revocations', session_id::text)::text) FROM r",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    first_refusal(
        async || me(&app, &session).await,
        "the revocation was never heard",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_revocation_announced_while_the_listener_was_cut_off_is_still_heard() {
    let app = TestApp::spawn().await;
    let session = ada(&app).await;
    assert_eq!(me(&app, &session).await.status(), StatusCode::OK);
    // The listener's connection dies in the same statement that announces the logout: the
    // announcement reaches no one, and the listener reconnects after it.
    let cut: i64 = sqlx::query_scalar(
        "WITH k AS (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                    WHERE datname = current_database() AND query ILIKE 'LISTEN%revocations%'), \
              r AS (UPDATE sessions SET revoked_at = now() RETURNING session_id) \
         SELECT (SELECT count(*) FROM k) + 0 * count(pg_notify('revocations', session_id::text)::text) FROM r",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(cut >= 1, "no revocation listener was found to cut off");
    first_refusal(
        async || me(&app, &session).await,
        "a revocation announced during the reconnection was lost",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_logout_ends_the_session_on_a_second_running_instance() {
    let app = TestApp::spawn_with(&[SHARED_SECRET]).await;
    let other = app.second_query_api().await;
    let registered = register(&app).await;
    let session = log_in(&app).await;
    // The other instance reads her from its own read model, once it has her.
    let me_there = async || {
        app.client
            .get(format!("{}/api/v1/users/me", other.base))
            .bearer_auth(session["access_token"].as_str().unwrap())
            .header("x-min-position", position_of(&registered))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(me_there().await.status(), StatusCode::OK);
    assert_eq!(
        logout(&app, &session).await.status(),
        StatusCode::NO_CONTENT
    );
    // The other instance learns of it from the logout's notification.
    let refused = first_refusal(me_there, "the other instance never heard of the logout").await;
    session_ended(refused).await;
    other.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn refresh_requests_without_a_valid_token_are_refused() {
    let app = TestApp::spawn().await;
    let unknown = refresh(&app, &json!("0".repeat(64))).await;
    error(
        unknown,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    let missing = app.post("/api/v1/auth/refresh", &json!({})).await;
    error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "refresh_token",
    )
    .await;
    let anonymous = app
        .request(Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();
    error(
        anonymous,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    app.stop().await;
}
