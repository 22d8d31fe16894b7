//! Anyone may write items, and every write stays in the log for good: writes are limited
//! per client address, keyed as the login limit keys them.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{TestApp, error, header};

#[tokio::test]
async fn item_writes_over_the_limit_get_429_with_retry_after_and_reads_do_not_count() {
    let app = TestApp::spawn_with(&["--anonymous-write-rate-limit-per-minute=3"]).await;
    let created = app.post("/api/v1/items", &json!({ "name": "Lamp" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(header(&created, "ratelimit-remaining"), "2");
    let renamed = app
        .put("/api/v1/items/1", &json!({ "name": "Desk lamp" }))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/items").await.status(), StatusCode::OK);
    }
    let deleted = app.delete("/api/v1/items/1").await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&deleted, "ratelimit-remaining"), "0");

    for limited in [
        app.post("/api/v1/items", &json!({ "name": "Chair" })).await,
        app.put("/api/v1/items/1", &json!({ "name": "Chair" }))
            .await,
        app.request(Method::DELETE, "/api/v1/items/1")
            .send()
            .await
            .unwrap(),
    ] {
        let retry_after: u64 = header(&limited, "retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(header(&limited, "ratelimit-limit"), "3");
        let error = error(
            limited,
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests from this address",
        )
        .await;
        assert_eq!(error["details"]["retry_after_seconds"], retry_after);
    }
    let list = app.get("/api/v1/items").await;
    assert_eq!(list.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_a_budget_of_its_own() {
    let app = TestApp::spawn_with(&[
        "--anonymous-write-rate-limit-per-minute=1",
        "--trust-proxy-headers=true",
    ])
    .await;
    let create = |client: &'static str| {
        app.request(Method::POST, "/api/v1/items")
            .header("X-Real-IP", client)
            .json(&json!({ "name": "Lamp" }))
            .send()
    };
    assert_eq!(
        create("192.0.2.7").await.unwrap().status(),
        StatusCode::CREATED
    );
    let again = create("192.0.2.7").await.unwrap();
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    // One IPv6 host holds a whole /64: another address in it shares the budget.
    assert_eq!(
        create("2001:db8:1:2::1").await.unwrap().status(),
        StatusCode::CREATED
    );
    let same_64 = create("2001:db8:1:2:ffff::9").await.unwrap();
    assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        create("192.0.2.8").await.unwrap().status(),
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn a_limit_of_zero_lets_every_write_through() {
    let app = TestApp::spawn_with(&["--anonymous-write-rate-limit-per-minute=0"]).await;
    for n in 0..5 {
        let created = app
            .post("/api/v1/items", &json!({ "name": format!("Item {n}") }))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        assert!(created.headers().get("ratelimit-limit").is_none());
    }
    app.stop().await;
}
