//! Bad input to the prompts endpoints is refused in the error envelope, `422` naming each
//! broken field, never a `500`; and a profile links nothing but its owner's own books and
//! texts.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, accounts::Account, id, json, prompts::profile, unprocessable};

/// POSTs `body` to `path` as `account` and returns the `422`'s `details.fields`.
async fn refused(app: &TestApp, account: &Account, path: &str, body: &Value) -> Value {
    let response = app
        .send_as(Some(account), Method::POST, path, Some(body))
        .await;
    unprocessable(response, "").await["details"]["fields"].clone()
}

#[tokio::test]
async fn a_profile_breaking_every_rule_is_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let mut body = profile("fr", "", 6, &[2, 2], &[0]);
    body["description"] = json!("d".repeat(51));
    let fields = refused(&app, &ada, "/api/v1/profiles", &body).await;
    assert_eq!(fields["language"], "must be \"en\" or \"ko\", got \"fr\"");
    assert_eq!(fields["understanding_level"], "must be 0 to 5, got 6");
    assert_eq!(fields["major"], "must not be empty");
    assert_eq!(
        fields["description"],
        "must be at most 50 characters, got 51"
    );
    assert_eq!(fields["ref_book_ids[1]"], "lists 2 a second time");
    assert!(fields["ref_data_ids[0]"].is_string(), "{fields}");
    let below = profile("en", &"전".repeat(51), -1, &[], &[]);
    let fields = refused(&app, &ada, "/api/v1/profiles", &below).await;
    assert_eq!(fields["understanding_level"], "must be 0 to 5, got -1");
    assert_eq!(fields["major"], "must be at most 50 characters, got 51");
    let listed = app.read_as(&ada, "/api/v1/profiles", 0).await;
    assert_eq!(listed["total"], 0, "nothing was created");
    app.stop().await;
}

#[tokio::test]
async fn books_and_texts_over_their_limits_are_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let book = json!({ "author": " ", "title": "t".repeat(101) });
    let fields = refused(&app, &ada, "/api/v1/ref-books", &book).await;
    assert_eq!(fields["author"], "must not be empty");
    assert_eq!(fields["title"], "must be at most 100 characters, got 101");
    let text = json!({ "title": "Notes", "text": "가".repeat(3001) });
    let fields = refused(&app, &ada, "/api/v1/ref-data", &text).await;
    assert_eq!(fields["text"], "must be at most 3000 characters, got 3001");
    // Exactly at the limit, counted in characters, not bytes.
    app.create_text(&ada, "Notes", &"가".repeat(3000)).await;
    app.stop().await;
}

#[tokio::test]
async fn a_profile_links_only_its_owners_live_books_and_texts() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let own = app.create_book(&ada, "Feynman", "Lectures").await;
    let bobs_book = app.create_book(&bob, "Griffiths", "Electrodynamics").await;
    let bobs_text = app.create_text(&bob, "Bob's notes", "Private.").await;
    let deleted = app.create_book(&ada, "Gone", "Gone").await;
    let path = format!("/api/v1/ref-books/{}", id(&deleted));
    let response = app.send_as(Some(&ada), Method::DELETE, &path, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let body = profile(
        "en",
        "Physics",
        1,
        &[id(&own), id(&bobs_book), id(&deleted), 999],
        &[id(&bobs_text)],
    );
    let fields = refused(&app, &ada, "/api/v1/profiles", &body).await;
    assert!(fields.get("ref_book_ids[0]").is_none(), "{fields}");
    for field in ["ref_book_ids[1]", "ref_book_ids[2]", "ref_book_ids[3]"] {
        assert!(
            fields[field]
                .as_str()
                .unwrap()
                .starts_with("is no reference book of yours")
        );
    }
    assert_eq!(
        fields["ref_data_ids[0]"],
        format!("is no reference text of yours: {}", id(&bobs_text))
    );
    // The same refusal whether Bob's book exists or not: nothing is learnt of his.
    assert_eq!(
        fields["ref_book_ids[1]"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        fields["ref_book_ids[3]"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
    );
    let created = app
        .create_profile(&ada, &profile("en", "Physics", 1, &[id(&own)], &[]))
        .await;
    let changed = profile("en", "Physics", 1, &[id(&own), id(&bobs_book)], &[]);
    let path = format!("/api/v1/profiles/{}", id(&created));
    let response = app
        .send_as(Some(&ada), Method::PUT, &path, Some(&changed))
        .await;
    let fields = unprocessable(response, "ref_book_ids[1]").await["details"]["fields"].clone();
    assert!(fields["ref_book_ids[1]"].is_string());
    let at = created["position"].as_i64().unwrap();
    let listed = app.read_as(&ada, "/api/v1/profiles", at).await;
    assert_eq!(listed["total"], 1, "only the profile with its own book");
    app.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_refused_in_the_envelope_not_with_a_500() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let cases = [
        (
            json!({ "language": "en", "major": "M", "understanding_level": "three" }),
            "understanding_level",
        ),
        (
            json!({ "language": "en", "understanding_level": 1 }),
            "major",
        ),
        (
            json!({ "language": "en", "major": "M", "understanding_level": 1, "extra": 1 }),
            "extra",
        ),
        (
            json!({ "language": "en", "major": "M", "understanding_level": 2.5 }),
            "understanding_level",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .send_as(Some(&ada), Method::POST, "/api/v1/profiles", Some(&body))
            .await;
        let refused = json(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refused["error"]["code"], "INVALID_INPUT");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{message} names {field}");
    }
    let response = app
        .as_user(Some(&ada), Method::POST, "/api/v1/ref-data")
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    let refused = json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(refused["error"]["code"], "INVALID_INPUT");
    app.stop().await;
}
