//! Reading items: paging and totals, and ETags with `If-None-Match`.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp, bad_request, error, header, id, item_path, json, names, position, position_of,
};

/// Creates `count` items named `item 1`, `item 2`, ... and returns the last position.
async fn create_items(app: &TestApp, count: usize) -> i64 {
    let mut last = 0;
    for n in 1..=count {
        last = position_of(&app.create_item(&format!("item {n}")).await);
    }
    last
}

fn item_names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("item {n}")).collect()
}

#[tokio::test]
async fn an_empty_list_has_no_items_and_no_pages() {
    let app = TestApp::spawn().await;
    let body = json(app.get("/api/v1/items").await, StatusCode::OK).await;
    assert_eq!(
        body,
        json!({"status": "ok", "data": {"items": [], "page": 1, "size": 20, "total": 0, "total_pages": 0}})
    );
    app.stop().await;
}

#[tokio::test]
async fn items_are_listed_by_id_in_pages_that_report_the_totals() {
    let app = TestApp::spawn().await;
    let at = create_items(&app, 25).await;
    for (page, range) in [(1, 1..=10), (2, 11..=20), (3, 21..=25)] {
        let data = app.list_at(&format!("page={page}&size=10"), at).await;
        assert_eq!(names(&data), item_names(range));
        assert_eq!((&data["page"], &data["size"]), (&json!(page), &json!(10)));
        assert_eq!(
            (&data["total"], &data["total_pages"]),
            (&json!(25), &json!(3))
        );
    }
    let first = app.list_at("size=10", at).await;
    let ids: Vec<i64> = first["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    app.stop().await;
}

#[tokio::test]
async fn a_listed_item_shows_every_field_of_the_read_model() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "lamp", "description": "warm"});
    let response = app.post("/api/v1/items", &body).await;
    let at = position(&response);
    let data = app.list_at("", at).await;
    let item = &data["items"][0];
    assert_eq!((&item["id"], &item["name"]), (&json!(1), &json!("lamp")));
    assert_eq!(
        (&item["description"], &item["version"]),
        (&json!("warm"), &json!(1))
    );
    assert!(
        item["created_at"].is_string() && item["updated_at"].is_string(),
        "{item}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_default_page_holds_twenty_items() {
    let app = TestApp::spawn().await;
    let at = create_items(&app, 25).await;
    let data = app.list_at("", at).await;
    assert_eq!(names(&data), item_names(1..=20));
    assert_eq!(
        (&data["size"], &data["total_pages"]),
        (&json!(20), &json!(2))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_page_beyond_the_end_is_empty_but_reports_the_total() {
    let app = TestApp::spawn().await;
    let at = create_items(&app, 25).await;
    let data = app.list_at("page=4&size=10", at).await;
    assert_eq!(data["items"], json!([]));
    assert_eq!(
        (&data["total"], &data["total_pages"]),
        (&json!(25), &json!(3))
    );
    let deepest = app.list_at("page=100&size=100", at).await;
    assert_eq!(
        (&deepest["items"], &deepest["total"]),
        (&json!([]), &json!(25))
    );
    app.stop().await;
}

#[tokio::test]
async fn page_sizes_of_1_and_100_are_the_bounds() {
    let app = TestApp::spawn().await;
    let at = create_items(&app, 3).await;
    let one = app.list_at("size=1&page=3", at).await;
    assert_eq!(
        (names(&one), &one["total_pages"]),
        (item_names(3..=3), &json!(3))
    );
    let hundred = app.list_at("size=100", at).await;
    assert_eq!(names(&hundred), item_names(1..=3));
    app.stop().await;
}

#[tokio::test]
async fn paging_parameters_out_of_range_or_not_numbers_are_bad_requests() {
    let app = TestApp::spawn().await;
    for (query, message) in [
        ("size=101", "size must be between 1 and 100"),
        ("size=0", "size must be between 1 and 100"),
        ("page=0", "page must be 1 or more"),
        ("page=abc", "page: invalid digit"),
        ("page=-1", "page: invalid digit"),
        ("size=1.5", "size: invalid digit"),
        ("page=4294967296", "page: number too large"),
        // No offset deeper than 10,000 rows: it would walk every row before it.
        (
            "page=4294967295&size=100",
            "page × size must be at most 10000",
        ),
        ("page=501", "page × size must be at most 10000"),
    ] {
        let response = app.get(&format!("/api/v1/items?{query}")).await;
        bad_request(response, message).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn deleted_items_leave_the_list_and_its_total() {
    let app = TestApp::spawn().await;
    create_items(&app, 3).await;
    let at = app.delete_item(2).await;
    let data = app.list_at("", at).await;
    assert_eq!(names(&data), ["item 1", "item 3"]);
    assert_eq!(data["total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn an_item_is_served_with_its_version_as_etag() {
    let app = TestApp::spawn().await;
    let item = id(&app.create_item("lamp").await);
    let at = position_of(&app.update_item(item, "desk").await);
    let response = app.get_at(&item_path(item), at).await;
    assert_eq!(header(&response, "etag"), "\"2\"");
    let data = json(response, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (&data["name"], &data["version"]),
        (&json!("desk"), &json!(2))
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_item_is_not_found() {
    let app = TestApp::spawn().await;
    let response = app.get(&item_path(7)).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no item with id 7",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_if_none_match_of_the_current_etag_is_not_modified() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let path = item_path(id(&created));
    json(
        app.get_at(&path, position_of(&created)).await,
        StatusCode::OK,
    )
    .await;
    let response = app.get_if_none_match(&path, "\"1\"").await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&response, "etag"), "\"1\"");
    assert!(response.bytes().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_if_none_match_of_an_older_version_gets_the_changed_item() {
    let app = TestApp::spawn().await;
    let item = id(&app.create_item("lamp").await);
    let at = position_of(&app.update_item(item, "desk").await);
    let response = app
        .request(Method::GET, &item_path(item))
        .header("If-None-Match", "\"1\"")
        .header("X-Min-Position", at)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "etag"), "\"2\"");
    assert_eq!(json(response, StatusCode::OK).await["data"]["name"], "desk");
    app.stop().await;
}

#[tokio::test]
async fn an_if_none_match_with_the_current_etag_weak_listed_or_starred_is_not_modified() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let path = item_path(id(&created));
    json(
        app.get_at(&path, position_of(&created)).await,
        StatusCode::OK,
    )
    .await;
    for if_none_match in ["W/\"1\"", "\"7\", \"1\"", "*"] {
        let response = app.get_if_none_match(&path, if_none_match).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {if_none_match}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_list_longer_than_pages_reach_is_counted_as_at_least_that_many() {
    let app = TestApp::spawn().await;
    let rows = service_kit::paging::MAX_DEPTH + 50;
    sqlx::query(
        "INSERT INTO items (id, name, description, version, created_at, updated_at) \
         SELECT n, 'item ' || n, '', 1, now(), now() FROM generate_series(1, $1) n",
    )
    .bind(rows)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let data = json(app.get("/api/v1/items?size=20").await, StatusCode::OK).await["data"].clone();
    assert_eq!(data["total"], service_kit::paging::MAX_DEPTH + 1, "{data}");
    assert_eq!(data["total_at_least"], true, "{data}");
    assert_eq!(data["items"][0]["name"], "item 1");
    app.stop().await;
}
