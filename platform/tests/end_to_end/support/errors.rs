//! The errors context for tests: projects, alert rules and reported errors appended to
//! the store directly, as the command side and the Sentry ingestion will append them.
//! When those land, these helpers may switch to the HTTP API without changing the tests.

use event_store::{AppendRequest, EventStore, ExpectedVersion};
use schemas::{
    EventMetadata, NewEvent,
    errors::{
        self, AlertRules, AlertRulesChanged, ErrorLogged, ErrorsEvent, IssueOpened, Level, Origin,
        ProjectCreated,
    },
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::TestApp;

impl TestApp {
    fn store(&self) -> EventStore {
        EventStore::new(self.db.pool.clone())
    }

    /// Creates project `project` named `name`; returns the position of its creation.
    pub(crate) async fn create_project(&self, project: i64, name: &str) -> i64 {
        let created = ErrorsEvent::ProjectCreated(ProjectCreated {
            project,
            name: name.to_owned(),
            public_key: "a".repeat(32),
            rate_limit_per_minute: 600,
            created_by: Uuid::nil(),
            created_at: schemas::clock::now(),
        });
        self.append_errors(
            errors::project_stream_id(project),
            ExpectedVersion::NoStream,
            &[created],
        )
        .await
    }

    /// Sets a project's alert rules; returns the position of the change.
    pub(crate) async fn set_alert_rules(&self, project: i64, rules: AlertRules) -> i64 {
        let changed = ErrorsEvent::AlertRulesChanged(AlertRulesChanged {
            project,
            rules,
            by: Uuid::nil(),
            changed_at: schemas::clock::now(),
        });
        self.append_errors(
            errors::project_stream_id(project),
            ExpectedVersion::Any,
            &[changed],
        )
        .await
    }

    /// Reports an error titled `title` to `project`: its `ErrorLogged`, with the
    /// `IssueOpened` of its issue when it is the issue's first. Returns the issue's id and
    /// the position of the last event appended.
    pub(crate) async fn log_error(&self, project: i64, title: &str) -> (Uuid, i64) {
        let fingerprint = vec![title.to_owned()];
        let issue_id = errors::issue_id(project, &fingerprint);
        let event_id = Uuid::new_v4();
        let now = schemas::clock::now();
        let logged = ErrorsEvent::ErrorLogged(Box::new(ErrorLogged {
            event_id,
            project,
            issue_id,
            fingerprint: fingerprint.clone(),
            level: Level::Error,
            title: title.to_owned(),
            culprit: None,
            message: Some(title.to_owned()),
            exceptions: Vec::new(),
            origin: Origin::Sdk {
                sdk: Some("test".into()),
                platform: None,
                server_name: None,
                logger: None,
            },
            request_id: None,
            release: None,
            environment: None,
            user: None,
            tags: Default::default(),
            extra: Value::Null,
            count: 1,
            occurred_at: now,
            received_at: now,
        }));
        let opened = ErrorsEvent::IssueOpened(IssueOpened {
            issue_id,
            project,
            fingerprint,
            title: title.to_owned(),
            level: Level::Error,
            first_event_id: event_id,
            opened_at: now,
        });
        let error = request(
            errors::error_stream_id(project, event_id),
            ExpectedVersion::NoStream,
            &[logged],
        );
        let issue = request(
            errors::issue_stream_id(issue_id),
            ExpectedVersion::NoStream,
            &[opened],
        );
        let appended = match self.store().append_all(vec![error.clone(), issue]).await {
            Ok(appended) => appended,
            // The issue is open already: the error alone.
            Err(event_store::AppendError::Conflict { .. }) => {
                vec![self.store().append(error).await.unwrap()]
            }
            Err(err) => panic!("cannot append the error: {err}"),
        };
        (issue_id, appended.last().unwrap().last_position)
    }

    async fn append_errors(
        &self,
        stream: String,
        expected: ExpectedVersion,
        events: &[ErrorsEvent],
    ) -> i64 {
        self.store()
            .append(request(stream, expected, events))
            .await
            .unwrap()
            .last_position
    }
}

fn request(stream: String, expected: ExpectedVersion, events: &[ErrorsEvent]) -> AppendRequest {
    AppendRequest::new(
        stream,
        expected,
        events.iter().map(NewEvent::from_domain).collect(),
        EventMetadata {
            correlation_id: format!("test-{}", Uuid::new_v4()),
            actor: None,
        },
    )
}

/// Rules that alert on new issues and regressions, at most every `interval` minutes, to
/// `webhook` and `email_to`.
pub(crate) fn rules(webhook: Option<String>, email_to: &[&str], interval: i64) -> AlertRules {
    AlertRules {
        interval_minutes: interval,
        slack_webhook_url: webhook,
        email_to: email_to.iter().map(|to| to.to_string()).collect(),
        ..AlertRules::default()
    }
}

/// The reason of an alert as the listing shows it.
pub(crate) fn new_issue() -> Value {
    json!({ "kind": "new_issue" })
}
