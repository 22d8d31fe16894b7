//! Posts and comments end to end: writing, editing, deleting, listings, paging, search.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    error, header, json, position, position_of, unprocessable,
};

/// Writes a post as `account`; returns the `data` of the response.
async fn write(app: &TestApp, account: &Account, title: &str, content: &str) -> Value {
    let body = json!({ "title": title, "content": content });
    let response = app
        .send_as(Some(account), Method::POST, "/api/v1/posts", Some(&body))
        .await;
    json(response, StatusCode::CREATED).await["data"].clone()
}

/// Comments on post `id` as `account`; returns the `data` of the response.
async fn comment(app: &TestApp, account: &Account, id: i64, content: &str) -> Value {
    let path = format!("/api/v1/posts/{id}/comments");
    let body = json!({ "content": content });
    let response = app
        .send_as(Some(account), Method::POST, &path, Some(&body))
        .await;
    json(response, StatusCode::CREATED).await["data"].clone()
}

/// The `data` of a GET once the read models reflect `position`.
async fn read(app: &TestApp, path: &str, position: i64) -> Value {
    json(app.get_at(path, position).await, StatusCode::OK).await["data"].clone()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_post_is_written_read_in_full_and_listed_with_an_excerpt() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let content = format!("{}\n\nThe end.", "Long paragraph. ".repeat(40));
    let body = json!({ "title": "  Meetup  ", "content": content });
    let response = app
        .send_as(Some(&ada), Method::POST, "/api/v1/posts", Some(&body))
        .await;
    assert_eq!(header(&response, "location"), "/api/v1/posts/1");
    let at = position(&response);
    let data = json(response, StatusCode::CREATED).await["data"].clone();
    assert_eq!((&data["id"], &data["title"]), (&json!(1), &json!("Meetup")));
    assert_eq!(data["author_id"], ada.id.as_str());
    let post = read(&app, "/api/v1/posts/1", at).await;
    assert_eq!(post["content"], content.as_str());
    assert_eq!(post["comment_count"], 0);
    let page = read(&app, "/api/v1/posts", at).await;
    let listed = &page["items"][0];
    assert!(listed.get("content").is_none(), "listings carry no body");
    let excerpt = listed["excerpt"].as_str().unwrap();
    assert!(excerpt.starts_with("Long paragraph. Long"));
    assert!(excerpt.chars().count() <= 201, "{excerpt}");
    assert_eq!(page["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn posts_are_listed_newest_first_in_pages_and_filtered_by_author_and_title() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let mut at = 0;
    for n in 1..=5 {
        at = position_of(&write(&app, &ada, &format!("Ada's note {n}"), "text").await);
    }
    for n in 1..=2 {
        at = position_of(&write(&app, &bob, &format!("100% Bob {n}"), "text").await);
    }
    let first = read(&app, "/api/v1/posts?page=1&size=3", at).await;
    assert_eq!(ids(&first), vec![7, 6, 5]);
    assert_eq!(
        (&first["total"], &first["total_pages"]),
        (&json!(7), &json!(3))
    );
    let last = read(&app, "/api/v1/posts?page=3&size=3", at).await;
    assert_eq!(ids(&last), vec![1]);
    let adas = read(&app, &format!("/api/v1/posts?author_id={}", ada.id), at).await;
    assert_eq!(ids(&adas), vec![5, 4, 3, 2, 1]);
    let found = read(&app, "/api/v1/posts?q=NOTE%203", at).await;
    assert_eq!(ids(&found), vec![3]);
    // The search text is taken literally: % and _ are not wildcards.
    let literal = read(&app, "/api/v1/posts?q=100%25", at).await;
    assert_eq!(ids(&literal), vec![7, 6]);
    let none = read(&app, "/api/v1/posts?q=_", at).await;
    assert_eq!(none["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn invalid_posts_and_comments_are_refused_with_every_broken_rule() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let body = json!({ "title": "가".repeat(201), "content": "" });
    let response = app
        .send_as(Some(&ada), Method::POST, "/api/v1/posts", Some(&body))
        .await;
    let refused = unprocessable(response, "title must be at most 200 characters").await;
    assert_eq!(refused["details"]["fields"]["content"], "must not be empty");
    let body = json!({ "title": "t", "content": "x".repeat(20_001) });
    let response = app
        .send_as(Some(&ada), Method::POST, "/api/v1/posts", Some(&body))
        .await;
    unprocessable(response, "content must be at most 20000 characters").await;
    let post = write(&app, &ada, "t", "c").await;
    let path = format!("/api/v1/posts/{}/comments", post["id"]);
    let body = json!({ "content": "x".repeat(2001) });
    let response = app
        .send_as(Some(&ada), Method::POST, &path, Some(&body))
        .await;
    unprocessable(response, "content must be at most 2000 characters").await;
    let response = app
        .send_as(
            Some(&ada),
            Method::POST,
            "/api/v1/posts/999/comments",
            Some(&json!({ "content": "hi" })),
        )
        .await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no post with id 999",
    )
    .await;
    let response = app.get("/api/v1/posts?size=101").await;
    error(response, StatusCode::BAD_REQUEST, "INVALID_INPUT", "size").await;
    let response = app.get("/api/v1/posts?author_id=ada").await;
    error(
        response,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "author_id",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_edit_with_a_stale_if_match_is_refused_and_a_current_one_applies() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let post = write(&app, &ada, "v1", "one").await;
    let path = format!("/api/v1/posts/{}", post["id"]);
    let edit = |title: &'static str, if_match: &'static str| {
        app.as_user(Some(&ada), Method::PUT, &path)
            .header("If-Match", if_match)
            .json(&json!({ "title": title, "content": "two" }))
            .send()
    };
    let edited = json(edit("v2", "\"1\"").await.unwrap(), StatusCode::OK).await["data"].clone();
    assert_eq!(edited["version"], 2);
    let stale = edit("v3", "\"1\"").await.unwrap();
    let err = error(stale, StatusCode::CONFLICT, "CONFLICT", "stale").await;
    assert_eq!(err["details"]["current_version"], 2);
    let read = read(&app, &path, position_of(&edited)).await;
    assert_eq!(
        (&read["title"], &read["content"]),
        (&json!("v2"), &json!("two"))
    );
    app.stop().await;
}

#[tokio::test]
async fn comments_are_paged_oldest_first_and_counted_in_the_listing() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let post = write(&app, &ada, "Questions", "Ask away").await;
    let id = post["id"].as_i64().unwrap();
    let mut at = 0;
    let mut comment_ids = Vec::new();
    for n in 1..=5 {
        let who = if n % 2 == 0 { &ada } else { &bob };
        let data = comment(&app, who, id, &format!("comment {n}")).await;
        comment_ids.push(data["id"].as_i64().unwrap());
        at = position_of(&data);
    }
    let page = read(
        &app,
        &format!("/api/v1/posts/{id}/comments?size=2&page=2"),
        at,
    )
    .await;
    assert_eq!(ids(&page), comment_ids[2..4].to_vec());
    assert_eq!(page["total"], 5);
    let listing = read(&app, "/api/v1/posts", at).await;
    assert_eq!(listing["items"][0]["comment_count"], 5);
    let path = format!("/api/v1/posts/{id}/comments/{}", comment_ids[0]);
    let response = app.send_as(Some(&bob), Method::DELETE, &path, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let at = position(&response);
    let page = read(&app, &format!("/api/v1/posts/{id}/comments"), at).await;
    assert_eq!(ids(&page), comment_ids[1..].to_vec());
    assert_eq!(
        read(&app, &format!("/api/v1/posts/{id}"), at).await["comment_count"],
        4
    );
    let response = app.send_as(Some(&bob), Method::DELETE, &path, None).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such comment",
    )
    .await;
    let response = app.get_at("/api/v1/posts/999/comments", at).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no post with id 999",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_post_removes_it_and_its_comments_from_the_read_models() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let post = write(&app, &ada, "Soon gone", "text").await;
    let id = post["id"].as_i64().unwrap();
    for n in 0..3 {
        comment(&app, &bob, id, &format!("c{n}")).await;
    }
    let admin = app.admin().await;
    let response = app
        .send_as(
            Some(&admin),
            Method::DELETE,
            &format!("/api/v1/posts/{id}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let at = position(&response);
    let response = app.get_at(&format!("/api/v1/posts/{id}"), at).await;
    error(response, StatusCode::NOT_FOUND, "NOT_FOUND", "no post").await;
    assert_eq!(read(&app, "/api/v1/posts", at).await["total"], 0);
    let comments: i64 = sqlx::query_scalar("SELECT count(*) FROM comments")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(comments, 0);
    let body = json!({ "content": "too late" });
    let response = app
        .send_as(
            Some(&bob),
            Method::POST,
            &format!("/api/v1/posts/{id}/comments"),
            Some(&body),
        )
        .await;
    error(response, StatusCode::NOT_FOUND, "NOT_FOUND", "no post").await;
    app.stop().await;
}

#[tokio::test]
async fn a_post_listing_never_reads_post_bodies() {
    use query_api::board::queries::{PostListing, posts_query};
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    write(&app, &ada, "Title", "Body").await;
    let page = service_kit::paging::Page { page: 1, size: 20 };
    let author = uuid::Uuid::parse_str(&ada.id).unwrap();
    let listings = [
        PostListing {
            page,
            author: None,
            title: None,
        },
        PostListing {
            page,
            author: Some(author),
            title: None,
        },
        PostListing {
            page,
            author: None,
            title: Some("tit".into()),
        },
    ];
    let tables = |plan: Value| {
        plan.to_string()
            .contains("\"Relation Name\":\"post_bodies\"")
    };
    for listing in &listings {
        let plan: Value = posts_query("EXPLAIN (FORMAT JSON) ", "log", listing)
            .build_query_scalar()
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert!(!tables(plan.clone()), "{listing:?} reads bodies: {plan}");
    }
    // The check sees a body read when there is one.
    let detail: Value = sqlx::query_scalar("EXPLAIN (FORMAT JSON) SELECT content FROM post_bodies")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(tables(detail));
    app.stop().await;
}

#[tokio::test]
async fn warm_caches_reflect_edits_and_comments_at_their_positions() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let post = write(&app, &ada, "v1", "first").await;
    let id = post["id"].as_i64().unwrap();
    let mut at = position_of(&post);
    let paths = [
        "/api/v1/posts".to_owned(),
        format!("/api/v1/posts/{id}"),
        format!("/api/v1/posts/{id}/comments"),
    ];
    for round in 2..=6 {
        for path in &paths {
            for _ in 0..2 {
                read(&app, path, at).await;
            }
        }
        let body = json!({ "title": format!("v{round}"), "content": "changed" });
        let edit = app
            .send_as(Some(&ada), Method::PUT, &paths[1], Some(&body))
            .await;
        json(edit, StatusCode::OK).await;
        at = position_of(&comment(&app, &bob, id, &format!("c{round}")).await);
        let listing = read(&app, &paths[0], at).await;
        assert_eq!(listing["items"][0]["title"], format!("v{round}"));
        assert_eq!(listing["items"][0]["comment_count"], round - 1);
        assert_eq!(read(&app, &paths[1], at).await["version"], round);
        assert_eq!(read(&app, &paths[2], at).await["total"], round - 1);
    }
    app.stop().await;
}
