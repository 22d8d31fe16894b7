//! The alert rules reactor and the alerts read model against a real store: alerts raised
//! once per channel however often a batch is applied, quiet within the interval, never
//! for a muted issue, on a regression and on a frequency, and listed with masked targets.

use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use projector::{
    Projection, Tables,
    alerts::{projection::AlertsProjection, rules::AlertRulesReactor},
};
use schemas::{
    EventMetadata, NewEvent, RecordedEvent,
    errors::{
        self, AlertChannel, AlertRaised, AlertReason, AlertRules, AlertRulesChanged, ErrorLogged,
        ErrorsEvent, FrequencyRule, IssueMuted, IssueOpened, IssueReopened, IssueResolved, Level,
        Origin, ProjectCreated,
    },
};
use uuid::Uuid;

const HOOK: &str = "https://hooks.slack.com/services/T0/B0/SECRET";

struct Errors {
    db: TestDatabase,
    store: EventStore,
    reactor: AlertRulesReactor,
    /// The log position the reactor has been given events up to.
    applied: i64,
}

impl Errors {
    async fn new() -> Self {
        let db = TestDatabase::new().await;
        let store = EventStore::new(db.pool.clone());
        let reactor = AlertRulesReactor::new(&store);
        Self {
            db,
            store,
            reactor,
            applied: 0,
        }
    }

    async fn append(&self, stream: String, expected: ExpectedVersion, event: ErrorsEvent) {
        self.store
            .append(AppendRequest::new(
                stream,
                expected,
                vec![NewEvent::from_domain(&event)],
                EventMetadata::default(),
            ))
            .await
            .unwrap();
    }

    async fn project(&self, project: i64, rules: AlertRules) {
        let created = ErrorsEvent::ProjectCreated(ProjectCreated {
            project,
            name: format!("project {project}"),
            public_key: "a".repeat(32),
            rate_limit_per_minute: 600,
            created_by: Uuid::nil(),
            created_at: schemas::clock::now(),
        });
        let stream = errors::project_stream_id(project);
        self.append(stream.clone(), ExpectedVersion::NoStream, created)
            .await;
        let changed = ErrorsEvent::AlertRulesChanged(AlertRulesChanged {
            project,
            rules,
            by: Uuid::nil(),
            changed_at: schemas::clock::now(),
        });
        self.append(stream, ExpectedVersion::Any, changed).await;
    }

    async fn open(&self, project: i64, title: &str) -> Uuid {
        let issue_id = errors::issue_id(project, &[title.to_owned()]);
        let opened = ErrorsEvent::IssueOpened(IssueOpened {
            issue_id,
            project,
            fingerprint: vec![title.to_owned()],
            title: title.to_owned(),
            level: Level::Error,
            first_event_id: Uuid::new_v4(),
            opened_at: schemas::clock::now(),
        });
        self.append(
            errors::issue_stream_id(issue_id),
            ExpectedVersion::NoStream,
            opened,
        )
        .await;
        issue_id
    }

    async fn error(&self, project: i64, issue_id: Uuid, count: i64) {
        let event_id = Uuid::new_v4();
        let now = schemas::clock::now();
        let logged = ErrorsEvent::ErrorLogged(Box::new(ErrorLogged {
            event_id,
            project,
            issue_id,
            fingerprint: vec!["x".into()],
            level: Level::Error,
            title: "Boom".into(),
            culprit: None,
            message: None,
            exceptions: Vec::new(),
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
            tags: Default::default(),
            extra: serde_json::Value::Null,
            count,
            occurred_at: now,
            received_at: now,
        }));
        self.append(
            errors::error_stream_id(project, event_id),
            ExpectedVersion::NoStream,
            logged,
        )
        .await;
    }

    async fn status(&self, project: i64, issue_id: Uuid, event: fn(Uuid, i64) -> ErrorsEvent) {
        self.append(
            errors::issue_stream_id(issue_id),
            ExpectedVersion::Any,
            event(issue_id, project),
        )
        .await;
    }

    /// The events appended since the reactor was last given some.
    async fn fresh(&self) -> Vec<RecordedEvent> {
        self.store.log().read_all(self.applied, 1000).await.unwrap()
    }

    /// Gives the reactor the fresh events, committing its state.
    async fn decide(&mut self) {
        let events = self.fresh().await;
        let mut tx = self.db.pool.begin().await.unwrap();
        self.reactor
            .apply(&mut tx, Tables::Live, &events)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        self.applied = events.last().map_or(self.applied, |e| e.position);
    }

    /// Every alert raised so far, in order.
    async fn alerts(&self) -> Vec<AlertRaised> {
        self.store
            .log()
            .read_all(0, 10_000)
            .await
            .unwrap()
            .iter()
            .filter_map(|event| match event.decode::<ErrorsEvent>() {
                Ok(ErrorsEvent::AlertRaised(raised)) => Some(raised),
                _ => None,
            })
            .collect()
    }
}

fn resolved(issue_id: Uuid, project: i64) -> ErrorsEvent {
    ErrorsEvent::IssueResolved(IssueResolved {
        issue_id,
        project,
        by: Uuid::nil(),
        resolved_at: schemas::clock::now(),
    })
}

fn muted(issue_id: Uuid, project: i64) -> ErrorsEvent {
    ErrorsEvent::IssueMuted(IssueMuted {
        issue_id,
        project,
        by: Uuid::nil(),
        muted_at: schemas::clock::now(),
    })
}

fn reopened(issue_id: Uuid, project: i64) -> ErrorsEvent {
    ErrorsEvent::IssueReopened(IssueReopened {
        issue_id,
        project,
        by: Uuid::nil(),
        reopened_at: schemas::clock::now(),
    })
}

fn both_channels() -> AlertRules {
    AlertRules {
        slack_webhook_url: Some(HOOK.into()),
        email_to: vec!["ops@example.com".into()],
        ..AlertRules::default()
    }
}

#[tokio::test]
async fn a_new_issue_raises_one_alert_per_channel_even_when_its_batch_is_applied_again() {
    let mut errors = Errors::new().await;
    errors.project(1, both_channels()).await;
    let issue = errors.open(1, "ValueError").await;
    errors.error(1, issue, 1).await;

    // A batch whose transaction is lost after the alerts were appended comes again.
    let events = errors.fresh().await;
    let mut lost = errors.db.pool.begin().await.unwrap();
    errors
        .reactor
        .apply(&mut lost, Tables::Live, &events)
        .await
        .unwrap();
    lost.rollback().await.unwrap();
    errors.decide().await;

    let alerts = errors.alerts().await;
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert!(
        alerts
            .iter()
            .all(|a| a.reason == AlertReason::NewIssue && a.issue_id == issue)
    );
    assert!(matches!(alerts[0].channel, AlertChannel::Slack { .. }));
    assert!(matches!(alerts[1].channel, AlertChannel::Email { .. }));

    // A second error within the interval alerts nobody.
    errors.error(1, issue, 1).await;
    errors.decide().await;
    assert_eq!(errors.alerts().await.len(), 2);
    errors.db.drop().await;
}

#[tokio::test]
async fn a_muted_issue_is_never_alerted_on_and_a_reopened_one_is_again() {
    let mut errors = Errors::new().await;
    let busy = AlertRules {
        on_new_issue: false,
        frequency: Some(FrequencyRule {
            events: 3,
            minutes: 5,
        }),
        ..both_channels()
    };
    errors.project(2, busy).await;
    let issue = errors.open(2, "Storm").await;
    errors.status(2, issue, muted).await;
    errors.error(2, issue, 5).await;
    errors.error(2, issue, 1).await;
    errors.decide().await;
    assert_eq!(errors.alerts().await, Vec::new(), "muted");

    errors.status(2, issue, reopened).await;
    errors.error(2, issue, 1).await;
    errors.decide().await;
    let alerts = errors.alerts().await;
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert_eq!(
        alerts[0].reason,
        AlertReason::Frequency {
            events: 3,
            minutes: 5
        }
    );
    errors.db.drop().await;
}

#[tokio::test]
async fn an_error_on_a_resolved_issue_is_a_regression_alerted_once() {
    let mut errors = Errors::new().await;
    let rules = AlertRules {
        on_new_issue: false,
        email_to: Vec::new(),
        ..both_channels()
    };
    errors.project(3, rules).await;
    let issue = errors.open(3, "Fixed").await;
    errors.error(3, issue, 1).await;
    errors.decide().await;
    assert_eq!(errors.alerts().await, Vec::new(), "no alert on new issues");

    errors.status(3, issue, resolved).await;
    errors.error(3, issue, 1).await;
    errors.error(3, issue, 1).await;
    errors.decide().await;
    let alerts = errors.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].reason, AlertReason::Regression);
    errors.db.drop().await;
}

#[tokio::test]
async fn the_platforms_project_alerts_by_its_default_rules_only_once_given_a_channel() {
    let mut errors = Errors::new().await;
    let first = errors
        .open(errors::PLATFORM_PROJECT, "panic in handler")
        .await;
    errors.decide().await;
    assert_eq!(errors.alerts().await, Vec::new(), "the defaults go nowhere");

    let changed = ErrorsEvent::AlertRulesChanged(AlertRulesChanged {
        project: errors::PLATFORM_PROJECT,
        rules: both_channels(),
        by: Uuid::nil(),
        changed_at: schemas::clock::now(),
    });
    errors
        .append(
            errors::project_stream_id(errors::PLATFORM_PROJECT),
            ExpectedVersion::Any,
            changed,
        )
        .await;
    let second = errors
        .open(errors::PLATFORM_PROJECT, "pool timed out")
        .await;
    errors.decide().await;
    let alerts = errors.alerts().await;
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert!(
        alerts
            .iter()
            .all(|a| a.issue_id == second && a.issue_id != first)
    );
    errors.db.drop().await;
}

#[tokio::test]
async fn the_alerts_read_model_lists_each_alert_pending_with_its_webhook_masked() {
    let mut errors = Errors::new().await;
    errors.project(4, both_channels()).await;
    errors.open(4, "ValueError").await;
    errors.decide().await;

    let events = errors.store.log().read_all(0, 1000).await.unwrap();
    let mut tx = errors.db.pool.begin().await.unwrap();
    AlertsProjection
        .apply(&mut tx, Tables::Live, &events)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let rows: Vec<(String, String, String, i32, bool)> = sqlx::query_as(
        "SELECT channel, target, status, attempts, next_attempt_at IS NOT NULL \
         FROM error_alerts ORDER BY channel",
    )
    .fetch_all(&errors.db.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "email".into(),
                "ops@example.com".into(),
                "pending".into(),
                0,
                true
            ),
            (
                "slack".into(),
                "https://hooks.slack.com/…".into(),
                "pending".into(),
                0,
                true
            ),
        ]
    );
    errors.db.drop().await;
}
