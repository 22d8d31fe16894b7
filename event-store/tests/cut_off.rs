//! An append that the database's going away cuts off mid-statement may have committed or
//! not. Every request it carried is told the database was unreachable, and the batch is
//! not run again: a blind retry could append a request twice (the client's retry under
//! its idempotency key settles it instead).

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{append_one, event, request};
use event_log::{StoreError, testing::TestDatabase};
use event_store::{AppendError, EventStore, ExpectedVersion};
use sqlx::PgPool;

#[tokio::test]
async fn a_batch_cut_off_mid_statement_is_answered_unreachable_and_not_run_again() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    append_one(&store, "before", "items", 1).await;
    // Appends wait inside `append_batch` while the log head is held.
    let mut head = db.pool.begin().await.unwrap();
    sqlx::query("SELECT last_position FROM event_log_head FOR UPDATE")
        .execute(&mut *head)
        .await
        .unwrap();
    let append = |stream: &str| {
        let (store, stream) = (store.clone(), stream.to_owned());
        tokio::spawn(async move {
            let events = vec![event("items", 1)];
            store
                .append(request(&stream, ExpectedVersion::NoStream, events))
                .await
        })
    };
    let first = append("first");
    let waiting = waiting_append(&db.pool, None).await;
    // Queued behind the first: together they are the next batch.
    let batch: Vec<_> = ["a", "b", "c"].into_iter().map(append).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    terminate(&db.pool, waiting).await;
    let waiting = waiting_append(&db.pool, Some(waiting)).await;
    terminate(&db.pool, waiting).await;
    head.rollback().await.unwrap();

    for outcome in std::iter::once(first).chain(batch) {
        let outcome = outcome.await.unwrap();
        assert!(
            matches!(outcome, Err(AppendError::Store(StoreError::Unreachable(_)))),
            "{outcome:?}"
        );
    }
    assert_eq!(store.log().head().await.unwrap(), 1, "a cut-off append ran");
    db.drop().await;
}

/// The backend of an append waiting on the log head (another than `not`).
async fn waiting_append(pool: &PgPool, not: Option<i32>) -> i32 {
    let started = Instant::now();
    loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%append_batch%' AND pid <> $1",
        )
        .bind(not.unwrap_or(0))
        .fetch_optional(pool)
        .await
        .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no append waits on the log head"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Ends a backend as a server shutting down does (`57P01`).
async fn terminate(pool: &PgPool, pid: i32) {
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(ended, "backend {pid} was not terminated");
}
