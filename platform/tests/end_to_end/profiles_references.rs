//! Reference books and texts end to end: the owner's alone, listings of texts without
//! their text, and a deleted book or text gone from every profile that linked it, and
//! from its dialogue.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, error, header, id, json, position, prompts::profile};

#[tokio::test]
async fn books_and_texts_are_written_read_listed_and_deleted_by_their_owner() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    app.create_book(&ada, "Feynman", "Lectures").await;
    let response = app
        .send_as(
            Some(&ada),
            Method::POST,
            "/api/v1/ref-books",
            Some(&json!({ "author": " Griffiths ", "title": "Electrodynamics" })),
        )
        .await;
    assert_eq!(header(&response, "location"), "/api/v1/ref-books/2");
    let at = position(&response);
    let books = app.read_as(&ada, "/api/v1/ref-books", at).await;
    assert_eq!(books["total"], 2);
    assert_eq!(books["items"][0]["author"], "Griffiths");

    let body = "A long text\nover two lines.";
    let text = app.create_text(&ada, "Notes", body).await;
    let at = text["position"].as_i64().unwrap();
    let listed = app.read_as(&ada, "/api/v1/ref-data", at).await;
    let item = &listed["items"][0];
    assert_eq!(item["title"], "Notes");
    assert!(item.get("text").is_none(), "listings carry no text: {item}");
    let path = format!("/api/v1/ref-data/{}", id(&text));
    let whole = app.read_as(&ada, &path, at).await;
    assert_eq!(whole["text"], body);

    let response = app
        .as_user(Some(&ada), Method::PUT, &path)
        .header("If-Match", "\"1\"")
        .json(&json!({ "title": "Notes, revised", "text": "Shorter." }))
        .send()
        .await
        .unwrap();
    let at = position(&response);
    assert_eq!(json(response, StatusCode::OK).await["data"]["version"], 2);
    let revised = app.get_as(Some(&ada), &path, at).await;
    assert_eq!(header(&revised, "etag"), "\"2\"");
    assert_eq!(
        json(revised, StatusCode::OK).await["data"]["text"],
        "Shorter."
    );
    let unchanged = app
        .as_user(Some(&ada), Method::GET, &path)
        .header("If-None-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    let response = app
        .send_as(Some(&ada), Method::DELETE, "/api/v1/ref-books/1", None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let at = position(&response);
    let gone = app.get_as(Some(&ada), "/api/v1/ref-books/1", at).await;
    error(
        gone,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no reference book",
    )
    .await;
    let again = app
        .send_as(Some(&ada), Method::DELETE, "/api/v1/ref-books/1", None)
        .await;
    error(
        again,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no reference book",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_book_or_text_leaves_every_profile_that_linked_it_and_its_dialogue() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let kept = app.create_book(&ada, "Griffiths", "Electrodynamics").await;
    let dropped = app.create_book(&ada, "Feynman", "Lectures").await;
    let text = app.create_text(&ada, "Maxwell", "Four equations.").await;
    let links = profile("en", "Physics", 2, &[id(&dropped), id(&kept)], &[id(&text)]);
    let first = app.create_profile(&ada, &links).await;
    let second = app.create_profile(&ada, &links).await;
    let dialogue_path = format!("/api/v1/profiles/{}/dialogues", id(&first));
    let before = app
        .read_as(&ada, &dialogue_path, second["position"].as_i64().unwrap())
        .await;
    let said = before["scripts"].to_string();
    assert!(
        said.contains("Lectures by Feynman") && said.contains("Maxwell"),
        "{said}"
    );

    let path = format!("/api/v1/ref-books/{}", id(&dropped));
    let response = app.send_as(Some(&ada), Method::DELETE, &path, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let path = format!("/api/v1/ref-data/{}", id(&text));
    let response = app.send_as(Some(&ada), Method::DELETE, &path, None).await;
    let at = position(&response);

    for profile in [&first, &second] {
        let view = app
            .read_as(&ada, &format!("/api/v1/profiles/{}", id(profile)), at)
            .await;
        let books: Vec<&Value> = view["ref_books"].as_array().unwrap().iter().collect();
        assert_eq!(books.len(), 1, "{view}");
        assert_eq!(books[0]["id"], id(&kept));
        assert_eq!(view["ref_data"], json!([]));
        assert_eq!(view["version"], 1, "the profile itself did not change");
    }
    let listed = app.read_as(&ada, "/api/v1/profiles", at).await;
    assert_eq!(listed["items"][0]["ref_book_ids"], json!([id(&kept)]));
    let after = app.read_as(&ada, &dialogue_path, at).await;
    let said = after["scripts"].to_string();
    assert!(
        !said.contains("Feynman") && !said.contains("Maxwell"),
        "{said}"
    );
    assert!(said.contains("Electrodynamics by Griffiths"), "{said}");
    app.stop().await;
}
