//! The original's flaws, each shown not to come back: owner checks on every profile,
//! book and text; tokens that expire; account changes that are saved and a password rule
//! that is applied; a public script that does not exist is a 404. (The limit of profiles
//! has its own module, `profiles_limit`.)

use crate::support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, PASSWORD},
    error, id, json, position, position_of,
    prompts::profile,
};

#[tokio::test]
async fn another_users_profile_book_and_text_are_not_found_for_reading_or_any_change() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let book = app.create_book(&ada, "Feynman", "Lectures").await;
    let text = app.create_text(&ada, "Notes", "Private.").await;
    let created = app
        .create_profile(
            &ada,
            &profile("en", "Physics", 1, &[id(&book)], &[id(&text)]),
        )
        .await;
    let at = position_of(&created);
    let paths = [
        (
            format!("/api/v1/profiles/{}", id(&created)),
            profile("ko", "Hacked", 5, &[], &[]),
        ),
        (
            format!("/api/v1/ref-books/{}", id(&book)),
            json!({ "author": "x", "title": "x" }),
        ),
        (
            format!("/api/v1/ref-data/{}", id(&text)),
            json!({ "title": "x", "text": "x" }),
        ),
    ];
    for (path, body) in &paths {
        let read = app.get_as(Some(&bob), path, at).await;
        error(read, StatusCode::NOT_FOUND, "NOT_FOUND", "no ").await;
        let changed = app.send_as(Some(&bob), Method::PUT, path, Some(body)).await;
        error(changed, StatusCode::NOT_FOUND, "NOT_FOUND", "no ").await;
        // With a version too: a conflict would tell Bob the thing exists.
        let stale = app
            .as_user(Some(&bob), Method::DELETE, path)
            .header("If-Match", "\"7\"")
            .send()
            .await
            .unwrap();
        error(stale, StatusCode::NOT_FOUND, "NOT_FOUND", "no ").await;
    }
    let path = format!("/api/v1/profiles/{}/dialogues", id(&created));
    error(
        app.get_as(Some(&bob), &path, at).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no profile",
    )
    .await;
    let listed = app.read_as(&bob, "/api/v1/profiles", at).await;
    assert_eq!(listed["total"], 0, "Bob lists his own only");
    let mine = app
        .read_as(&ada, &format!("/api/v1/profiles/{}", id(&created)), at)
        .await;
    assert_eq!(
        (&mine["major"], &mine["version"]),
        (&json!("Physics"), &json!(1))
    );
    let text = app
        .read_as(&ada, &format!("/api/v1/ref-data/{}", id(&text)), at)
        .await;
    assert_eq!(text["text"], "Private.");
    app.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused_by_the_prompts_endpoints() {
    let app = TestApp::spawn_with(&["--access-token-ttl-seconds=1"]).await;
    let ada = app.sign_up("ada@example.com").await;
    let created = app
        .create_profile(&ada, &profile("en", "Physics", 1, &[], &[]))
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let read = app
        .get_as(Some(&ada), "/api/v1/profiles", position_of(&created))
        .await;
    error(read, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "expired").await;
    let body = profile("en", "Chemistry", 1, &[], &[]);
    let write = app
        .send_as(Some(&ada), Method::POST, "/api/v1/profiles", Some(&body))
        .await;
    error(write, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "expired").await;
    app.stop().await;
}

#[tokio::test]
async fn an_account_change_is_saved_and_the_password_rule_applied() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let response = app
        .send_as(
            Some(&ada),
            Method::PATCH,
            "/api/v1/users/me",
            Some(&json!({ "name": "Countess" })),
        )
        .await;
    let at = position(&response);
    json(response, StatusCode::OK).await;
    let me = app.get_as(Some(&ada), "/api/v1/users/me", at).await;
    assert_eq!(json(me, StatusCode::OK).await["data"]["name"], "Countess");
    let weak = json!({ "email": "bob@example.com", "password": "password", "name": "Bob" });
    let refused = app.post("/api/v1/auth/register", &weak).await;
    let refused = error(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "password needs",
    )
    .await;
    let rule = refused["details"]["fields"]["password"].as_str().unwrap();
    assert!(
        rule.contains("an upper-case letter") && rule.contains("a digit"),
        "{rule}"
    );
    let body = json!({ "current_password": PASSWORD, "new_password": "short" });
    let change = app
        .send_as(
            Some(&ada),
            Method::PUT,
            "/api/v1/users/me/password",
            Some(&body),
        )
        .await;
    error(
        change,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "password needs",
    )
    .await;
    // The weak password was not taken: the old one still logs in.
    app.log_in("ada@example.com", PASSWORD).await;
    app.stop().await;
}

#[tokio::test]
async fn a_public_script_that_does_not_exist_is_a_404_not_a_200() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let missing = app
        .get_as(Some(&ada), "/api/v1/public-scripts/999", 0)
        .await;
    error(
        missing,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no public script with id 999",
    )
    .await;
    let admin = app.admin().await;
    let change = app
        .send_as(
            Some(&admin),
            Method::DELETE,
            "/api/v1/public-scripts/999",
            None,
        )
        .await;
    error(
        change,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no public script with id 999",
    )
    .await;
    app.stop().await;
}
