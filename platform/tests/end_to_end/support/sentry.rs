//! Sentry reporting in tests: the real Python SDK as a child process (`TEST_SENTRY_PYTHON`
//! is the python `scripts/install-sentry-sdk` prints; `scripts/test` sets it, and a test
//! that needs it fails without it), and the errors and issues the store recorded. Projects
//! to report to come from [`super::errors`].

use std::{path::PathBuf, process::Command};

use schemas::errors::{ErrorLogged, ErrorsEvent, IssueOpened};
use uuid::Uuid;

use super::TestApp;

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
