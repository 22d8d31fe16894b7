//! Reading accounts with access tokens: the caller's profile, members, and who may see what.

use crate::support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account, PASSWORD},
    error, header, json,
};

#[tokio::test]
async fn the_caller_reads_their_own_profile_without_any_secret() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let response = app
        .get_as(Some(&ada), "/api/v1/users/me", ada.position)
        .await;
    let me = json(response, StatusCode::OK).await["data"].clone();
    assert_eq!(me["id"], ada.id.as_str());
    assert_eq!(
        (me["email"].as_str(), me["name"].as_str()),
        (Some("ada@example.com"), Some("Ada"))
    );
    assert_eq!(
        (me["role"].as_str(), me["blocked"].as_bool()),
        (Some("user"), Some(false))
    );
    let text = me.to_string();
    assert!(
        !text.contains("password") && !text.contains("argon2"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_request_without_a_token_is_unauthorized_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let response = app.get_as(None, "/api/v1/users/me", 0).await;
    assert_eq!(header(&response, "www-authenticate"), "Bearer");
    error(
        response,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "needs an access token",
    )
    .await;
    let basic = app
        .request(Method::GET, "/api/v1/users/me")
        .header("authorization", "Basic YWRhOnB3")
        .send()
        .await
        .unwrap();
    error(
        basic,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Bearer <token>",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_tampered_token_is_refused_as_invalid() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    // Claim to be someone else, keeping Ada's signature.
    let mut parts: Vec<String> = ada.token.split('.').map(str::to_owned).collect();
    let other = app.sign_up_named("bob@example.com", "Bob").await;
    parts[1] = other.token.split('.').nth(1).unwrap().to_owned();
    let forged = Account {
        token: parts.join("."),
        ..ada.clone()
    };
    let response = app.get_as(Some(&forged), "/api/v1/users/me", 0).await;
    assert!(header(&response, "www-authenticate").contains("invalid_token"));
    error(
        response,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    let garbage = Account {
        token: "not.a.token".into(),
        ..ada
    };
    let garbage = app.get_as(Some(&garbage), "/api/v1/users/me", 0).await;
    error(
        garbage,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = TestApp::spawn_with(&["--access-token-ttl-seconds=1"]).await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = app.get_as(Some(&ada), "/api/v1/users/me", 0).await;
    error(
        response,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "expired",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_member_is_visible_to_themselves_and_admins_only() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let bob = app.sign_up_named("bob@example.com", "Bob").await;
    let admin = app.log_in("root@example.com", "Rootpass1").await;
    let path = format!("/api/v1/members/{}", ada.id);
    let at = bob.position;
    let anonymous = app.get_as(None, &path, at).await;
    error(
        anonymous,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    let other = app.get_as(Some(&bob), &path, at).await;
    error(
        other,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "themselves or an admin",
    )
    .await;
    let own = app.get_as(Some(&ada), &path, at).await;
    assert_eq!(
        json(own, StatusCode::OK).await["data"]["email"],
        "ada@example.com"
    );
    let by_admin = app.get_as(Some(&admin), &path, at).await;
    assert_eq!(
        json(by_admin, StatusCode::OK).await["data"]["id"],
        ada.id.as_str()
    );
    let missing = format!("/api/v1/members/{}", uuid::Uuid::now_v7());
    let unknown = app.get_as(Some(&admin), &missing, at).await;
    error(unknown, StatusCode::NOT_FOUND, "NOT_FOUND", "no member").await;
    app.stop().await;
}

#[tokio::test]
async fn only_admins_list_members_and_the_search_is_literal() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up_named("ada@example.com", "Ada Lovelace").await;
    let bob = app.sign_up_named("bob@example.com", "Bob 100%").await;
    let admin = app.log_in("root@example.com", "Rootpass1").await;
    let at = bob.position;
    let anonymous = app.get_as(None, "/api/v1/members", at).await;
    error(
        anonymous,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    let user = app.get_as(Some(&ada), "/api/v1/members", at).await;
    error(user, StatusCode::FORBIDDEN, "FORBIDDEN", "admin").await;
    let all = app.get_as(Some(&admin), "/api/v1/members?size=2", at).await;
    let page = json(all, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (page["total"].as_i64(), page["total_pages"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(page["items"][0]["role"], "admin", "oldest first: {page}");
    let emails = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["email"].as_str().unwrap().to_owned())
            .collect()
    };
    for (q, expected) in [
        ("LOVELACE", vec!["ada@example.com"]),
        ("bob@", vec!["bob@example.com"]),
        ("100%", vec!["bob@example.com"]),
        ("%", vec!["bob@example.com"]),
        ("_", vec![]),
    ] {
        let path = format!("/api/v1/members?q={}", urlencode(q));
        let response = app.get_as(Some(&admin), &path, at).await;
        let page = json(response, StatusCode::OK).await["data"].clone();
        assert_eq!(emails(&page), expected, "q={q}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_admin_from_configuration_logs_in_with_the_admin_role() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let body = json!({ "email": "root@example.com", "password": "Rootpass1" });
    let response = app.post("/api/v1/auth/login", &body).await;
    let data = json(response, StatusCode::OK).await["data"].clone();
    assert_eq!(data["user"]["role"], "admin");
    let taken = app
        .post(
            "/api/v1/auth/register",
            &json!({ "email": "root@example.com", "password": PASSWORD, "name": "Mallory" }),
        )
        .await;
    error(taken, StatusCode::CONFLICT, "CONFLICT", "already exists").await;
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
