//! Bad requests of every kind get the right status, the error envelope with a precise
//! message, and the request id as `trace_id`; none is a 500.

use crate::support;

use reqwest::{Body, Method, Response, StatusCode, header::HeaderValue};
use serde_json::json;
use support::{TestApp, bad_request, error, item_path, json, unprocessable};

const ITEMS: &str = "/api/v1/items";
const ONE_MIB: usize = 1024 * 1024;

/// Sends a raw body with `Content-Type: application/json`.
async fn send_raw(app: &TestApp, method: Method, path: &str, body: &'static str) -> Response {
    app.request(method, path)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = TestApp::spawn().await;
    for body in [r#"{"name": "#, r#"{"name": "lamp",}"#, "", "not json"] {
        let response = send_raw(&app, Method::POST, ITEMS, body).await;
        bad_request(response, "malformed JSON").await;
    }
    let response = send_raw(&app, Method::POST, ITEMS, r#"{"name": "#).await;
    let err = bad_request(response, "EOF").await;
    assert!(err["message"].as_str().unwrap().contains("line 1"), "{err}");
    let not_utf8 = app
        .request(Method::POST, ITEMS)
        .header("Content-Type", "application/json")
        .body(&b"{\"name\": \"\xff\"}"[..])
        .send()
        .await
        .unwrap();
    bad_request(not_utf8, "invalid unicode").await;
    app.stop().await;
}

#[tokio::test]
async fn a_field_of_the_wrong_json_type_is_unprocessable_and_named() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            r#"{"name": 5}"#,
            "name: invalid type: integer `5`, expected a string",
        ),
        (
            r#"{"name": null}"#,
            "name: invalid type: null, expected a string",
        ),
        (
            r#"{"name": "a", "description": []}"#,
            "description: invalid type: sequence",
        ),
        ("null", "invalid type: null"),
        (r#"{"name": "a", "name": "b"}"#, "duplicate field `name`"),
        (r#""lamp""#, "invalid type: string"),
    ];
    for (body, message) in cases {
        let response = send_raw(&app, Method::POST, ITEMS, body).await;
        unprocessable(response, message).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_json_array_body_is_unprocessable_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let response = send_raw(&app, Method::POST, ITEMS, r#"["lamp", "oak"]"#).await;
    unprocessable(response, "invalid type").await;
    let page = json(app.get(ITEMS).await, StatusCode::OK).await;
    assert_eq!(page["data"]["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn a_missing_name_is_unprocessable() {
    let app = TestApp::spawn().await;
    for body in ["{}", r#"{"description": "oak"}"#] {
        let response = send_raw(&app, Method::POST, ITEMS, body).await;
        unprocessable(response, "missing field `name`").await;
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_field_is_unprocessable_and_named() {
    let app = TestApp::spawn().await;
    let response = send_raw(
        &app,
        Method::POST,
        ITEMS,
        r#"{"name": "a", "color": "red"}"#,
    )
    .await;
    let message = "unknown field `color`, expected `name` or `description`";
    unprocessable(response, message).await;
    app.stop().await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_an_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let message = "expected a body with Content-Type: application/json";
    let missing = app.request(Method::POST, ITEMS).body(r#"{"name": "a"}"#);
    let wrong = app
        .request(Method::POST, ITEMS)
        .header("Content-Type", "text/plain")
        .body(r#"{"name": "a"}"#);
    let form = app
        .request(Method::PUT, &item_path(1))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=a");
    for request in [missing, wrong, form] {
        let response = request.send().await.unwrap();
        error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "INVALID_INPUT",
            message,
        )
        .await;
    }
    app.stop().await;
}

fn oversized_body() -> String {
    format!(
        r#"{{"name": "a", "description": "{}"}}"#,
        "x".repeat(ONE_MIB)
    )
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_payload_too_large() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, ITEMS)
        .header("Content-Type", "application/json")
        .body(oversized_body())
        .send()
        .await
        .unwrap();
    error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "payload too large",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_streamed_body_over_one_mebibyte_is_payload_too_large() {
    let app = TestApp::spawn().await;
    let chunks = oversized_body()
        .into_bytes()
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect::<Vec<_>>();
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let response = app
        .request(Method::POST, ITEMS)
        .header("Content-Type", "application/json")
        .body(Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "payload too large",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_route_is_not_found() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/api/v1/nothing"),
        (Method::POST, "/api/v1/items/1/parts"),
        (Method::GET, "/api/v1/items/"),
        (Method::GET, "/"),
    ] {
        let response = app.request(method, path).send().await.unwrap();
        error(
            response,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such resource",
        )
        .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_method_is_not_allowed_and_the_allowed_ones_are_listed() {
    let app = TestApp::spawn().await;
    for (method, path, allowed) in [
        (Method::PATCH, "/api/v1/items/1", "PUT,DELETE,GET,HEAD"),
        (Method::POST, "/api/v1/items/1", "PUT,DELETE,GET,HEAD"),
        (Method::DELETE, ITEMS, "POST,GET,HEAD"),
        (Method::POST, "/healthz", "GET,HEAD"),
    ] {
        let response = app.request(method, path).send().await.unwrap();
        let allow = support::header(&response, "allow");
        let mut allow: Vec<&str> = allow.split(',').map(str::trim).collect();
        let mut expected: Vec<&str> = allowed.split(',').collect();
        allow.sort_unstable();
        expected.sort_unstable();
        assert_eq!(allow, expected, "{path}");
        error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "method not allowed",
        )
        .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_non_numeric_id_in_the_path_is_a_bad_request() {
    let app = TestApp::spawn().await;
    for id in ["abc", "1.5", "99999999999999999999"] {
        let path = item_path(id);
        let message = format!("Cannot parse `{id}` to a `i64`");
        let get = app.get(&path).await;
        bad_request(get, &message).await;
        let put = app.put(&path, &json!({"name": "a"})).await;
        bad_request(put, &message).await;
        let delete = app.delete(&path).await;
        bad_request(delete, &message).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn the_trace_id_of_an_error_is_the_request_id_the_client_sent() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, ITEMS)
        .header("X-Request-ID", "client-chosen-id-42")
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let err = bad_request(response, "malformed JSON").await;
    assert_eq!(err["trace_id"], "client-chosen-id-42");
    app.stop().await;
}

#[tokio::test]
async fn a_client_request_id_that_is_not_visible_ascii_still_gets_a_matching_trace_id() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, &item_path(5))
        .header(
            "X-Request-ID",
            HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        )
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"].as_bytes().to_vec();
    let body = json(response, StatusCode::NOT_FOUND).await;
    let trace_id = body["error"]["trace_id"].as_str().unwrap();
    assert!(!trace_id.is_empty(), "{body}");
    assert_eq!(trace_id.as_bytes(), request_id, "{body}");
    app.stop().await;
}

/// A NUL character cannot be stored by PostgreSQL: sent in any command's body, among
/// other requests committed in the same batches, it is a `422` naming the field, and every
/// other request is accepted. In a query parameter it is a `400`, never a `500`.
#[tokio::test]
async fn a_nul_character_is_refused_by_name_and_fails_no_one_else() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let posts = "/api/v1/posts";
    let refused = [
        (
            Method::POST,
            "/api/v1/auth/register",
            json!({ "email": "eve@example.com", "password": "Analytical1", "name": "Eve\u{0}" }),
            "name",
        ),
        (
            Method::POST,
            ITEMS,
            json!({ "name": "lamp", "description": "a\u{0}b" }),
            "description",
        ),
        (
            Method::POST,
            posts,
            json!({ "title": "hi", "body": "x\u{0}" }),
            "body",
        ),
        (
            Method::PATCH,
            "/api/v1/users/me",
            json!({ "name": "Ada\u{0}" }),
            "name",
        ),
    ];
    let items: Vec<_> = (0..20)
        .map(|n| json!({ "name": format!("item {n}") }))
        .collect();
    let sends = items
        .iter()
        .map(|item| app.send_as(Some(&ada), Method::POST, ITEMS, Some(item)));
    let bad =
        futures::future::join_all(refused.iter().map(|(method, path, body, _)| {
            app.send_as(Some(&ada), method.clone(), path, Some(body))
        }));
    let (good, bad) = tokio::join!(futures::future::join_all(sends), bad);
    for response in good {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    for (response, (_, path, _, field)) in bad.into_iter().zip(&refused) {
        let error = unprocessable(response, "NUL").await;
        assert_eq!(
            error["details"]["fields"][*field], "must not contain a NUL character",
            "{path}: {error}"
        );
    }
    let search = app.get("/api/v1/posts?q=%C3%94%00").await;
    bad_request(search, "NUL").await;
    app.stop().await;
}
