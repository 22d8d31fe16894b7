//! A statement that runs past `DATABASE_STATEMENT_TIMEOUT_MS` is cancelled, and its
//! request answers `503` with `Retry-After` (not a `500`): slow queries cannot hold every
//! connection.

use crate::support;

use reqwest::StatusCode;
use serde_json::json;
use support::{TestApp, error, header, json, position_of};

#[tokio::test]
async fn a_query_over_the_statement_timeout_answers_503_with_retry_after() {
    let app = TestApp::spawn_with(&["--database-statement-timeout-ms=300"]).await;
    let created = app.post("/api/v1/items", &json!({ "name": "Lamp" })).await;
    let at = position_of(&json(created, StatusCode::CREATED).await["data"]);
    json(app.get_at("/api/v1/items/1", at).await, StatusCode::OK).await;

    // A lock held elsewhere makes any read of the table wait past the timeout.
    let mut lock = app.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let slow = app.get("/api/v1/items?page=1&size=7").await;
    let retry_after: u64 = header(&slow, "retry-after").parse().unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    error(
        slow,
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        "briefly unavailable",
    )
    .await;

    // An item written meanwhile waits in the projector's batch, past the timeout; it is
    // readable once the lock is gone.
    let written = app.post("/api/v1/items", &json!({ "name": "Chair" })).await;
    let written = position_of(&json(written, StatusCode::CREATED).await["data"]);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    lock.rollback().await.unwrap();
    let page = json(
        app.get_at("/api/v1/items?page=1&size=7", written).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["data"]["total"], 2, "{page}");
    app.stop().await;
}
