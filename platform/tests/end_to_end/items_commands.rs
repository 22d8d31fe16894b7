//! Creating, updating and deleting items: statuses, headers, If-Match and concurrent
//! changes, seen through the HTTP API.

use crate::support;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    TestApp, bad_request, error, header, id, item_path, json, position, position_of, unprocessable,
};

#[tokio::test]
async fn creating_an_item_answers_201_with_its_location_position_etag_and_fields() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/items",
            &json!({"name": "lamp", "description": "warm light"}),
        )
        .await;
    let (location, etag, at) = (
        header(&response, "location"),
        header(&response, "etag"),
        position(&response),
    );
    let body = json(response, StatusCode::CREATED).await;
    assert_eq!(body["status"], "ok");
    let data = &body["data"];
    assert_eq!(location, item_path(id(data)));
    assert_eq!(etag, "\"1\"");
    assert_eq!(data["name"], "lamp");
    assert_eq!(data["description"], "warm light");
    assert_eq!(data["version"], 1);
    assert_eq!(data["position"], at);
    app.stop().await;
}

#[tokio::test]
async fn a_created_name_is_trimmed_and_a_missing_description_is_empty() {
    let app = TestApp::spawn().await;
    let data = app.create_item("  desk lamp \t").await;
    assert_eq!(data["name"], "desk lamp");
    assert_eq!(data["description"], "");
    app.stop().await;
}

#[tokio::test]
async fn items_get_sequential_ids_and_growing_positions_in_creation_order() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for name in ["a", "b", "c", "d"] {
        created.push(app.create_item(name).await);
    }
    let ids: Vec<i64> = created.iter().map(id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let positions: Vec<i64> = created.iter().map(position_of).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_get_distinct_ids_and_all_are_listed() {
    let app = TestApp::spawn().await;
    let bodies: Vec<Value> = (0..20)
        .map(|n| json!({"name": format!("item {n}")}))
        .collect();
    let responses = join_all(bodies.iter().map(|b| app.post("/api/v1/items", b))).await;
    let mut ids = Vec::new();
    let mut last = 0;
    for response in responses {
        last = last.max(position(&response));
        ids.push(id(&json(response, StatusCode::CREATED).await["data"]));
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    assert_eq!(app.list_at("size=100", last).await["total"], 20);
    app.stop().await;
}

#[tokio::test]
async fn updating_replaces_the_fields_and_answers_200_with_the_next_version() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let body = json!({"name": "desk", "description": "oak"});
    let response = app.put(&item_path(id(&created)), &body).await;
    assert_eq!(header(&response, "etag"), "\"2\"");
    assert!(response.headers().get("location").is_none());
    let at = position(&response);
    let data = json(response, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (&data["name"], &data["description"], &data["version"]),
        (&json!("desk"), &json!("oak"), &json!(2))
    );
    assert_eq!(data["position"], at);
    assert!(at > position_of(&created));
    app.stop().await;
}

#[tokio::test]
async fn updating_with_a_fresh_if_match_succeeds() {
    let app = TestApp::spawn().await;
    let path = item_path(id(&app.create_item("lamp").await));
    let response = app
        .put_if_match(&path, &json!({"name": "desk"}), "\"1\"")
        .await;
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 2);
    let response = app
        .put_if_match(&path, &json!({"name": "bed"}), "\"2\"")
        .await;
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 3);
    app.stop().await;
}

#[tokio::test]
async fn updating_with_a_stale_if_match_is_a_conflict_naming_the_current_version() {
    let app = TestApp::spawn().await;
    let item = id(&app.create_item("lamp").await);
    app.update_item(item, "desk").await;
    let response = app
        .put_if_match(&item_path(item), &json!({"name": "bed"}), "\"1\"")
        .await;
    let err = error(response, StatusCode::CONFLICT, "CONFLICT", "version 2").await;
    assert_eq!(err["details"]["current_version"], 2);
    assert_eq!(err["details"]["expected_version"], 1);
    app.stop().await;
}

#[tokio::test]
async fn updating_with_if_match_star_succeeds_whatever_the_version() {
    let app = TestApp::spawn().await;
    let item = id(&app.create_item("lamp").await);
    app.update_item(item, "desk").await;
    let response = app
        .put_if_match(&item_path(item), &json!({"name": "bed"}), "*")
        .await;
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 3);
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_if_match_is_a_bad_request_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let path = item_path(id(&app.create_item("lamp").await));
    for if_match in ["abc", "\"0\"", "\"-1\"", "\"1\", \"2\"", "\"1.5\""] {
        let response = app
            .put_if_match(&path, &json!({"name": "x"}), if_match)
            .await;
        bad_request(response, "If-Match").await;
        let response = app.delete_if_match(&path, if_match).await;
        bad_request(response, "If-Match").await;
    }
    let response = app
        .put_if_match(&path, &json!({"name": "desk"}), "\"1\"")
        .await;
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 2);
    app.stop().await;
}

#[tokio::test]
async fn deleting_answers_204_with_a_position_and_no_body() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let response = app.delete(&item_path(id(&created))).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(position(&response) > position_of(&created));
    assert!(response.headers().get("etag").is_none());
    assert!(response.bytes().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn deleting_with_a_stale_if_match_is_a_conflict_and_keeps_the_item() {
    let app = TestApp::spawn().await;
    let item = id(&app.create_item("lamp").await);
    app.update_item(item, "desk").await;
    let response = app.delete_if_match(&item_path(item), "\"1\"").await;
    let err = error(response, StatusCode::CONFLICT, "CONFLICT", "stale").await;
    assert_eq!(err["details"]["current_version"], 2);
    let response = app.delete_if_match(&item_path(item), "\"2\"").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}

#[tokio::test]
async fn commands_on_an_unknown_item_are_not_found() {
    let app = TestApp::spawn().await;
    app.create_item("lamp").await;
    let response = app.put(&item_path(42), &json!({"name": "x"})).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no item with id 42",
    )
    .await;
    let response = app.delete(&item_path(42)).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no item with id 42",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn commands_on_a_deleted_item_are_not_found() {
    let app = TestApp::spawn().await;
    let item = id(&app.create_item("lamp").await);
    app.delete_item(item).await;
    let path = item_path(item);
    let message = format!("no item with id {item}");
    let response = app.put(&path, &json!({"name": "x"})).await;
    error(response, StatusCode::NOT_FOUND, "NOT_FOUND", &message).await;
    let response = app.put_if_match(&path, &json!({"name": "x"}), "*").await;
    error(response, StatusCode::NOT_FOUND, "NOT_FOUND", &message).await;
    let response = app.delete(&path).await;
    error(response, StatusCode::NOT_FOUND, "NOT_FOUND", &message).await;
    app.stop().await;
}

#[tokio::test]
async fn names_are_limited_to_100_characters_not_bytes() {
    let app = TestApp::spawn().await;
    let hundred = "가".repeat(100);
    assert_eq!(app.create_item(&hundred).await["name"], hundred.as_str());
    let response = app
        .post("/api/v1/items", &json!({"name": "가".repeat(101)}))
        .await;
    let err = unprocessable(response, "at most 100 characters, got 101").await;
    assert!(err["details"]["name"].is_string(), "{err}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_with_the_same_if_match_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let path = item_path(id(&app.create_item("lamp").await));
    let bodies: Vec<Value> = (0..12)
        .map(|n| json!({"name": format!("name {n}")}))
        .collect();
    let responses = join_all(bodies.iter().map(|b| app.put_if_match(&path, b, "\"1\""))).await;
    let mut won = 0;
    for response in responses {
        if response.status() == StatusCode::OK {
            won += 1;
            continue;
        }
        let err = error(response, StatusCode::CONFLICT, "CONFLICT", "version 2").await;
        assert_eq!(err["details"]["current_version"], 2, "{err}");
    }
    assert_eq!(won, 1);
    let response = app
        .put_if_match(&path, &json!({"name": "x"}), "\"2\"")
        .await;
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conflict_between_concurrent_updates_reports_both_versions_as_numbers() {
    let app = TestApp::spawn().await;
    let path = item_path(id(&app.create_item("lamp").await));
    let body = json!({"name": "desk"});
    // Every update reads version 1; all but one then lose at the append.
    let updates = join_all((0..4).map(|_| app.put_if_match(&path, &body, "\"1\"")));
    let responses = app.with_appends_held(updates).await;
    let (mut won, mut conflicts) = (0, 0);
    for response in responses {
        if response.status() == StatusCode::CONFLICT {
            conflicts += 1;
            let err = error(response, StatusCode::CONFLICT, "CONFLICT", "version 2").await;
            let versions = json!({"expected_version": 1, "current_version": 2});
            assert_eq!(err["details"], versions, "{err}");
        } else {
            won += 1;
            let winner = json(response, StatusCode::OK).await;
            assert_eq!(winner["data"]["version"], 2, "{winner}");
        }
    }
    assert_eq!((won, conflicts), (1, 3));
    app.stop().await;
}
