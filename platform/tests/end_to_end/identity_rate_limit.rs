//! Registration and login are rate limited per client address (the one a trusted proxy
//! names in `X-Real-IP`, and only then); password changes per account.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{TestApp, error, header};

#[tokio::test]
async fn logins_and_registrations_over_the_limit_get_429_with_retry_after() {
    let app = TestApp::spawn_with(&["--auth-rate-limit-per-minute=3"]).await;
    let login = json!({ "email": "ada@example.com", "password": "Wrong1234" });
    for remaining in ["2", "1"] {
        let response = app.post("/api/v1/auth/login", &login).await;
        assert_eq!(header(&response, "ratelimit-limit"), "3");
        assert_eq!(header(&response, "ratelimit-remaining"), remaining);
        assert_eq!(header(&response, "ratelimit-policy"), "3;w=60");
        error(
            response,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "wrong email",
        )
        .await;
    }
    let register = json!({ "email": "ada@example.com", "password": "Analytical1", "name": "Ada" });
    let last = app.post("/api/v1/auth/register", &register).await;
    assert_eq!(last.status(), StatusCode::CREATED);
    assert_eq!(header(&last, "ratelimit-remaining"), "0");
    for path in ["/api/v1/auth/login", "/api/v1/auth/register"] {
        let body = if path.ends_with("login") {
            &login
        } else {
            &register
        };
        let limited = app.post(path, body).await;
        let retry_after: u64 = header(&limited, "retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(header(&limited, "ratelimit-remaining"), "0");
        let error = error(
            limited,
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests",
        )
        .await;
        assert_eq!(error["details"]["retry_after_seconds"], retry_after);
    }
    // Other endpoints are not limited.
    let list = app.get("/api/v1/items").await;
    assert_eq!(list.status(), StatusCode::OK);
    assert!(list.headers().get("ratelimit-limit").is_none());
    app.stop().await;
}

#[tokio::test]
async fn password_changes_over_the_limit_get_429_before_any_hash() {
    let app = TestApp::spawn_with(&["--password-change-rate-limit-per-minute=2"]).await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let change =
        |current: &str| json!({ "current_password": current, "new_password": "Changed12345" });
    for _ in 0..2 {
        let wrong = app
            .send_as(
                Some(&ada),
                Method::PUT,
                "/api/v1/users/me/password",
                Some(&change("Wrong1234")),
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    }
    // The right password too, once the account's budget is spent.
    let limited = app
        .send_as(
            Some(&ada),
            Method::PUT,
            "/api/v1/users/me/password",
            Some(&change(support::accounts::PASSWORD)),
        )
        .await;
    let retry_after: u64 = header(&limited, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    error(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "too many password changes",
    )
    .await;
    // Another account keeps its own budget.
    let changed = app
        .send_as(
            Some(&bob),
            Method::PUT,
            "/api/v1/users/me/password",
            Some(&change(support::accounts::PASSWORD)),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}

/// A login as from `real_ip` (`X-Real-IP`, as nginx sets it) and `forwarded_for`.
async fn log_in_from(app: &TestApp, real_ip: &str, forwarded_for: &str) -> StatusCode {
    app.request(Method::POST, "/api/v1/auth/login")
        .header("x-real-ip", real_ip)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": "ada@example.com", "password": "Wrong1234" }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_it_names_has_its_own_budget() {
    let app = TestApp::spawn_with(&[
        "--auth-rate-limit-per-minute=2",
        "--trust-proxy-headers=true",
    ])
    .await;
    for _ in 0..2 {
        let status = log_in_from(&app, "203.0.113.1", "198.51.100.1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        log_in_from(&app, "203.0.113.1", "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "X-Forwarded-For, which a client can write itself, is not the address"
    );
    assert_eq!(
        log_in_from(&app, "203.0.113.2", "198.51.100.1").await,
        StatusCode::UNAUTHORIZED,
        "another address the proxy names has a budget of its own"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_trusted_proxy_headers_naming_other_addresses_buy_no_budget() {
    let app = TestApp::spawn_with(&["--auth-rate-limit-per-minute=2"]).await;
    for n in 1..=2 {
        let status = log_in_from(&app, &format!("203.0.113.{n}"), "198.51.100.1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    for n in 3..=5 {
        let (real_ip, forwarded_for) = (format!("203.0.113.{n}"), format!("198.51.100.{n}"));
        assert_eq!(
            log_in_from(&app, &real_ip, &forwarded_for).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    app.stop().await;
}
