//! The rules of item fields and command headers: each broken rule is a 400 or 422 naming
//! what is wrong, and changes nothing.

use crate::support;

use reqwest::{Method, StatusCode, header::HeaderValue};
use serde_json::json;
use support::{TestApp, bad_request, item_path, json, position_of, unprocessable};

const ITEMS: &str = "/api/v1/items";

#[tokio::test]
async fn an_empty_or_blank_name_is_unprocessable_and_named_in_the_details() {
    let app = TestApp::spawn().await;
    for name in ["", "   ", "\n\t"] {
        let response = app.post(ITEMS, &json!({"name": name})).await;
        let err = unprocessable(response, "name must not be empty").await;
        assert_eq!(err["details"]["name"], "name must not be empty");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_name_over_100_characters_is_unprocessable() {
    let app = TestApp::spawn().await;
    let response = app.post(ITEMS, &json!({"name": "a".repeat(101)})).await;
    let message = "name must be at most 100 characters, got 101";
    let err = unprocessable(response, message).await;
    assert_eq!(err["details"]["name"], message);
    app.stop().await;
}

#[tokio::test]
async fn a_name_with_a_control_character_is_unprocessable() {
    let app = TestApp::spawn().await;
    for name in ["a\nb", "bell\u{7}", "a\u{9f}b"] {
        let response = app.post(ITEMS, &json!({"name": name})).await;
        let message = "name must not contain control characters";
        unprocessable(response, message).await;
    }
    // A NUL is refused before any rule of the field, as in every body.
    let response = app.post(ITEMS, &json!({"name": "a\u{0}b"})).await;
    unprocessable(response, "name must not contain a NUL character").await;
    app.stop().await;
}

#[tokio::test]
async fn a_description_over_1000_characters_is_unprocessable() {
    let app = TestApp::spawn().await;
    let fits = app
        .post(
            ITEMS,
            &json!({"name": "a", "description": "é".repeat(1000)}),
        )
        .await;
    assert_eq!(fits.status(), StatusCode::CREATED);
    let response = app
        .post(
            ITEMS,
            &json!({"name": "a", "description": "é".repeat(1001)}),
        )
        .await;
    let message = "description must be at most 1000 characters, got 1001";
    let err = unprocessable(response, message).await;
    assert_eq!(err["details"]["description"], message);
    app.stop().await;
}

#[tokio::test]
async fn a_description_may_hold_newlines_and_tabs_but_no_other_control_characters() {
    let app = TestApp::spawn().await;
    let fits = app
        .post(
            ITEMS,
            &json!({"name": "a", "description": "one\ntwo\r\n\tthree"}),
        )
        .await;
    assert_eq!(
        json(fits, StatusCode::CREATED).await["data"]["description"],
        "one\ntwo\r\n\tthree"
    );
    let response = app
        .post(ITEMS, &json!({"name": "a", "description": "bell\u{7}"}))
        .await;
    let message = "description must not contain control characters other than newlines and tabs";
    unprocessable(response, message).await;
    app.stop().await;
}

#[tokio::test]
async fn an_update_with_invalid_fields_is_unprocessable_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let path = item_path(1);
    let response = app.put(&path, &json!({"name": " "})).await;
    unprocessable(response, "name must not be empty").await;
    let response = app.put(&path, &json!({"name": "a", "size": 3})).await;
    unprocessable(response, "unknown field `size`").await;
    let response = app.get_at(&path, position_of(&created)).await;
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 1);
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_that_is_empty_too_long_or_not_ascii_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let message = "Idempotency-Key must be 1 to 200 visible ASCII characters";
    let long = "k".repeat(201);
    let keys: [&[u8]; 3] = [b"", long.as_bytes(), b"caf\xc3\xa9"];
    for key in keys {
        let response = app
            .request(Method::POST, ITEMS)
            .header("Idempotency-Key", HeaderValue::from_bytes(key).unwrap())
            .json(&json!({"name": "a"}))
            .send()
            .await
            .unwrap();
        bad_request(response, message).await;
    }
    let fits = app
        .send_with_key(
            Method::POST,
            ITEMS,
            Some(&json!({"name": "a"})),
            &"k".repeat(200),
        )
        .await;
    assert_eq!(fits.status(), StatusCode::CREATED);
    app.stop().await;
}
