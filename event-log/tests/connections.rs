//! The settings every connection of the platform is opened with.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

use event_log::{database, testing::TestDatabase};
use sqlx::PgPool;

async fn jit(pool: &PgPool) -> String {
    sqlx::query_scalar("SHOW jit")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn connections_run_without_jit_compilation() {
    let db = TestDatabase::new().await;
    assert_eq!(jit(&db.pool).await, "off");
    // A second pool built from the first one's options, as the log readers' pool is.
    let readers = database::connect_with((*db.pool.connect_options()).clone(), 1)
        .await
        .unwrap();
    assert_eq!(jit(&readers).await, "off");
    readers.close().await;
    db.drop().await;
}

#[tokio::test]
async fn a_jit_setting_in_the_database_url_wins() {
    let db = TestDatabase::new().await;
    let pool = database::connect(&format!("{}?options=-c%20jit%3Don", db.url), 1)
        .await
        .unwrap();
    assert_eq!(jit(&pool).await, "on");
    pool.close().await;
    db.drop().await;
}

/// Whether a plan (EXPLAIN's JSON) holds a node of the given type.
fn has_node(plan: &serde_json::Value, node_type: &str) -> bool {
    plan["Node Type"] == node_type
        || plan["Plans"]
            .as_array()
            .is_some_and(|plans| plans.iter().any(|child| has_node(child, node_type)))
}

#[tokio::test]
async fn log_readers_walk_the_position_index_over_a_backlog_their_plan_predates() {
    let db = TestDatabase::new().await;
    let readers = database::log_readers(&db.pool, 1).await.unwrap();
    let mut reader = readers.acquire().await.unwrap();
    // Planned, once and for all, while the log is empty.
    sqlx::raw_sql(
        "PREPARE next_events(bigint) AS \
         SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT 500; \
         EXECUTE next_events(0)",
    )
    .execute(&mut *reader)
    .await
    .unwrap();
    // A bulk load the statistics do not know of.
    sqlx::query(
        "INSERT INTO events (position, stream_id, stream_version, event_id, context, \
             event_type, schema_version, occurred_at, correlation_id, data) \
         SELECT n, 'bulk-' || n, 1, gen_random_uuid(), 'items', 'ItemCreated', 1, now(), \
             'bulk', '{}' \
         FROM generate_series(1, 100000) AS n",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let (plan,): (serde_json::Value,) =
        sqlx::query_as("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE next_events(0)")
            .fetch_one(&mut *reader)
            .await
            .unwrap();
    let plan = &plan[0]["Plan"];
    assert!(has_node(plan, "Index Scan"), "{plan:#}");
    for wasteful in ["Sort", "Bitmap Heap Scan", "Seq Scan"] {
        assert!(!has_node(plan, wasteful), "{wasteful} in {plan:#}");
    }
    drop(reader);
    readers.close().await;
    db.drop().await;
}
