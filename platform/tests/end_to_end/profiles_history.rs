//! A profile's past: every change in its history, and the profile and its dialogue as
//! they were at any position, folded from the log.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, accounts::Account, error, id, position, prompts::profile};

/// Sends `method` to `path` as `account` with `X-Request-ID: request_id`; asserts
/// `status` and returns the position the command produced.
async fn command(
    app: &TestApp,
    account: &Account,
    method: Method,
    path: &str,
    body: Option<&Value>,
    request_id: &str,
) -> i64 {
    let request = app
        .as_user(Some(account), method, path)
        .header("X-Request-ID", request_id);
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    position(&response)
}

#[tokio::test]
async fn a_profiles_history_lists_every_change_with_when_who_and_which_request() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let created = command(
        &app,
        &ada,
        Method::POST,
        "/api/v1/profiles",
        Some(&profile("en", "Physics", 1, &[], &[])),
        "create-1",
    )
    .await;
    let path = "/api/v1/profiles/1";
    let renamed = command(
        &app,
        &ada,
        Method::PUT,
        path,
        Some(&profile("en", "Chemistry", 2, &[], &[])),
        "update-2",
    )
    .await;
    let deleted = command(&app, &ada, Method::DELETE, path, None, "delete-3").await;
    let history = app.read_as(&ada, "/api/v1/profiles/1/history", 0).await;
    assert_eq!(history["total"], 3);
    let changes = history["items"].as_array().unwrap();
    let kinds: Vec<&Value> = changes.iter().map(|c| &c["event_type"]).collect();
    assert_eq!(
        kinds,
        [
            &json!("PromptProfileCreated"),
            &json!("PromptProfileUpdated"),
            &json!("PromptProfileDeleted")
        ]
    );
    let positions: Vec<i64> = changes
        .iter()
        .map(|c| c["position"].as_i64().unwrap())
        .collect();
    assert_eq!(
        positions,
        [created, renamed, deleted],
        "each at its own event"
    );
    let requests: Vec<&Value> = changes.iter().map(|c| &c["request_id"]).collect();
    assert_eq!(
        requests,
        [&json!("create-1"), &json!("update-2"), &json!("delete-3")]
    );
    assert!(changes.iter().all(|c| c["by"] == ada.id.as_str()));
    assert_eq!(
        changes[0]["changes"]["major"],
        json!({ "from": null, "to": "Physics" })
    );
    assert_eq!(
        changes[1]["changes"],
        json!({
            "major": { "from": "Physics", "to": "Chemistry" },
            "understanding_level": { "from": 1, "to": 2 },
        })
    );
    assert_eq!(changes[2]["changes"], json!({}));
    let paged = app
        .read_as(&ada, "/api/v1/profiles/1/history?page=2&size=2", 0)
        .await;
    assert_eq!(paged["items"][0]["event_type"], "PromptProfileDeleted");
    app.stop().await;
}

#[tokio::test]
async fn as_of_shows_a_profile_its_books_and_its_dialogue_as_they_were_then() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let book = app.create_book(&ada, "Feynman", "Old title").await;
    let profile_body = profile("en", "Physics", 1, &[id(&book)], &[]);
    let first = app.create_profile(&ada, &profile_body).await;
    let at_first = first["position"].as_i64().unwrap();
    let book_path = format!("/api/v1/ref-books/{}", id(&book));
    let body = json!({ "author": "Feynman", "title": "New title" });
    let retitled = command(&app, &ada, Method::PUT, &book_path, Some(&body), "retitle").await;
    let changed = profile("en", "Chemistry", 3, &[id(&book)], &[]);
    let at_changed = command(
        &app,
        &ada,
        Method::PUT,
        "/api/v1/profiles/1",
        Some(&changed),
        "change",
    )
    .await;
    let at_gone = command(&app, &ada, Method::DELETE, &book_path, None, "drop").await;

    let then = app
        .read_as(&ada, &format!("/api/v1/profiles/1?as_of={at_first}"), 0)
        .await;
    assert_eq!(
        (&then["major"], &then["version"]),
        (&json!("Physics"), &json!(1))
    );
    assert_eq!(then["ref_books"][0]["title"], "Old title");
    assert_eq!(then["as_of"], at_first);
    let retitled_then = app
        .read_as(&ada, &format!("/api/v1/profiles/1?as_of={retitled}"), 0)
        .await;
    assert_eq!(retitled_then["ref_books"][0]["title"], "New title");
    assert_eq!(retitled_then["major"], "Physics");
    let later = app
        .read_as(&ada, &format!("/api/v1/profiles/1?as_of={at_changed}"), 0)
        .await;
    assert_eq!(
        (&later["major"], &later["version"]),
        (&json!("Chemistry"), &json!(2))
    );
    let now = app
        .read_as(&ada, &format!("/api/v1/profiles/1?as_of={at_gone}"), 0)
        .await;
    assert_eq!(now["ref_books"], json!([]), "the book was deleted by then");

    let old = app
        .read_as(
            &ada,
            &format!("/api/v1/profiles/1/dialogues?as_of={at_first}"),
            0,
        )
        .await;
    assert_eq!(old["as_of"], at_first);
    assert!(old["scripts"][0].as_str().unwrap().contains("Physics"));
    assert!(
        old["scripts"][1]
            .as_str()
            .unwrap()
            .contains("Old title by Feynman")
    );
    let current = app
        .read_as(&ada, "/api/v1/profiles/1/dialogues", at_gone)
        .await;
    assert!(
        current["scripts"][0]
            .as_str()
            .unwrap()
            .contains("Chemistry")
    );
    assert_eq!(current["scripts"].as_array().unwrap().len(), 1, "{current}");
    assert!(current.get("as_of").is_none());
    app.stop().await;
}

#[tokio::test]
async fn as_of_outside_a_profiles_life_is_refused_and_its_past_outlives_it() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let before = app.create_book(&ada, "Someone", "Something").await;
    let before = before["position"].as_i64().unwrap();
    let created = app
        .create_profile(&ada, &profile("en", "Physics", 1, &[], &[]))
        .await;
    let alive = created["position"].as_i64().unwrap();
    let gone = command(
        &app,
        &ada,
        Method::DELETE,
        "/api/v1/profiles/1",
        None,
        "drop",
    )
    .await;

    let path = |as_of: i64| format!("/api/v1/profiles/1?as_of={as_of}");
    let not_yet = app.get_as(Some(&ada), &path(before), 0).await;
    error(
        not_yet,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no profile with id 1",
    )
    .await;
    let was = app.read_as(&ada, &path(alive), 0).await;
    assert_eq!(
        was["major"], "Physics",
        "a deleted profile's past is its owner's still"
    );
    let deleted = app.get_as(Some(&ada), &path(gone), 0).await;
    error(deleted, StatusCode::NOT_FOUND, "NOT_FOUND", "no profile").await;
    let live = app.get_as(Some(&ada), "/api/v1/profiles/1", gone).await;
    error(live, StatusCode::NOT_FOUND, "NOT_FOUND", "no profile").await;
    let future = app.get_as(Some(&ada), &path(gone + 1000), 0).await;
    error(
        future,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "has not been written",
    )
    .await;
    let negative = app.get_as(Some(&ada), &path(-1), 0).await;
    error(negative, StatusCode::BAD_REQUEST, "INVALID_INPUT", "as_of").await;
    let history = app.read_as(&ada, "/api/v1/profiles/1/history", 0).await;
    assert_eq!(history["total"], 2);
    let none = app
        .get_as(Some(&ada), "/api/v1/profiles/9/history", 0)
        .await;
    error(
        none,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no profile with id 9",
    )
    .await;
    app.stop().await;
}
