//! The recorder against a real store: each error once, each issue opened once, also when
//! many arrive at the same time.

// Helpers unwrap too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use error_report::{
    grouping,
    recorder::{Recorded, Recorder},
};
use event_log::testing::TestDatabase;
use event_store::EventStore;
use schemas::{
    EventMetadata,
    errors::{
        ErrorLogged, ErrorsEvent, Exception, Level, Origin, error_stream_id, issue_id,
        issue_stream_id,
    },
};
use time::OffsetDateTime;
use uuid::Uuid;

fn error(project: i64, value: &str) -> ErrorLogged {
    let exceptions = vec![Exception {
        kind: Some("ValueError".into()),
        value: Some(value.into()),
        ..Exception::default()
    }];
    let fingerprint = grouping::fingerprint(None, &exceptions, None);
    ErrorLogged {
        event_id: Uuid::new_v4(),
        project,
        issue_id: issue_id(project, &fingerprint),
        fingerprint,
        level: Level::Error,
        title: grouping::title(&exceptions, None),
        culprit: None,
        message: None,
        exceptions,
        origin: Origin::Sdk {
            sdk: None,
            platform: None,
            server_name: None,
            logger: None,
        },
        request_id: None,
        release: None,
        environment: None,
        user: None,
        tags: BTreeMap::new(),
        extra: serde_json::Value::Null,
        count: 1,
        occurred_at: OffsetDateTime::now_utc(),
        received_at: OffsetDateTime::now_utc(),
    }
}

fn metadata() -> EventMetadata {
    EventMetadata {
        correlation_id: "req-1".into(),
        actor: None,
    }
}

async fn issue_events(store: &EventStore, issue: Uuid) -> Vec<ErrorsEvent> {
    let events = store
        .log()
        .read_stream(&issue_stream_id(issue), None)
        .await
        .unwrap();
    events.iter().map(|e| e.decode().unwrap()).collect()
}

#[tokio::test]
async fn the_first_error_opens_its_issue_and_the_next_only_joins_it() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let recorder = Recorder::new(store.clone());
    let first = error(1, "bad id 7");
    let second = error(1, "bad id 8");
    assert_eq!(first.issue_id, second.issue_id);

    let Recorded::Appended { position } = recorder.record(first.clone(), metadata()).await.unwrap()
    else {
        panic!("the first error is appended");
    };
    assert_eq!(position, 2, "the issue's opening and the error, one append");
    let opened = issue_events(&store, first.issue_id).await;
    let [ErrorsEvent::IssueOpened(opened)] = opened.as_slice() else {
        panic!("one IssueOpened, got {opened:?}");
    };
    assert_eq!(opened.first_event_id, first.event_id);
    assert_eq!(opened.title, "ValueError: bad id 7");

    // A recorder that has not seen the issue finds it in the store.
    let fresh = Recorder::new(store.clone());
    let outcome = fresh.record(second.clone(), metadata()).await.unwrap();
    assert_eq!(outcome, Recorded::Appended { position: 3 });
    assert_eq!(issue_events(&store, first.issue_id).await.len(), 1);
    let logged = store
        .log()
        .read_stream(&error_stream_id(1, second.event_id), None)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].actor, None);
    assert_eq!(logged[0].correlation_id, "req-1");
    let ErrorsEvent::ErrorLogged(decoded) = logged[0].decode().unwrap() else {
        panic!("an ErrorLogged");
    };
    assert_eq!(*decoded, second);
    db.drop().await;
}

#[tokio::test]
async fn an_error_sent_again_is_a_duplicate_and_appends_nothing() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let recorder = Recorder::new(store.clone());
    let report = error(2, "boom");
    recorder.record(report.clone(), metadata()).await.unwrap();
    let head = store.log().head().await.unwrap();
    assert_eq!(
        recorder.record(report.clone(), metadata()).await.unwrap(),
        Recorded::Duplicate
    );
    // A recorder that does not know the issue takes the path that opens it.
    let fresh = Recorder::new(store.clone());
    assert_eq!(
        fresh.record(report.clone(), metadata()).await.unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(store.log().head().await.unwrap(), head);
    db.drop().await;
}

#[tokio::test]
async fn many_errors_of_one_new_issue_at_once_open_it_once_and_are_all_recorded() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    // Separate recorders, as separate processes would be: none knows the issue.
    let recorders: Vec<Recorder> = (0..4).map(|_| Recorder::new(store.clone())).collect();
    let errors: Vec<ErrorLogged> = (0..20).map(|n| error(3, &format!("bad {n}"))).collect();
    let issue = errors[0].issue_id;
    let outcomes =
        futures::future::join_all(errors.iter().enumerate().map(|(n, e)| {
            recorders[n % recorders.len()].record_many(vec![(e.clone(), metadata())])
        }))
        .await;
    for outcome in outcomes.into_iter().flatten() {
        assert!(matches!(outcome.unwrap(), Recorded::Appended { .. }));
    }
    assert_eq!(issue_events(&store, issue).await.len(), 1);
    for e in &errors {
        let stream = error_stream_id(3, e.event_id);
        assert_eq!(
            store.log().read_stream(&stream, None).await.unwrap().len(),
            1
        );
    }
    // 20 errors and one issue opening.
    assert_eq!(store.log().head().await.unwrap(), 21);

    let again = recorders[0]
        .record_many(vec![
            (errors[0].clone(), metadata()),
            (error(3, "x 1"), metadata()),
        ])
        .await;
    let again: Vec<Recorded> = again.into_iter().map(Result::unwrap).collect();
    assert_eq!(again[0], Recorded::Duplicate);
    assert!(matches!(again[1], Recorded::Appended { .. }));
    db.drop().await;
}
