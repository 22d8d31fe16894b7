//! Registration and login through the whole platform.

use crate::support;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, error, header, json, unprocessable};

const PASSWORD: &str = "Analytical1";

fn registration(email: &str) -> Value {
    json!({ "email": email, "password": PASSWORD, "name": "Ada Lovelace" })
}

async fn register(app: &TestApp, email: &str) -> Value {
    let response = app
        .post("/api/v1/auth/register", &registration(email))
        .await;
    json(response, StatusCode::CREATED).await["data"].clone()
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

#[tokio::test]
async fn registering_creates_a_user_account_with_a_normalised_email() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/auth/register", &registration("  Ada@Example.COM "))
        .await;
    let location = header(&response, "location");
    let position: i64 = header(&response, "x-position").parse().unwrap();
    let data = json(response, StatusCode::CREATED).await["data"].clone();
    assert_eq!(data["email"], "ada@example.com");
    assert_eq!(data["name"], "Ada Lovelace");
    assert_eq!(data["role"], "user");
    assert_eq!(data["position"], position);
    assert_eq!(
        location,
        format!("/api/v1/members/{}", data["id"].as_str().unwrap())
    );
    assert!(data.get("password").is_none());
    app.stop().await;
}

#[tokio::test]
async fn neither_the_password_nor_its_hash_appears_in_any_event() {
    let app = TestApp::spawn().await;
    let user = register(&app, "ada@example.com").await;
    let response = login(&app, "ada@example.com", PASSWORD).await;
    json(response, StatusCode::OK).await;
    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT event_type, data::text FROM events ORDER BY position")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types, ["EmailClaimed", "UserRegistered", "SessionStarted"]);
    for (_, data) in &events {
        assert!(
            !data.contains(PASSWORD) && !data.contains("argon2"),
            "{data}"
        );
        assert!(data.contains(user["id"].as_str().unwrap()), "{data}");
    }
    app.stop().await;
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes_with_owasp_parameters() {
    let app = TestApp::spawn().await;
    register(&app, "ada@example.com").await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM credentials")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    app.stop().await;
}

#[tokio::test]
async fn registering_a_taken_address_in_any_case_is_a_conflict() {
    let app = TestApp::spawn().await;
    register(&app, "ada@example.com").await;
    let again = app
        .post("/api/v1/auth/register", &registration("ADA@example.com"))
        .await;
    error(again, StatusCode::CONFLICT, "CONFLICT", "already exists").await;
    app.stop().await;
}

#[tokio::test]
async fn of_concurrent_registrations_of_one_address_exactly_one_succeeds() {
    let app = TestApp::spawn().await;
    let body = registration("ada@example.com");
    let attempts = (0..8).map(|_| app.post("/api/v1/auth/register", &body));
    let statuses: Vec<StatusCode> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 7), "{statuses:?}");
    let accounts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'UserRegistered'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let hashes: i64 = sqlx::query_scalar("SELECT count(*) FROM credentials")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!((accounts, hashes), (1, 1));
    app.stop().await;
}

#[tokio::test]
async fn a_weak_password_is_refused_naming_every_rule_it_breaks() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "short",
            vec!["at least 8 characters", "an upper-case letter", "a digit"],
        ),
        ("alllowercase1", vec!["an upper-case letter"]),
        ("NoDigitsHere", vec!["a digit"]),
        ("Short1", vec!["at least 8 characters"]),
    ];
    for (password, rules) in cases {
        let body = json!({ "email": "ada@example.com", "password": password, "name": "Ada" });
        let response = app.post("/api/v1/auth/register", &body).await;
        let error = unprocessable(response, "password needs").await;
        let message = error["details"]["fields"]["password"].as_str().unwrap();
        for rule in &rules {
            assert!(
                message.contains(rule),
                "{password}: {message:?} lacks {rule:?}"
            );
        }
        assert_eq!(message.matches(", ").count() + 1, rules.len(), "{message}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_emails_and_names_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": "not-an-address", "password": PASSWORD, "name": "  " });
    let response = app.post("/api/v1/auth/register", &body).await;
    let error = unprocessable(response, "email must look like").await;
    let fields = &error["details"]["fields"];
    assert!(
        fields["email"].is_string() && fields["name"].is_string(),
        "{error}"
    );
    assert!(fields.get("password").is_none(), "{error}");
    let missing = app
        .post(
            "/api/v1/auth/register",
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    unprocessable(missing, "missing field").await;
    app.stop().await;
}

#[tokio::test]
async fn logging_in_returns_an_access_token_and_a_refresh_token() {
    let app = TestApp::spawn().await;
    let user = register(&app, "ada@example.com").await;
    let response = login(&app, " ADA@example.com", PASSWORD).await;
    let data = json(response, StatusCode::OK).await["data"].clone();
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 900);
    assert_eq!(data["user"]["id"], user["id"]);
    let access = data["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    let refresh = data["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.len(), 64);
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE token_hash = $1")
            .bind(refresh)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0, "refresh tokens are stored hashed");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    register(&app, "ada@example.com").await;
    let wrong_password = login(&app, "ada@example.com", "Analytical2").await;
    let unknown = login(&app, "bob@example.com", PASSWORD).await;
    let malformed = login(&app, "bob", PASSWORD).await;
    let mut messages = Vec::new();
    for response in [wrong_password, unknown, malformed] {
        let error = error(
            response,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "wrong email or password",
        )
        .await;
        messages.push(error["message"].clone());
    }
    assert!(messages.iter().all(|m| *m == messages[0]));
    app.stop().await;
}
