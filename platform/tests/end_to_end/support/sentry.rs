//! Sentry reporting in tests: projects to report to, the real Python SDK as a child
//! process (`TEST_SENTRY_PYTHON` is the python `scripts/install-sentry-sdk` prints;
//! `scripts/test` sets it, and a test that needs it fails without it), and the errors and
//! issues the store recorded.

use std::{path::PathBuf, process::Command};

use event_store::{AppendRequest, EventStore, ExpectedVersion};
use schemas::{
    EventMetadata, NewEvent,
    errors::{ErrorLogged, ErrorsEvent, IssueOpened, ProjectCreated, project_stream_id},
};
use uuid::Uuid;

use super::TestApp;

/// A project reports can be sent to.
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

/// Creates project `id` taking `per_minute` events a minute. Projects are created by
/// appending their first event, as the admin endpoint that creates them will.
pub(crate) async fn create_project(app: &TestApp, id: i64, per_minute: i64) -> TestProject {
    let key = Uuid::new_v4().simple().to_string();
    let created = ErrorsEvent::ProjectCreated(ProjectCreated {
        project: id,
        name: format!("app {id}"),
        public_key: key.clone(),
        rate_limit_per_minute: per_minute,
        created_by: Uuid::nil(),
        created_at: time::OffsetDateTime::now_utc(),
    });
    let metadata = EventMetadata {
        correlation_id: "test".into(),
        actor: None,
    };
    EventStore::new(app.db.pool.clone())
        .append(AppendRequest::new(
            project_stream_id(id),
            ExpectedVersion::NoStream,
            vec![NewEvent::from_domain(&created)],
            metadata,
        ))
        .await
        .expect("project created");
    let host = app.base.trim_start_matches("http://");
    TestProject {
        id,
        dsn: format!("http://{key}@{host}/{id}"),
        key,
    }
}

/// Every `ErrorLogged` of `project` in the log, in log order.
pub(crate) async fn errors_logged(app: &TestApp, project: i64) -> Vec<ErrorLogged> {
    errors_events(app)
        .await
        .into_iter()
        .filter_map(|event| match event {
            ErrorsEvent::ErrorLogged(error) if error.project == project => Some(*error),
            _ => None,
        })
        .collect()
}

/// Every `IssueOpened` of `project` in the log, in log order.
pub(crate) async fn issues_opened(app: &TestApp, project: i64) -> Vec<IssueOpened> {
    errors_events(app)
        .await
        .into_iter()
        .filter_map(|event| match event {
            ErrorsEvent::IssueOpened(opened) if opened.project == project => Some(opened),
            _ => None,
        })
        .collect()
}

async fn errors_events(app: &TestApp) -> Vec<ErrorsEvent> {
    let log = event_log::EventLog::new(app.db.pool.clone());
    let events = log.read_all(0, 100_000).await.unwrap();
    events
        .iter()
        .filter(|event| event.context == "errors")
        .map(|event| event.decode().unwrap())
        .collect()
}

/// Runs `scripts/sentry/send.py` with Python's Sentry SDK: each action (`exception=TEXT`
/// or `message=TEXT`) is captured and sent to `dsn`, and the SDK flushed. Returns the
/// event ids the SDK printed, in order.
pub(crate) async fn send_with_python(dsn: &str, actions: &[&str]) -> Vec<Uuid> {
    let python = std::env::var("TEST_SENTRY_PYTHON").expect(
        "TEST_SENTRY_PYTHON must name the python of scripts/install-sentry-sdk; scripts/test sets it",
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/sentry/send.py");
    let mut command = Command::new(python);
    command.arg(script).arg(dsn).args(actions);
    // Blocking, off the runtime: the platform answering the SDK runs on it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the Python SDK runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "send.py failed: {log}");
    let ids: Vec<Uuid> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().parse().expect("an event id"))
        .collect();
    assert_eq!(ids.len(), actions.len(), "one event id per action: {log}");
    ids
}
