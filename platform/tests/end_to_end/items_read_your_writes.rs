//! Read-your-writes: a query with `X-Min-Position` reflects that write, through the cache,
//! or says why it cannot (400 for a position never written, 504 when the read model is
//! too slow).

use crate::support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, bad_request, error, header, id, item_path, json, names, position_of};

/// Keeps reading `path` without `X-Min-Position` (filling the cache with whatever is
/// current) until the returned flag is set.
fn keep_reading(app: &TestApp, path: &str) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let (client, url, done) = (
        app.client.clone(),
        format!("{}{path}", app.base),
        stop.clone(),
    );
    tokio::spawn(async move {
        while !done.load(Ordering::Relaxed) {
            if let Ok(response) = client.get(&url).send().await {
                let _ = response.bytes().await;
            }
        }
    });
    stop
}

#[tokio::test]
async fn reading_at_the_position_of_an_update_never_returns_the_cached_old_item() {
    let app = TestApp::spawn().await;
    let created = app.create_item("v1").await;
    let path = item_path(id(&created));
    let mut at = position_of(&created);
    for round in 2..=21 {
        // Read (and cache) the current version, then change it and read at the change.
        json(app.get_at(&path, at).await, StatusCode::OK).await;
        let updated = app.update_item(id(&created), &format!("v{round}")).await;
        at = position_of(&updated);
        let response = app.get_at(&path, at).await;
        assert_eq!(header(&response, "etag"), format!("\"{round}\""));
        let data = json(response, StatusCode::OK).await["data"].clone();
        assert_eq!(
            (&data["name"], &data["version"]),
            (&json!(format!("v{round}")), &json!(round))
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn reading_a_list_at_the_position_of_a_write_never_returns_the_cached_old_page() {
    let app = TestApp::spawn().await;
    let first = app.create_item("item 1").await;
    let mut at = position_of(&first);
    for round in 2..=21 {
        app.list_at("size=100", at).await;
        // Alternate creations (the total changes) and renames (a row changes).
        let expected = if round % 2 == 0 {
            at = position_of(&app.create_item(&format!("item {round}")).await);
            format!("item {round}")
        } else {
            at = position_of(&app.update_item(1, &format!("first {round}")).await);
            format!("first {round}")
        };
        let data = app.list_at("size=100", at).await;
        let listed = names(&data);
        assert!(listed.contains(&expected), "round {round}: {listed:?}");
        assert_eq!(data["total"], json!(1 + round / 2));
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn old_items_cached_by_concurrent_readers_are_never_served_at_a_later_position() {
    let app = TestApp::spawn().await;
    let created = app.create_item("v1").await;
    let path = item_path(id(&created));
    json(
        app.get_at(&path, position_of(&created)).await,
        StatusCode::OK,
    )
    .await;
    let readers: Vec<_> = (0..4).map(|_| keep_reading(&app, &path)).collect();
    for round in 2..=31 {
        let at = position_of(&app.update_item(1, &format!("v{round}")).await);
        let data = json(app.get_at(&path, at).await, StatusCode::OK).await;
        assert_eq!(data["data"]["version"], round, "{data}");
    }
    readers
        .iter()
        .for_each(|stop| stop.store(true, Ordering::Relaxed));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn old_pages_cached_by_concurrent_readers_are_never_served_at_a_later_position() {
    let app = TestApp::spawn().await;
    let created = app.create_item("v1").await;
    app.list_at("", position_of(&created)).await;
    let readers: Vec<_> = (0..4)
        .map(|_| keep_reading(&app, "/api/v1/items"))
        .collect();
    for round in 2..=31 {
        let at = position_of(&app.update_item(1, &format!("v{round}")).await);
        let page = app.list_at("", at).await;
        assert_eq!(page["items"][0]["version"], round, "{page}");
    }
    readers
        .iter()
        .for_each(|stop| stop.store(true, Ordering::Relaxed));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_each_read_their_own_write() {
    let app = TestApp::spawn().await;
    let mut at = 0;
    for n in 1..=8 {
        at = position_of(&app.create_item(&format!("item {n}")).await);
    }
    app.list_at("size=100", at).await;
    let shared = &app;
    let rounds = (1..=8).map(|item| async move {
        let app = shared;
        let path = item_path(item);
        json(app.get_at(&path, at).await, StatusCode::OK).await;
        let updated = app.update_item(item, &format!("renamed {item}")).await;
        let at = position_of(&updated);
        let read = json(app.get_at(&path, at).await, StatusCode::OK).await;
        assert_eq!(read["data"]["name"], json!(format!("renamed {item}")));
        let page = app.list_at("size=100", at).await;
        assert!(names(&page).contains(&format!("renamed {item}")), "{page}");
    });
    futures::future::join_all(rounds).await;
    app.stop().await;
}

#[tokio::test]
async fn reading_at_the_position_of_a_deletion_no_longer_finds_the_cached_item() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let path = item_path(id(&created));
    let at = position_of(&created);
    json(app.get_at(&path, at).await, StatusCode::OK).await;
    app.list_at("", at).await;
    let deleted = app.delete_item(id(&created)).await;
    let response = app.get_at(&path, deleted).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no item with id 1",
    )
    .await;
    assert_eq!(app.list_at("", deleted).await["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn a_min_position_beyond_the_end_of_the_log_is_a_bad_request_at_once() {
    let app = TestApp::spawn().await;
    let head = position_of(&app.create_item("lamp").await);
    for path in ["/api/v1/items", "/api/v1/items/1"] {
        let started = Instant::now();
        let response = app.get_at(path, head + 1).await;
        let message = format!("position {} has not been written", head + 1);
        let err = bad_request(response, &message).await;
        assert_eq!(err["details"]["log_position"], head);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_min_position_that_is_not_a_non_negative_integer_is_a_bad_request() {
    let app = TestApp::spawn().await;
    app.create_item("lamp").await;
    for value in ["abc", "-1", "1.5", "", "9223372036854775808"] {
        for path in ["/api/v1/items", "/api/v1/items/1"] {
            let response = app
                .request(Method::GET, path)
                .header("X-Min-Position", value)
                .send()
                .await
                .unwrap();
            let message = "X-Min-Position must be a non-negative integer";
            bad_request(response, message).await;
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_read_model_that_does_not_reach_the_position_in_time_is_a_gateway_timeout() {
    let app = TestApp::spawn_with(&["--read-wait-timeout-ms=300"]).await;
    let created = app.create_item("lamp").await;
    let path = item_path(id(&created));
    read_once_caught_up(&app, &path, position_of(&created)).await;
    // Hold the read-model row so the projector cannot apply the update yet.
    let mut blocker = app.db.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM items WHERE id = 1 FOR UPDATE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let at = position_of(&app.update_item(1, "desk").await);
    let response = app.get_at(&path, at).await;
    let message = format!("has not reached position {at} within 300 ms");
    let err = error(response, StatusCode::GATEWAY_TIMEOUT, "TIMEOUT", &message).await;
    assert_eq!(err["details"]["min_position"], at);
    blocker.rollback().await.unwrap();
    let data = read_once_caught_up(&app, &path, at).await;
    assert_eq!(data["data"]["name"], "desk");
    app.stop().await;
}

/// Reads at `position`, retrying while the short wait times out (consumers may still be
/// joining their groups when the transport is Kafka).
async fn read_once_caught_up(app: &TestApp, path: &str, position: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = app.get_at(path, position).await;
        if response.status() != StatusCode::GATEWAY_TIMEOUT || Instant::now() > deadline {
            return json(response, StatusCode::OK).await;
        }
    }
}
