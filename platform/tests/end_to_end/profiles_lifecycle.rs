//! Profiles end to end: created, read with what they link, listed (one's own, paged),
//! updated under If-Match, retried under an Idempotency-Key, deleted.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, error, header, id, json, position, position_of, prompts::profile};

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_profile_is_created_read_updated_and_deleted_by_its_owner() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let book = app
        .create_book(&ada, "Richard Feynman", "Lectures on Physics")
        .await;
    let text = app.create_text(&ada, "Maxwell", "Four equations.").await;
    let body = profile("en", "  Physics ", 2, &[id(&book)], &[id(&text)]);
    let response = app
        .send_as(Some(&ada), Method::POST, "/api/v1/profiles", Some(&body))
        .await;
    assert_eq!(header(&response, "location"), "/api/v1/profiles/1");
    assert_eq!(header(&response, "etag"), "\"1\"");
    let at = position(&response);
    let created = json(response, StatusCode::CREATED).await["data"].clone();
    assert_eq!(created["description"], "No Description");
    assert_eq!(
        (&created["major"], &created["language"]),
        (&json!("Physics"), &json!("en"))
    );
    assert_eq!(created["ref_book_ids"], json!([id(&book)]));
    assert_eq!(created["position"], at);

    let view = app.read_as(&ada, "/api/v1/profiles/1", at).await;
    assert_eq!(view["understanding_level"], 2);
    assert_eq!(
        view["ref_books"],
        json!([{ "id": id(&book), "author": "Richard Feynman", "title": "Lectures on Physics" }])
    );
    assert_eq!(
        view["ref_data"],
        json!([{ "id": id(&text), "title": "Maxwell" }])
    );
    assert!(
        view["ref_data"][0].get("text").is_none(),
        "a profile shows no text"
    );

    let mut changed = profile("ko", "화학", 5, &[], &[id(&text)]);
    changed["description"] = json!("Exam revision");
    changed["only_references"] = json!(true);
    let response = app
        .as_user(Some(&ada), Method::PUT, "/api/v1/profiles/1")
        .header("If-Match", "\"1\"")
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "etag"), "\"2\"");
    let at = position(&response);
    let updated = json(response, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (&updated["version"], &updated["language"]),
        (&json!(2), &json!("ko"))
    );
    let view = app.read_as(&ada, "/api/v1/profiles/1", at).await;
    assert_eq!(view["description"], "Exam revision");
    assert_eq!(view["only_references"], true);
    assert_eq!(view["ref_books"], json!([]));

    let stale = app
        .as_user(Some(&ada), Method::PUT, "/api/v1/profiles/1")
        .header("If-Match", "\"1\"")
        .json(&changed)
        .send()
        .await
        .unwrap();
    let refused = error(
        stale,
        StatusCode::CONFLICT,
        "CONFLICT",
        "version 1 is stale",
    )
    .await;
    assert_eq!(refused["details"]["current_version"], 2);

    let response = app
        .as_user(Some(&ada), Method::DELETE, "/api/v1/profiles/1")
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let at = position(&response);
    let gone = app.get_as(Some(&ada), "/api/v1/profiles/1", at).await;
    error(
        gone,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no profile with id 1",
    )
    .await;
    let listed = app.read_as(&ada, "/api/v1/profiles", at).await;
    assert_eq!(listed["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn a_user_lists_their_own_profiles_newest_first_in_pages() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let mut at = 0;
    for n in 1..=3 {
        let body = profile("en", &format!("Major {n}"), 1, &[], &[]);
        at = position_of(&app.create_profile(&ada, &body).await);
    }
    let body = profile("en", "Bob's", 1, &[], &[]);
    let bobs = position_of(&app.create_profile(&bob, &body).await);
    let first = app
        .read_as(&ada, "/api/v1/profiles?page=1&size=2", at)
        .await;
    assert_eq!(ids(&first), [3, 2]);
    assert_eq!(
        (&first["total"], &first["total_pages"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(first["items"][0]["major"], "Major 3");
    let second = app
        .read_as(&ada, "/api/v1/profiles?page=2&size=2", at)
        .await;
    assert_eq!(ids(&second), [1]);
    let theirs = app.read_as(&bob, "/api/v1/profiles", bobs).await;
    assert_eq!(ids(&theirs), [4]);
    let bad = app
        .get_as(Some(&ada), "/api/v1/profiles?size=101", at)
        .await;
    error(
        bad,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "size must be",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_creation_retried_under_its_idempotency_key_creates_one_profile() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let body = profile("en", "Physics", 3, &[], &[]);
    let send = |body: Value| {
        app.as_user(Some(&ada), Method::POST, "/api/v1/profiles")
            .header("Idempotency-Key", "profile-1")
            .json(&body)
            .send()
    };
    let first = json(send(body.clone()).await.unwrap(), StatusCode::CREATED).await["data"].clone();
    let retry = json(send(body.clone()).await.unwrap(), StatusCode::CREATED).await["data"].clone();
    assert_eq!(
        retry, first,
        "the retry is answered as the first request was"
    );
    let listed = app
        .read_as(&ada, "/api/v1/profiles", position_of(&first))
        .await;
    assert_eq!(listed["total"], 1);
    let mut other = body;
    other["major"] = json!("Chemistry");
    let reused = send(other).await.unwrap();
    error(
        reused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "Idempotency-Key was already used",
    )
    .await;
    app.stop().await;
}
