//! Conditions: an append that expects a stream at a version without writing to it, checked
//! under the head lock with every other version, whichever process moved the stream.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{append_one, event, request, with_key};
use event_log::testing::TestDatabase;
use event_store::{AppendError, AppendRequest, EventStore, ExpectedVersion};
use schemas::EventMetadata;

fn condition(stream: &str, version: i64) -> AppendRequest {
    let metadata = EventMetadata {
        correlation_id: "test".into(),
        actor: None,
    };
    AppendRequest::condition(stream, ExpectedVersion::Exact(version), metadata)
}

/// Sends `message-1` to the log if `room` is still at `version`.
async fn send_if_at(
    store: &EventStore,
    room: &str,
    version: i64,
) -> Result<Vec<event_store::Appended>, AppendError> {
    store
        .append_all(vec![
            request("messages-1", ExpectedVersion::Any, vec![event("chat", 1)]),
            condition(room, version),
        ])
        .await
}

#[tokio::test]
async fn a_condition_met_lets_the_append_through_and_writes_nothing_to_its_stream() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    append_one(&store, "room-1", "chat", 0).await;
    let appended = send_if_at(&store, "room-1", 1).await.unwrap();
    assert_eq!(
        (appended[0].last_version, appended[0].last_position),
        (1, 2)
    );
    assert_eq!(
        (appended[1].first_version, appended[1].last_version),
        (1, 1),
        "the condition names the version it found"
    );
    assert_eq!(
        store.log().read_stream("room-1", None).await.unwrap().len(),
        1
    );
    assert_eq!(store.log().head().await.unwrap(), 2);
    db.drop().await;
}

#[tokio::test]
async fn a_condition_on_a_stream_another_process_moved_refuses_the_whole_append() {
    let db = TestDatabase::new().await;
    let ours = EventStore::new(db.pool.clone());
    let theirs = EventStore::new(db.pool.clone());
    append_one(&ours, "room-1", "chat", 0).await;
    theirs
        .append(request(
            "room-1",
            ExpectedVersion::Exact(1),
            vec![event("chat", 2)],
        ))
        .await
        .unwrap();
    match send_if_at(&ours, "room-1", 1).await.unwrap_err() {
        AppendError::Conflict {
            stream_id,
            expected,
            actual,
        } => assert_eq!(
            (stream_id.as_str(), expected, actual),
            ("room-1", ExpectedVersion::Exact(1), 2)
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        ours.log()
            .read_stream("messages-1", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(ours.log().head().await.unwrap(), 2);
    db.drop().await;
}

/// The stream moves after the condition was asked for and before it commits: another
/// process appends while this one's append waits for the head lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_is_checked_when_the_append_commits_not_when_it_is_asked() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    append_one(&store, "room-1", "chat", 0).await;
    // Another process takes the head lock first ...
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query("SELECT last_position FROM event_log_head FOR UPDATE")
        .execute(&mut *other)
        .await
        .unwrap();
    let send = tokio::spawn({
        let store = store.clone();
        async move { send_if_at(&store, "room-1", 1).await }
    });
    wait_for_a_blocked_append(&db.pool).await;
    // ... and moves the room under it, committing before the waiting append.
    let moved: Option<i64> = sqlx::query_scalar(
        "SELECT last_version FROM append_batch(ARRAY[NULL]::int[], ARRAY['room-1'], \
         ARRAY[1::bigint], ARRAY[NULL], ARRAY[NULL], ARRAY[1], ARRAY['c'], ARRAY[NULL], \
         ARRAY[NULL], ARRAY[NULL], ARRAY[1], ARRAY[gen_random_uuid()], ARRAY['chat'], \
         ARRAY['MemberLeft'], ARRAY[1], ARRAY['{}'], now())",
    )
    .fetch_one(&mut *other)
    .await
    .unwrap();
    assert_eq!(moved, Some(2));
    other.commit().await.unwrap();
    let refused = send.await.unwrap().unwrap_err();
    assert!(
        matches!(&refused, AppendError::Conflict { stream_id, actual: 2, .. } if stream_id == "room-1"),
        "{refused:?}"
    );
    assert!(
        store
            .log()
            .read_stream("messages-1", None)
            .await
            .unwrap()
            .is_empty(),
        "nothing was sent after the room moved"
    );
    db.drop().await;
}

#[tokio::test]
async fn a_condition_cannot_carry_the_appends_idempotency_key() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let err = store
        .append_all(vec![
            with_key(condition("room-1", 1), "k", "f"),
            request("messages-1", ExpectedVersion::Any, vec![event("chat", 1)]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Store(_)), "{err:?}");
    db.drop().await;
}

/// Waits until an append of this database waits for the head lock.
async fn wait_for_a_blocked_append(pool: &sqlx::PgPool) {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                   AND wait_event_type = 'Lock' \
                   AND query LIKE '%append_batch%'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the append waits for the head lock");
}
