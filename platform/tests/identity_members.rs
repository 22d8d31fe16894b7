//! Reading accounts with access tokens: the caller's profile, members, and who may see what.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, error, header, json};

const PASSWORD: &str = "Analytical1";
const ADMIN: [&str; 2] = [
    "--admin-email=root@example.com",
    "--admin-password=Rootpass1",
];

/// A registered and logged-in user: their id, access token and registration position.
struct User {
    id: String,
    token: String,
    position: i64,
}

async fn sign_up(app: &TestApp, email: &str, name: &str) -> User {
    let body = json!({ "email": email, "password": PASSWORD, "name": name });
    let response = app.post("/api/v1/auth/register", &body).await;
    let data = json(response, StatusCode::CREATED).await["data"].clone();
    let mut user = log_in(app, email, PASSWORD).await;
    user.position = data["position"].as_i64().unwrap();
    user
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> User {
    let body = json!({ "email": email, "password": password });
    let response = app.post("/api/v1/auth/login", &body).await;
    let data = json(response, StatusCode::OK).await["data"].clone();
    User {
        id: data["user"]["id"].as_str().unwrap().to_owned(),
        token: data["access_token"].as_str().unwrap().to_owned(),
        position: 0,
    }
}

async fn get_as(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    position: i64,
) -> reqwest::Response {
    let mut request = app
        .request(Method::GET, path)
        .header("x-min-position", position.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_caller_reads_their_own_profile_without_any_secret() {
    let app = TestApp::spawn().await;
    let ada = sign_up(&app, "ada@example.com", "Ada").await;
    let response = get_as(&app, "/api/v1/users/me", Some(&ada.token), ada.position).await;
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
    let response = get_as(&app, "/api/v1/users/me", None, 0).await;
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
    let ada = sign_up(&app, "ada@example.com", "Ada").await;
    // Claim to be someone else, keeping Ada's signature.
    let mut parts: Vec<String> = ada.token.split('.').map(str::to_owned).collect();
    let other = sign_up(&app, "bob@example.com", "Bob").await;
    parts[1] = other.token.split('.').nth(1).unwrap().to_owned();
    let forged = parts.join(".");
    let response = get_as(&app, "/api/v1/users/me", Some(&forged), 0).await;
    assert!(header(&response, "www-authenticate").contains("invalid_token"));
    error(
        response,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    let garbage = get_as(&app, "/api/v1/users/me", Some("not.a.token"), 0).await;
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
    let ada = sign_up(&app, "ada@example.com", "Ada").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = get_as(&app, "/api/v1/users/me", Some(&ada.token), 0).await;
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
    let app = TestApp::spawn_with(&ADMIN).await;
    let ada = sign_up(&app, "ada@example.com", "Ada").await;
    let bob = sign_up(&app, "bob@example.com", "Bob").await;
    let admin = log_in(&app, "root@example.com", "Rootpass1").await;
    let path = format!("/api/v1/members/{}", ada.id);
    let at = bob.position;
    let anonymous = get_as(&app, &path, None, at).await;
    error(
        anonymous,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    let other = get_as(&app, &path, Some(&bob.token), at).await;
    error(
        other,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "themselves or an admin",
    )
    .await;
    let own = get_as(&app, &path, Some(&ada.token), at).await;
    assert_eq!(
        json(own, StatusCode::OK).await["data"]["email"],
        "ada@example.com"
    );
    let by_admin = get_as(&app, &path, Some(&admin.token), at).await;
    assert_eq!(
        json(by_admin, StatusCode::OK).await["data"]["id"],
        ada.id.as_str()
    );
    let missing = format!("/api/v1/members/{}", uuid::Uuid::now_v7());
    let unknown = get_as(&app, &missing, Some(&admin.token), at).await;
    error(unknown, StatusCode::NOT_FOUND, "NOT_FOUND", "no member").await;
    app.stop().await;
}

#[tokio::test]
async fn only_admins_list_members_and_the_search_is_literal() {
    let app = TestApp::spawn_with(&ADMIN).await;
    let ada = sign_up(&app, "ada@example.com", "Ada Lovelace").await;
    let bob = sign_up(&app, "bob@example.com", "Bob 100%").await;
    let admin = log_in(&app, "root@example.com", "Rootpass1").await;
    let at = bob.position;
    let anonymous = get_as(&app, "/api/v1/members", None, at).await;
    error(
        anonymous,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    let user = get_as(&app, "/api/v1/members", Some(&ada.token), at).await;
    error(user, StatusCode::FORBIDDEN, "FORBIDDEN", "admin").await;
    let all = get_as(&app, "/api/v1/members?size=2", Some(&admin.token), at).await;
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
        let response = get_as(&app, &path, Some(&admin.token), at).await;
        let page = json(response, StatusCode::OK).await["data"].clone();
        assert_eq!(emails(&page), expected, "q={q}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_admin_from_configuration_logs_in_with_the_admin_role() {
    let app = TestApp::spawn_with(&ADMIN).await;
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
