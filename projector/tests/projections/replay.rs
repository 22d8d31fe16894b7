//! Rebuilding a projection: the old tables serve until the new ones have caught up,
//! then the swap is atomic and the live runner carries on from the rebuilt position.

use crate::common;

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
};

use common::{caught_up, head, read_model, write_histories};
use event_log::{subscription::EventSource, testing::TestDatabase};
use event_store::EventStore;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_swaps_in_complete_tables_while_the_old_ones_keep_serving() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let mut expected = write_histories(&store, 1..2001, 2).await;
    let stop = CancellationToken::new();
    let runners =
        projector::app::spawn_projections(&db.pool, &EventSource::log(&db.pool), "g", &stop);
    caught_up(&db.pool, "items").await;
    let serving = read_model(&db.pool).await.len() as i64;

    // Readers watch the live table throughout the replay; writers keep appending.
    let done = Arc::new(AtomicBool::new(false));
    let fewest = Arc::new(AtomicI64::new(i64::MAX));
    let watcher = tokio::spawn({
        let (pool, done, fewest) = (db.pool.clone(), done.clone(), fewest.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                let count: i64 = sqlx::query_scalar("SELECT count(*) FROM items")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                fewest.fetch_min(count, Ordering::Relaxed);
            }
        }
    });
    let writer = tokio::spawn({
        let store = store.clone();
        async move { write_histories(&store, 2001..2301, 1).await }
    });
    let projection = projector::projections().remove(0);
    let replayed = projector::replay::replay(&db.pool, projection.as_ref())
        .await
        .unwrap();
    expected.extend(writer.await.unwrap());
    done.store(true, Ordering::Relaxed);
    watcher.await.unwrap();

    assert!(
        replayed.events >= 2000 * 3,
        "replayed only {} events",
        replayed.events
    );
    assert!(
        fewest.load(Ordering::Relaxed) >= serving,
        "half-built data was served"
    );
    caught_up(&db.pool, "items").await;
    assert_eq!(read_model(&db.pool).await, expected);
    stop.cancel();
    for runner in runners {
        runner.await.unwrap();
    }
    db.drop().await;
}

#[tokio::test]
async fn the_replay_command_reports_progress_and_the_rebuilt_position() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let expected = write_histories(&store, 1..301, 1).await;
    let output = Command::new(env!("CARGO_BIN_EXE_projector"))
        .args(["replay", "items"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let events = head(&db.pool).await;
    assert!(
        stdout.contains(&format!(
            "items: replayed {events} events; serving position {events}"
        )),
        "{stdout}"
    );
    // Not a terminal: plain progress lines rather than a bar.
    assert!(
        stderr.contains(&format!("replay items: {events}/{events} events (100%)")),
        "{stderr}"
    );
    assert_eq!(read_model(&db.pool).await, expected);
    db.drop().await;
}

#[tokio::test]
async fn replaying_an_unknown_projection_fails_with_a_clear_message() {
    let db = TestDatabase::new().await;
    let output = Command::new(env!("CARGO_BIN_EXE_projector"))
        .args(["replay", "nonsense"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no projection named \"nonsense\""),
        "{stderr}"
    );
    db.drop().await;
}
