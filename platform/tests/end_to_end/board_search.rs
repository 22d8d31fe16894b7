//! The title search of the board, which anyone may send: taken literally, served by the
//! trigram index, and counted no further than pages reach.

use crate::support;

use query_api::board::queries::{PostListing, posts_query};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service_kit::paging::{MAX_DEPTH, Page};
use support::{TestApp, accounts::Account, json, position_of};

/// Writes a post titled `title` as `account`; the position of the write.
async fn write(app: &TestApp, account: &Account, title: &str) -> i64 {
    let body = json!({ "title": title, "content": "Body" });
    let response = app
        .send_as(Some(account), Method::POST, "/api/v1/posts", Some(&body))
        .await;
    position_of(&json(response, StatusCode::CREATED).await["data"])
}

/// The titles a search finds, newest first.
async fn found(app: &TestApp, q: &str, position: i64) -> Vec<String> {
    let path = format!("/api/v1/posts?q={}", urlencode(q));
    let page = json(app.get_at(&path, position).await, StatusCode::OK).await["data"].clone();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["title"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

#[tokio::test]
async fn a_search_text_is_taken_literally_wildcards_and_all() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let mut at = 0;
    for title in [
        "100% Cotton",
        "100 cotton",
        "snake_case",
        "snakecase",
        r"C:\Temp",
    ] {
        at = write(&app, &ada, title).await;
    }
    assert_eq!(found(&app, "100%", at).await, ["100% Cotton"]);
    assert_eq!(
        found(&app, "COTTON", at).await,
        ["100 cotton", "100% Cotton"]
    );
    assert_eq!(found(&app, "e_c", at).await, ["snake_case"]);
    assert_eq!(found(&app, "%", at).await, ["100% Cotton"]);
    assert_eq!(found(&app, r"c:\t", at).await, [r"C:\Temp"]);
    assert!(found(&app, "_x", at).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_title_search_can_be_served_by_the_trigram_index() {
    let app = TestApp::spawn().await;
    let listing = PostListing {
        page: Page { page: 1, size: 20 },
        author: None,
        title: Some("cotton".into()),
    };
    // Few rows make a scan of the table cheapest: take it off the table to see whether
    // anything else can serve the search.
    let mut tx = app.db.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Value = posts_query("EXPLAIN (FORMAT JSON) ", "log", &listing)
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(
        plan.to_string()
            .contains("\"Index Name\":\"posts_title_trigrams\""),
        "{plan}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_search_matching_more_than_pages_reach_is_counted_as_at_least_that_many() {
    let app = TestApp::spawn().await;
    let rows = MAX_DEPTH + 50;
    sqlx::query(
        "INSERT INTO posts (post_id, author_id, title, excerpt, version, created_at, updated_at) \
         SELECT n, gen_random_uuid(), 'match ' || n, '', 1, now(), now() \
         FROM generate_series(1, $1) n",
    )
    .bind(rows)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let page = json(
        app.get("/api/v1/posts?q=match&size=20").await,
        StatusCode::OK,
    )
    .await;
    let data = &page["data"];
    assert_eq!(data["total"], MAX_DEPTH + 1, "{data}");
    assert_eq!(data["total_at_least"], true, "{data}");
    assert_eq!(data["items"][0]["title"], format!("match {rows}"));
    let few = json(
        app.get("/api/v1/posts?q=match%2010049").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(few["data"]["total"], 1);
    assert!(few["data"].get("total_at_least").is_none(), "{few}");
    app.stop().await;
}
