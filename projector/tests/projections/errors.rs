//! The errors projection: issues follow their errors and admins' actions (a resolved
//! issue that errs again regresses, a muted one stays muted), an issue ends the same
//! whether its first error or its opening came first, a replay rebuilds every table
//! exactly, and errors past their retention leave the read model but for each issue's
//! latest.

use crate::common::{Running, caught_up};

use std::collections::BTreeMap;

use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use schemas::{
    EventMetadata, NewEvent,
    errors::{
        self, AlertRules, AlertRulesChanged, ErrorLogged, ErrorsEvent, IssueMuted, IssueOpened,
        IssueReopened, IssueResolved, Level, Origin, ProjectCreated,
    },
};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const ADMIN: Uuid = Uuid::from_u128(9);

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

fn fingerprint(name: &str) -> Vec<String> {
    vec!["ValueError".into(), name.into()]
}

/// An error of the issue `name` of project 1, arrived at `at(t)`.
fn error(name: &str, t: i64, level: Level, user: Option<&str>, count: i64) -> ErrorsEvent {
    let fingerprint = fingerprint(name);
    ErrorsEvent::ErrorLogged(Box::new(ErrorLogged {
        event_id: Uuid::new_v4(),
        project: 1,
        issue_id: errors::issue_id(1, &fingerprint),
        fingerprint,
        level,
        title: format!("ValueError: {name} {t}"),
        culprit: Some(format!("app.{name}")),
        message: None,
        exceptions: Vec::new(),
        origin: Origin::Sdk {
            sdk: None,
            platform: Some("python".into()),
            server_name: None,
            logger: None,
        },
        request_id: None,
        release: Some(format!("1.{t}")),
        environment: Some("production".into()),
        user: user.map(Into::into),
        tags: BTreeMap::new(),
        extra: json!({}),
        count,
        occurred_at: at(t),
        received_at: at(t),
    }))
}

fn opened(name: &str, t: i64) -> ErrorsEvent {
    let fingerprint = fingerprint(name);
    ErrorsEvent::IssueOpened(IssueOpened {
        issue_id: errors::issue_id(1, &fingerprint),
        project: 1,
        fingerprint,
        title: format!("ValueError: {name}"),
        level: Level::Warning,
        first_event_id: Uuid::nil(),
        opened_at: at(t),
    })
}

fn issue(name: &str) -> Uuid {
    errors::issue_id(1, &fingerprint(name))
}

/// Appends `event` to its stream (errors each to their own), after what is there.
async fn append(store: &EventStore, event: ErrorsEvent) {
    let (stream, expected) = match &event {
        ErrorsEvent::ErrorLogged(e) => (
            errors::error_stream_id(e.project, e.event_id),
            ExpectedVersion::NoStream,
        ),
        ErrorsEvent::IssueOpened(e) => (errors::issue_stream_id(e.issue_id), ExpectedVersion::Any),
        ErrorsEvent::IssueResolved(e) => {
            (errors::issue_stream_id(e.issue_id), ExpectedVersion::Any)
        }
        ErrorsEvent::IssueMuted(e) => (errors::issue_stream_id(e.issue_id), ExpectedVersion::Any),
        ErrorsEvent::IssueReopened(e) => {
            (errors::issue_stream_id(e.issue_id), ExpectedVersion::Any)
        }
        ErrorsEvent::ProjectCreated(e) => {
            (errors::project_stream_id(e.project), ExpectedVersion::Any)
        }
        ErrorsEvent::AlertRulesChanged(e) => {
            (errors::project_stream_id(e.project), ExpectedVersion::Any)
        }
        other => panic!("no stream for {other:?}"),
    };
    store
        .append(AppendRequest::new(
            stream,
            expected,
            vec![NewEvent::from_domain(&event)],
            EventMetadata::default(),
        ))
        .await
        .expect("append");
}

fn resolved(name: &str) -> ErrorsEvent {
    ErrorsEvent::IssueResolved(IssueResolved {
        issue_id: issue(name),
        project: 1,
        by: ADMIN,
        resolved_at: at(100),
    })
}

fn muted(name: &str) -> ErrorsEvent {
    ErrorsEvent::IssueMuted(IssueMuted {
        issue_id: issue(name),
        project: 1,
        by: ADMIN,
        muted_at: at(200),
    })
}

fn reopened(name: &str) -> ErrorsEvent {
    ErrorsEvent::IssueReopened(IssueReopened {
        issue_id: issue(name),
        project: 1,
        by: ADMIN,
        reopened_at: at(300),
    })
}

/// An issue's row as JSON, without what says where it is in the log.
async fn row(pool: &PgPool, id: Uuid) -> Value {
    let mut row: Value = sqlx::query_scalar(
        "SELECT to_jsonb(i) - 'id' - 'version' - 'position' - 'last_event_id' \
         FROM error_issues i WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap();
    row["fingerprint"] = Value::Null;
    row
}

/// Every table of the projection, as JSON, in a stable order.
async fn tables(pool: &PgPool) -> Value {
    let mut all = serde_json::Map::new();
    for (table, order) in [
        ("error_projects", "id"),
        ("error_issues", "id"),
        ("error_issue_users", "issue, \"user\""),
        ("error_events", "project, event_id"),
        ("error_counts", "project, level, minute"),
    ] {
        let rows: Value = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY {order}), '[]') FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        all.insert(table.into(), rows);
    }
    Value::Object(all)
}

async fn project(store: &EventStore) {
    append(
        store,
        ErrorsEvent::ProjectCreated(ProjectCreated {
            project: 1,
            name: "shop".into(),
            public_key: "a".repeat(32),
            rate_limit_per_minute: 600,
            created_by: ADMIN,
            created_at: at(0),
        }),
    )
    .await;
}

#[tokio::test]
async fn issues_follow_their_errors_and_admins_and_a_replay_rebuilds_every_table() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    project(&store).await;
    append(&store, opened("a", 1)).await;
    append(&store, error("a", 1, Level::Warning, Some("ada"), 1)).await;
    append(&store, error("a", 2, Level::Error, Some("bob"), 5)).await;
    append(&store, error("a", 3, Level::Info, Some("ada"), 1)).await;
    caught_up(&db.pool, "errors").await;
    let a = row(&db.pool, issue("a")).await;
    assert_eq!(a["status"], "open");
    assert_eq!(a["title"], "ValueError: a", "the opening's title");
    assert_eq!(a["level"], 3, "the highest level seen: error");
    assert_eq!(a["times_seen"], 7, "the sum of the counts");
    assert_eq!(a["users_seen"], 2);
    assert_eq!(a["last_release"], "1.3");
    assert_eq!(a["culprit"], "app.a");
    assert_eq!(a["regressed"], false);

    append(&store, resolved("a")).await;
    caught_up(&db.pool, "errors").await;
    assert_eq!(row(&db.pool, issue("a")).await["status"], "resolved");
    // One by one here; the replay below applies them as one run, and must agree.
    append(&store, error("a", 150, Level::Error, None, 1)).await;
    caught_up(&db.pool, "errors").await;
    append(&store, error("b", 155, Level::Info, Some("cy"), 1)).await;
    caught_up(&db.pool, "errors").await;
    append(&store, error("a", 160, Level::Error, Some("cy"), 1)).await;
    caught_up(&db.pool, "errors").await;
    let regressed = row(&db.pool, issue("a")).await;
    assert_eq!(
        regressed["status"], "open",
        "an error reopens a resolved issue"
    );
    assert_eq!(regressed["regressed"], true);
    let regressed_at: OffsetDateTime =
        sqlx::query_scalar("SELECT last_regressed_at FROM error_issues WHERE id = $1")
            .bind(issue("a"))
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        regressed_at,
        at(150),
        "when the first error after resolving came"
    );
    assert_eq!(regressed["users_seen"], 3);
    assert_eq!(row(&db.pool, issue("b")).await["users_seen"], 1);

    append(&store, muted("a")).await;
    append(&store, error("a", 250, Level::Fatal, None, 1)).await;
    caught_up(&db.pool, "errors").await;
    let silenced = row(&db.pool, issue("a")).await;
    assert_eq!(silenced["status"], "muted", "a muted issue stays muted");
    assert_eq!(silenced["regressed"], false);
    assert_eq!(silenced["level"], 4);
    assert_eq!(silenced["times_seen"], 10);
    append(&store, reopened("a")).await;
    append(
        &store,
        ErrorsEvent::AlertRulesChanged(AlertRulesChanged {
            project: 0,
            rules: AlertRules {
                on_new_issue: false,
                ..AlertRules::default()
            },
            by: ADMIN,
            changed_at: at(400),
        }),
    )
    .await;
    caught_up(&db.pool, "errors").await;
    assert_eq!(row(&db.pool, issue("a")).await["status"], "open");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM error_events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(events, 7);
    let counted: i64 = sqlx::query_scalar("SELECT sum(count)::bigint FROM error_counts")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(counted, 11);
    let platform: (String, Value) =
        sqlx::query_as("SELECT name, alert_rules FROM error_projects WHERE id = 0")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(platform.0, "platform");
    assert_eq!(platform.1["on_new_issue"], false);

    let live = tables(&db.pool).await;
    let projection = projector::projections()
        .into_iter()
        .find(|p| p.name() == "errors")
        .unwrap();
    projector::replay::replay(&db.pool, projection.as_ref())
        .await
        .unwrap();
    assert_eq!(tables(&db.pool).await, live);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn an_issue_ends_the_same_whether_its_first_error_or_its_opening_came_first() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    project(&store).await;
    // "early" is opened first; "late" is opened after its first error: same errors.
    for (name, opening_first) in [("early", true), ("late", false)] {
        if opening_first {
            append(&store, opened(name, 5)).await;
        }
        append(&store, error(name, 5, Level::Error, Some("ada"), 2)).await;
        if !opening_first {
            append(&store, opened(name, 5)).await;
        }
        append(&store, error(name, 6, Level::Warning, Some("bob"), 1)).await;
    }
    let running = Running::projections(&db.pool);
    caught_up(&db.pool, "errors").await;
    let mut early = row(&db.pool, issue("early")).await;
    let mut late = row(&db.pool, issue("late")).await;
    for row in [&mut early, &mut late] {
        // The names differ by design; everything else must not.
        row["title"] = row["title"]
            .as_str()
            .unwrap()
            .replace("early", "x")
            .replace("late", "x")
            .into();
        row["culprit"] = Value::Null;
    }
    assert_eq!(early, late);
    assert_eq!(late["title"], "ValueError: x", "the opening's title wins");
    assert_eq!(late["times_seen"], 3);
    assert_eq!(late["users_seen"], 2);
    assert!(!late["opened_at"].is_null());
    running.stop().await;
    db.drop().await;
}

/// The titles of the errors the read model keeps whole, oldest first.
async fn kept(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT title FROM error_events ORDER BY received_at")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn old_errors_are_pruned_but_each_issue_keeps_its_latest_and_a_replay_restores_them() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    project(&store).await;
    // "a" erred three times long ago; "b" once long ago and once lately.
    for t in [1, 2, 3] {
        append(&store, error("a", t, Level::Error, None, 1)).await;
    }
    append(&store, error("b", 4, Level::Error, None, 1)).await;
    append(&store, error("b", 1000, Level::Error, None, 1)).await;
    caught_up(&db.pool, "errors").await;
    let stop = CancellationToken::new();
    let prune = || {
        // One row per batch: the batches go on until nothing is left to prune.
        projector::errors::retention::prune(&db.pool, at(500), 1, &stop)
    };

    assert_eq!(prune().await.unwrap(), 3);
    assert_eq!(
        kept(&db.pool).await,
        ["ValueError: a 3", "ValueError: b 1000"],
        "a's latest stays however old; b's recent one stays"
    );
    let a = row(&db.pool, issue("a")).await;
    assert_eq!(a["times_seen"], 3, "the counts remember what was pruned");
    assert_eq!(prune().await.unwrap(), 0, "nothing more is old");

    // The log keeps everything: a replay brings every error back, to be pruned again.
    let projection = projector::projections()
        .into_iter()
        .find(|p| p.name() == "errors")
        .unwrap();
    projector::replay::replay(&db.pool, projection.as_ref())
        .await
        .unwrap();
    assert_eq!(kept(&db.pool).await.len(), 5);
    assert_eq!(prune().await.unwrap(), 3);
    assert_eq!(kept(&db.pool).await.len(), 2);
    running.stop().await;
    db.drop().await;
}
