//! The errors context for tests: projects and their alert rules, made by an admin through
//! the API as an operator makes them, and reported errors appended to the store directly,
//! as the Sentry ingestion and the capture layer append them.

use event_store::{AppendRequest, EventStore, ExpectedVersion};
use reqwest::{Method, StatusCode};
use schemas::{
    EventMetadata, NewEvent,
    errors::{self, AlertRules, ErrorLogged, ErrorsEvent, IssueOpened, Level, Origin},
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{TestApp, accounts::Account};

/// A project reports can be sent to, as `POST /api/v1/errors/projects` answered.
pub(crate) struct TestProject {
    pub(crate) id: i64,
    pub(crate) key: String,
    /// `http://<key>@127.0.0.1:<port>/<id>`.
    pub(crate) dsn: String,
}

impl TestProject {
    /// The path of one of its ingestion endpoints (`envelope` or `store`).
    pub(crate) fn path(&self, endpoint: &str) -> String {
        format!("/api/{}/{endpoint}/", self.id)
    }
}

impl TestApp {
    fn store(&self) -> EventStore {
        EventStore::new(self.db.pool.clone())
    }

    /// Creates a project named `name` taking `per_minute` events a minute, as `admin`
    /// through `POST /api/v1/errors/projects`.
    pub(crate) async fn create_project(
        &self,
        admin: &Account,
        name: &str,
        per_minute: i64,
    ) -> TestProject {
        let body = json!({ "name": name, "rate_limit_per_minute": per_minute });
        let response = self
            .send_as(
                Some(admin),
                Method::POST,
                "/api/v1/errors/projects",
                Some(&body),
            )
            .await;
        let created = &super::json(response, StatusCode::CREATED).await["data"];
        TestProject {
            id: created["id"].as_i64().expect("a project id"),
            key: created["public_key"].as_str().expect("a key").to_owned(),
            dsn: created["dsn"].as_str().expect("a DSN").to_owned(),
        }
    }

    /// Sets a project's alert rules as `admin` through
    /// `PUT /api/v1/errors/projects/{id}/alert-rules`; returns the position of the change.
    pub(crate) async fn set_alert_rules(
        &self,
        admin: &Account,
        project: i64,
        rules: AlertRules,
    ) -> i64 {
        let path = format!("/api/v1/errors/projects/{project}/alert-rules");
        let body = serde_json::to_value(rules).unwrap();
        let response = self
            .send_as(Some(admin), Method::PUT, &path, Some(&body))
            .await;
        super::json(response, StatusCode::OK).await["data"]["position"]
            .as_i64()
            .expect("a position")
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
