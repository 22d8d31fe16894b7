//! Several processes appending to one database at once: each store here has a pool of its
//! own, as each process does. A store's writer serialises its own jobs, so only appends
//! from different stores meet at the log-head lock and the unique indexes behind it:
//! exactly one of them wins, and the others get the error (or the outcome) they would
//! have got one after another.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{append_one, event, request, with_key};
use event_log::{database, testing::TestDatabase};
use event_store::{AppendError, AppendRequest, Appended, EventStore, ExpectedVersion};
use tokio::sync::Barrier;

const PROCESSES: usize = 6;
/// Races repeated, each on fresh streams and keys, so that some overlap at the lock.
const ROUNDS: usize = 10;

/// One store per process, each on a pool of its own.
async fn stores(db: &TestDatabase) -> Vec<EventStore> {
    let mut stores = Vec::new();
    for _ in 0..PROCESSES {
        stores.push(EventStore::new(
            database::connect(&db.url, 2).await.unwrap(),
        ));
    }
    stores
}

/// Each store appends its own requests (`requests(process)`) at the same moment; the
/// outcomes in the order of the stores.
async fn race(
    stores: &[EventStore],
    requests: impl Fn(usize) -> Vec<AppendRequest>,
) -> Vec<Result<Vec<Appended>, AppendError>> {
    let start = Arc::new(Barrier::new(stores.len()));
    let tasks: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let (store, start, requests) = (store.clone(), start.clone(), requests(n));
            tokio::spawn(async move {
                start.wait().await;
                store.append_all(requests).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_processes_appending_at_one_expected_version_exactly_one_wins() {
    let db = TestDatabase::new().await;
    let stores = stores(&db).await;
    for round in 0..ROUNDS {
        let stream = format!("s-{round}");
        append_one(&stores[0], &stream, "items", 0).await;
        let outcomes = race(&stores, |n| {
            let events = vec![event("items", n as i64)];
            vec![request(&stream, ExpectedVersion::Exact(1), events)]
        })
        .await;
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        for outcome in outcomes.iter().filter(|o| o.is_err()) {
            assert!(
                matches!(outcome, Err(AppendError::Conflict { actual: 2, .. })),
                "round {round}: {outcome:?}"
            );
        }
        let events = stores[0].log().read_stream(&stream, None).await.unwrap();
        assert_eq!(events.len(), 2, "round {round}");
    }
    assert_eq!(stores[0].log().head().await.unwrap(), 2 * ROUNDS as i64);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_processes_retrying_with_one_idempotency_key_one_appends_and_all_learn_its_outcome() {
    let db = TestDatabase::new().await;
    let stores = stores(&db).await;
    for round in 0..ROUNDS {
        let key = format!("k-{round}");
        // Each retry targets a fresh stream, as a create with a newly allocated id would.
        let outcomes = race(&stores, |n| {
            let fresh = request(
                &format!("s-{round}-{n}"),
                ExpectedVersion::NoStream,
                vec![event("items", n as i64)],
            );
            vec![with_key(fresh, &key, "f")]
        })
        .await;
        let outcomes: Vec<Appended> = outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|err| panic!("round {round}: {err:?}"))
                    .remove(0)
            })
            .collect();
        let first: Vec<&Appended> = outcomes.iter().filter(|o| !o.replayed).collect();
        assert_eq!(first.len(), 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| o.last_position == first[0].last_position),
            "round {round}: {outcomes:?}"
        );
    }
    assert_eq!(stores[0].log().head().await.unwrap(), ROUNDS as i64);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_processes_claiming_one_email_address_exactly_one_registers() {
    let db = TestDatabase::new().await;
    let stores = stores(&db).await;
    for round in 0..ROUNDS {
        let claim = format!("email-{round}@example.com");
        // A registration: the address's claim and the account, all or nothing.
        let outcomes = race(&stores, |n| {
            vec![
                request(
                    &claim,
                    ExpectedVersion::NoStream,
                    vec![event("identity", 0)],
                ),
                request(
                    &format!("user-{round}-{n}"),
                    ExpectedVersion::NoStream,
                    vec![event("identity", n as i64)],
                ),
            ]
        })
        .await;
        let winners: Vec<usize> = (0..PROCESSES).filter(|&n| outcomes[n].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        for (n, outcome) in outcomes.iter().enumerate() {
            if n != winners[0] {
                assert!(
                    matches!(outcome, Err(AppendError::Conflict { stream_id, actual: 1, .. }) if *stream_id == claim),
                    "round {round}: {outcome:?}"
                );
            }
            let account = stores[0]
                .log()
                .read_stream(&format!("user-{round}-{n}"), None)
                .await
                .unwrap();
            assert_eq!(account.len(), usize::from(n == winners[0]), "round {round}");
        }
    }
    assert_eq!(stores[0].log().head().await.unwrap(), 2 * ROUNDS as i64);
    db.drop().await;
}
