//! Appending with an expected version, reading back, idempotency keys.

mod common;

use common::{append_one, event, request, with_key};
use event_log::testing::TestDatabase;
use event_store::{AppendError, AppendRequest, EventStore, ExpectedVersion, Numbered};
use futures::future::join_all;

#[tokio::test]
async fn appended_events_get_consecutive_versions_and_gapless_positions() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let first = store
        .append(request(
            "s-1",
            ExpectedVersion::NoStream,
            vec![event("items", 1), event("items", 2)],
        ))
        .await
        .unwrap();
    assert_eq!((first.first_version, first.last_version), (1, 2));
    assert_eq!((first.first_position, first.last_position), (1, 2));
    let second = store
        .append(request(
            "s-1",
            ExpectedVersion::Exact(2),
            vec![event("items", 3)],
        ))
        .await
        .unwrap();
    assert_eq!((second.last_version, second.last_position), (3, 3));
    let stream = store.log().read_stream("s-1", None).await.unwrap();
    let versions: Vec<i64> = stream.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(stream[0].actor.as_deref(), Some("tester"));
    assert_eq!(
        store.log().read_stream("s-1", Some(2)).await.unwrap().len(),
        2
    );
    assert_eq!(store.log().head().await.unwrap(), 3);
    db.drop().await;
}

#[tokio::test]
async fn a_range_of_versions_and_the_last_event_of_each_stream_are_read() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let events = (1..=5).map(|n| event("items", n)).collect();
    store
        .append(request("s-1", ExpectedVersion::NoStream, events))
        .await
        .unwrap();
    append_one(&store, "s-2", "items", 1).await;
    let middle = store.log().read_versions("s-1", 2..=4).await.unwrap();
    let versions: Vec<i64> = middle.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [2, 3, 4]);
    let streams = ["s-1", "s-2", "absent"].map(String::from);
    let mut last: Vec<(String, i64)> = store
        .log()
        .last_events(&streams)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.stream_id, e.stream_version))
        .collect();
    last.sort();
    assert_eq!(last, [("s-1".to_owned(), 5), ("s-2".to_owned(), 1)]);
    db.drop().await;
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_naming_the_current_version() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    append_one(&store, "s-1", "items", 1).await;
    let err = store
        .append(request(
            "s-1",
            ExpectedVersion::NoStream,
            vec![event("items", 2)],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::Conflict { actual: 1, .. }),
        "{err:?}"
    );
    let err = store
        .append(request(
            "s-1",
            ExpectedVersion::Exact(5),
            vec![event("items", 2)],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::Conflict { actual: 1, .. }),
        "{err:?}"
    );
    assert_eq!(store.log().read_stream("s-1", None).await.unwrap().len(), 1);
    db.drop().await;
}

#[tokio::test]
async fn an_expected_version_on_a_missing_stream_is_a_conflict() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let err = store
        .append(request(
            "nobody",
            ExpectedVersion::Exact(1),
            vec![event("items", 1)],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::Conflict { actual: 0, .. }),
        "{err:?}"
    );
    db.drop().await;
}

#[tokio::test]
async fn of_concurrent_appends_expecting_one_version_exactly_one_wins() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    append_one(&store, "s-1", "items", 0).await;
    let attempts = (0..20).map(|n| {
        let store = store.clone();
        async move {
            store
                .append(request(
                    "s-1",
                    ExpectedVersion::Exact(1),
                    vec![event("items", n)],
                ))
                .await
        }
    });
    let results = join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(AppendError::Conflict { .. })))
        .count();
    assert_eq!((won, conflicts), (1, 19));
    assert_eq!(store.log().read_stream("s-1", None).await.unwrap().len(), 2);
    db.drop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_outcome() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let first_request = with_key(
        request("s-1", ExpectedVersion::NoStream, vec![event("items", 1)]),
        "k",
        "f",
    );
    let first = store.append(first_request.clone()).await.unwrap();
    let retry = store.append(first_request).await.unwrap();
    assert!(!first.replayed);
    assert!(retry.replayed);
    assert_eq!(retry.last_position, first.last_position);
    assert_eq!(store.log().head().await.unwrap(), 1);
    let (fingerprint, stream, outcome) = store.idempotent_outcome("k").await.unwrap().unwrap();
    assert_eq!((fingerprint.as_str(), stream.as_str()), ("f", "s-1"));
    assert_eq!(outcome.last_position, first.last_position);
    db.drop().await;
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_request_is_refused() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let first = with_key(
        request("s-1", ExpectedVersion::NoStream, vec![event("items", 1)]),
        "k",
        "f1",
    );
    store.append(first).await.unwrap();
    let other = with_key(
        request("s-2", ExpectedVersion::NoStream, vec![event("items", 2)]),
        "k",
        "f2",
    );
    let err = store.append(other).await.unwrap_err();
    assert!(matches!(err, AppendError::IdempotencyKeyReused));
    db.drop().await;
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_append_once() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let retries = (0..10).map(|n| {
        let store = store.clone();
        // Each retry targets a fresh stream, as a create with a newly allocated id would.
        let request = with_key(
            request(
                &format!("s-{n}"),
                ExpectedVersion::NoStream,
                vec![event("items", n)],
            ),
            "k",
            "f",
        );
        async move { store.append(request).await.unwrap() }
    });
    let outcomes = join_all(retries).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o.last_position == outcomes[0].last_position)
    );
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert_eq!(store.log().head().await.unwrap(), 1);
    db.drop().await;
}

#[tokio::test]
async fn a_request_the_database_rejects_does_not_fail_the_others_committed_with_it() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let mut poisoned = event("items", 0);
    // PostgreSQL's jsonb cannot hold a NUL character.
    poisoned.data = serde_json::json!({ "name": "\u{0000}" });
    let mut requests: Vec<_> = (1..=30)
        .map(|n| {
            request(
                &format!("s-{n}"),
                ExpectedVersion::NoStream,
                vec![event("items", n)],
            )
        })
        .collect();
    requests.insert(
        15,
        request("poison", ExpectedVersion::NoStream, vec![poisoned]),
    );
    let results = join_all(requests.into_iter().map(|r| {
        let store = store.clone();
        async move { store.append(r).await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(results[15].is_err());
    assert_eq!(store.log().head().await.unwrap(), 30);
    db.drop().await;
}

#[tokio::test]
async fn numbered_streams_get_their_numbers_in_commit_order_written_into_their_events() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let numbered = Numbered {
        sequence: "item_ids",
        stream_prefix: "numbered-",
        field: "id",
    };
    let creations = (0..40).map(|n| {
        let store = store.clone();
        let request = AppendRequest::numbered(
            numbered,
            vec![event("items", 0), event("items", 0)],
            request("", ExpectedVersion::NoStream, Vec::new()).metadata,
        );
        let request = if n % 2 == 0 {
            with_key(request, &format!("k{n}"), "f")
        } else {
            request
        };
        async move { store.append(request).await.unwrap() }
    });
    let mut outcomes = join_all(creations).await;
    outcomes.sort_by_key(|o| o.first_position);
    let numbers: Vec<i64> = outcomes.iter().map(|o| o.number.unwrap()).collect();
    assert_eq!(
        numbers,
        (1..=40).collect::<Vec<_>>(),
        "numbers follow positions"
    );
    for outcome in &outcomes {
        let number = outcome.number.unwrap();
        let stream = store
            .log()
            .read_stream(&format!("numbered-{number}"), None)
            .await
            .unwrap();
        assert_eq!(stream.len(), 2);
        assert!(stream.iter().all(|e| e.data["id"] == number));
        assert_eq!(stream[0].position, outcome.first_position);
    }
    db.drop().await;
}

#[tokio::test]
async fn concurrent_appends_to_one_stream_at_any_version_get_consecutive_versions() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let appends = (0..30).map(|n| {
        let store = store.clone();
        async move {
            store
                .append(request(
                    "s-1",
                    ExpectedVersion::Any,
                    vec![event("items", n)],
                ))
                .await
                .unwrap()
        }
    });
    let mut versions: Vec<i64> = join_all(appends)
        .await
        .iter()
        .map(|o| o.last_version)
        .collect();
    versions.sort();
    assert_eq!(versions, (1..=30).collect::<Vec<_>>());
    let stream = store.log().read_stream("s-1", None).await.unwrap();
    assert!(stream.windows(2).all(|w| w[0].position < w[1].position));
    db.drop().await;
}

#[tokio::test]
async fn an_append_to_several_streams_writes_all_of_them_or_none() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    append_one(&store, "taken", "items", 0).await;
    let refused = store
        .append_all(vec![
            request("fresh", ExpectedVersion::NoStream, vec![event("items", 1)]),
            request("taken", ExpectedVersion::NoStream, vec![event("items", 2)]),
        ])
        .await
        .unwrap_err();
    match refused {
        AppendError::Conflict {
            stream_id, actual, ..
        } => assert_eq!((stream_id.as_str(), actual), ("taken", 1)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        store
            .log()
            .read_stream("fresh", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.log().head().await.unwrap(), 1);
    let appended = store
        .append_all(vec![
            request("fresh", ExpectedVersion::NoStream, vec![event("items", 1)]),
            request("taken", ExpectedVersion::Exact(1), vec![event("items", 2)]),
        ])
        .await
        .unwrap();
    let positions: Vec<(i64, i64)> = appended
        .iter()
        .map(|a| (a.last_position, a.last_version))
        .collect();
    assert_eq!(positions, [(2, 1), (3, 2)]);
    db.drop().await;
}

#[tokio::test]
async fn of_concurrent_appends_claiming_one_stream_exactly_one_is_written_whole() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let claims = (0..20).map(|n| {
        let store = store.clone();
        async move {
            store
                .append_all(vec![
                    request("claim", ExpectedVersion::NoStream, vec![event("items", n)]),
                    request(
                        &format!("owner-{n}"),
                        ExpectedVersion::NoStream,
                        vec![event("items", n)],
                    ),
                ])
                .await
        }
    });
    let results = join_all(claims).await;
    let winners: Vec<usize> = (0..20).filter(|&n| results[n].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for n in 0..20 {
        let owner = store
            .log()
            .read_stream(&format!("owner-{n}"), None)
            .await
            .unwrap();
        assert_eq!(owner.len(), usize::from(n == winners[0]));
    }
    assert_eq!(store.log().head().await.unwrap(), 2);
    db.drop().await;
}

#[tokio::test]
async fn only_the_first_request_of_an_append_to_several_streams_carries_a_key() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let err = store
        .append_all(vec![
            request("a", ExpectedVersion::NoStream, vec![event("items", 1)]),
            with_key(
                request("b", ExpectedVersion::NoStream, vec![event("items", 2)]),
                "k",
                "f",
            ),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Store(_)), "{err:?}");
    assert_eq!(store.log().head().await.unwrap(), 0);
    db.drop().await;
}

#[tokio::test]
async fn concurrent_retries_of_an_append_to_several_streams_append_it_once() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let numbers = Numbered {
        sequence: "item_ids",
        stream_prefix: "numbered-",
        field: "id",
    };
    let retries = (0..10).map(|n| {
        let store = store.clone();
        // A numbered creation counted on a stream of its owner, as a quota is.
        let created = AppendRequest::numbered(
            numbers,
            vec![event("items", n)],
            schemas::EventMetadata::default(),
        );
        let counted = request("owner", ExpectedVersion::Any, vec![event("items", n)]);
        async move {
            store
                .append_all(vec![with_key(created, "k", "f"), counted])
                .await
                .unwrap()
        }
    });
    let outcomes = join_all(retries).await;
    let fresh: Vec<_> = outcomes.iter().filter(|o| !o[0].replayed).collect();
    assert_eq!(fresh.len(), 1, "{outcomes:?}");
    assert_eq!(
        fresh[0].len(),
        2,
        "the appending request learns both streams"
    );
    for replayed in outcomes.iter().filter(|o| o[0].replayed) {
        assert_eq!(
            replayed.len(),
            1,
            "a retry learns where the first request landed"
        );
        assert_eq!(replayed[0].last_position, fresh[0][0].last_position);
    }
    assert_eq!(store.log().head().await.unwrap(), 2);
    let (_, stream, _) = store.idempotent_outcome("k").await.unwrap().unwrap();
    let number = fresh[0][0].number.unwrap();
    assert_eq!(stream, format!("numbered-{number}"));
    assert_eq!(
        store.log().read_stream("owner", None).await.unwrap().len(),
        1
    );
    db.drop().await;
}

/// What `append_batch` answers for one request: first and last version, first and last
/// position, the stream's actual version when refused, whether its own check failed.
type Placed = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
);

/// Calls the database side of a batch directly, so no retry can hide a failure: requests
/// alone (no group, no number, no key) on `streams` with `expected` versions (-1 any),
/// each of `events[i]` empty events.
async fn append_batch(
    pool: &sqlx::PgPool,
    streams: &[&str],
    expected: &[i64],
    events: &[i32],
) -> Result<Vec<Placed>, sqlx::Error> {
    let none = vec![None::<&str>; streams.len()];
    let owners: Vec<i32> = (1..)
        .zip(events)
        .flat_map(|(request, &n)| std::iter::repeat_n(request, n as usize))
        .collect();
    let count = owners.len();
    sqlx::query_as(
        "SELECT first_version, last_version, first_position, last_position, actual, conflict \
         FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, now())",
    )
    .bind(vec![None::<i32>; streams.len()])
    .bind(streams)
    .bind(expected)
    .bind(&none)
    .bind(&none)
    .bind(events)
    .bind(vec!["c"; streams.len()])
    .bind(&none)
    .bind(&none)
    .bind(&none)
    .bind(&owners)
    .bind((0..count).map(|_| uuid::Uuid::now_v7()).collect::<Vec<_>>())
    .bind(vec!["items"; count])
    .bind(vec!["E"; count])
    .bind(vec![1_i32; count])
    .bind(vec!["{}"; count])
    .fetch_all(pool)
    .await
}

/// Appends at any version follow the accepted requests before them on their stream, and a
/// refused request moves neither its stream nor the log.
#[tokio::test]
async fn one_batch_appends_to_a_stream_several_times_at_any_version() {
    let db = TestDatabase::new().await;
    // x new, x any, y at a version it is not at (refused), x any, x any.
    let rows = append_batch(
        &db.pool,
        &["x", "x", "y", "x", "x"],
        &[0, -1, 4, -1, -1],
        &[1, 2, 1, 1, 1],
    )
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (Some(1), Some(1), Some(1), Some(1), None, false),
            (Some(2), Some(3), Some(2), Some(3), None, false),
            (None, None, None, None, Some(0), true),
            (Some(4), Some(4), Some(4), Some(4), None, false),
            (Some(5), Some(5), Some(5), Some(5), None, false),
        ]
    );
    let store = EventStore::new(db.pool.clone());
    let versions: Vec<(i64, i64)> = store
        .log()
        .read_stream("x", None)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.position, e.stream_version))
        .collect();
    assert_eq!(versions, [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]);
    assert!(store.log().read_stream("y", None).await.unwrap().is_empty());
    assert_eq!(store.log().head().await.unwrap(), 5);
    db.drop().await;
}

/// A version check after another request on its stream in the same batch would be made
/// against a version the batch itself moves: such a batch is refused whole, unwritten.
#[tokio::test]
async fn a_batch_with_a_version_check_after_its_stream_was_appended_to_is_refused() {
    let db = TestDatabase::new().await;
    let refused = append_batch(&db.pool, &["x", "x"], &[-1, 0], &[1, 1]).await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("must be the first on its stream"),
    );
    let store = EventStore::new(db.pool.clone());
    assert_eq!(store.log().head().await.unwrap(), 0);
    db.drop().await;
}
