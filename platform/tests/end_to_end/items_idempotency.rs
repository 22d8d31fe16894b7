//! `Idempotency-Key`: a retried command answers as the first did and changes nothing
//! more; a key reused for another request is refused.

use crate::support;

use futures::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, header, id, item_path, json, position, position_of, unprocessable};

/// POSTs `body` to `/items` with an `Idempotency-Key`.
async fn create_with_key(app: &TestApp, body: &Value, key: &str) -> Response {
    app.send_with_key(Method::POST, "/api/v1/items", Some(body), key)
        .await
}

#[tokio::test]
async fn retrying_a_creation_with_the_same_idempotency_key_returns_the_first_outcome_once() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "lamp"});
    let first = create_with_key(&app, &body, "create-lamp").await;
    let (location, first_at) = (header(&first, "location"), position(&first));
    let first = json(first, StatusCode::CREATED).await;
    let retry = create_with_key(&app, &body, "create-lamp").await;
    assert_eq!(header(&retry, "location"), location);
    assert_eq!(position(&retry), first_at);
    assert_eq!(json(retry, StatusCode::CREATED).await, first);
    let page = app.list_at("", first_at).await;
    assert_eq!(page["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_retried_creation_answers_as_the_first_even_after_the_item_changed() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "lamp"});
    let first = json(
        create_with_key(&app, &body, "k1").await,
        StatusCode::CREATED,
    )
    .await;
    app.update_item(id(&first["data"]), "desk").await;
    let retry = create_with_key(&app, &body, "k1").await;
    assert_eq!(json(retry, StatusCode::CREATED).await, first);
    app.stop().await;
}

#[tokio::test]
async fn retrying_a_conditional_update_with_the_same_idempotency_key_answers_as_the_first() {
    let app = TestApp::spawn().await;
    let path = item_path(id(&app.create_item("lamp").await));
    let body = json!({"name": "desk"});
    let update = || {
        app.request(Method::PUT, &path)
            .header("Idempotency-Key", "u1")
            .header("If-Match", "\"1\"")
            .json(&body)
            .send()
    };
    let first = json(update().await.unwrap(), StatusCode::OK).await;
    assert_eq!(first["data"]["version"], 2);
    // The If-Match is stale by now, but the retry is the same request: same answer.
    let retry = json(update().await.unwrap(), StatusCode::OK).await;
    assert_eq!(retry, first);
    let next = json(app.put(&path, &body).await, StatusCode::OK).await;
    assert_eq!(next["data"]["version"], 3);
    app.stop().await;
}

#[tokio::test]
async fn retrying_a_deletion_with_the_same_idempotency_key_answers_204_again() {
    let app = TestApp::spawn().await;
    let path = item_path(id(&app.create_item("lamp").await));
    let first = app.send_with_key(Method::DELETE, &path, None, "d1").await;
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let retry = app.send_with_key(Method::DELETE, &path, None, "d1").await;
    assert_eq!(retry.status(), StatusCode::NO_CONTENT);
    assert_eq!(position(&retry), position(&first));
    app.stop().await;
}

#[tokio::test]
async fn reusing_an_idempotency_key_for_a_different_request_is_unprocessable() {
    let app = TestApp::spawn().await;
    let first = create_with_key(&app, &json!({"name": "lamp"}), "k").await;
    let first = json(first, StatusCode::CREATED).await;
    let other_body = create_with_key(&app, &json!({"name": "desk"}), "k").await;
    let message = "Idempotency-Key was already used with a different request";
    unprocessable(other_body, message).await;
    let path = item_path(id(&first["data"]));
    let other_operation = app
        .send_with_key(Method::PUT, &path, Some(&json!({"name": "lamp"})), "k")
        .await;
    unprocessable(other_operation, message).await;
    let page = app.list_at("", position_of(&first["data"])).await;
    assert_eq!(
        (&page["total"], &page["items"][0]["version"]),
        (&json!(1), &json!(1))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_with_one_idempotency_key_all_get_the_same_item() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "lamp"});
    let retries = join_all((0..8).map(|_| create_with_key(&app, &body, "burst")));
    let responses = app.with_appends_held(retries).await;
    let mut outcomes = Vec::new();
    for response in responses {
        outcomes.push(json(response, StatusCode::CREATED).await["data"].clone());
    }
    assert!(outcomes.iter().all(|o| *o == outcomes[0]), "{outcomes:?}");
    let at = position_of(&outcomes[0]);
    let page = app.list_at("", at).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], outcomes[0]["id"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_one_creation_leave_no_gap_in_the_ids() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "lamp"});
    let retries = join_all((0..8).map(|_| create_with_key(&app, &body, "burst")));
    let responses = app.with_appends_held(retries).await;
    let mut ids = Vec::new();
    for response in responses {
        ids.push(id(&json(response, StatusCode::CREATED).await["data"]));
    }
    ids.dedup();
    ids.push(id(&app.create_item("desk").await));
    assert_eq!(ids, [1, 2], "the retried item, then the next one");
    app.stop().await;
}
