//! Errors reported to a project, appended with the event store as the recorder appends
//! them: an issue's first error together with its opening, later ones alone.

use std::collections::BTreeMap;

use event_store::{AppendRequest, EventStore, ExpectedVersion};
use schemas::{
    EventMetadata, NewEvent,
    errors::{self, ErrorLogged, ErrorsEvent, Exception, Frame, IssueOpened, Level, Origin},
};
use serde_json::json;
use uuid::Uuid;

use super::TestApp;

/// An error of project `project` whose fingerprint is `kind`, with a stack frame.
pub(crate) fn error(project: i64, kind: &str, level: Level, user: Option<&str>) -> ErrorLogged {
    let fingerprint = vec![kind.to_owned(), "bad <int>".to_owned()];
    let now = schemas::clock::now();
    ErrorLogged {
        event_id: Uuid::new_v4(),
        project,
        issue_id: errors::issue_id(project, &fingerprint),
        fingerprint,
        level,
        title: format!("{kind}: bad 7"),
        culprit: Some("app.views in checkout".into()),
        message: None,
        exceptions: vec![Exception {
            kind: Some(kind.to_owned()),
            value: Some("bad 7".into()),
            module: None,
            handled: Some(false),
            frames: vec![Frame {
                filename: Some("app/views.py".into()),
                function: Some("checkout".into()),
                module: Some("app.views".into()),
                lineno: Some(42),
                in_app: Some(true),
                ..Frame::default()
            }],
        }],
        origin: Origin::Sdk {
            sdk: Some("sentry.python 2.76.0".into()),
            platform: Some("python".into()),
            server_name: Some("web-1".into()),
            logger: None,
        },
        request_id: None,
        release: Some("shop@1.2.0".into()),
        environment: Some("production".into()),
        user: user.map(Into::into),
        tags: BTreeMap::from([("browser".to_owned(), "Firefox".to_owned())]),
        extra: json!({"cart": 3}),
        count: 1,
        occurred_at: now,
        received_at: now,
    }
}

impl TestApp {
    /// Records `error`, opening its issue when it is the first; returns the position.
    pub(crate) async fn report_error(&self, error: ErrorLogged) -> i64 {
        let store = EventStore::new(self.db.pool.clone());
        let issue_stream = errors::issue_stream_id(error.issue_id);
        let new_issue = store
            .log()
            .read_stream(&issue_stream, None)
            .await
            .unwrap()
            .is_empty();
        let error_stream = errors::error_stream_id(error.project, error.event_id);
        let mut requests = Vec::new();
        if new_issue {
            let opened = ErrorsEvent::IssueOpened(IssueOpened {
                issue_id: error.issue_id,
                project: error.project,
                fingerprint: error.fingerprint.clone(),
                title: error.title.clone(),
                level: error.level,
                first_event_id: error.event_id,
                opened_at: error.received_at,
            });
            requests.push(request(issue_stream, &opened));
        }
        requests.push(request(
            error_stream,
            &ErrorsEvent::ErrorLogged(Box::new(error)),
        ));
        let appended = store.append_all(requests).await.unwrap();
        appended.last().unwrap().last_position
    }
}

fn request(stream: String, event: &ErrorsEvent) -> AppendRequest {
    AppendRequest::new(
        stream,
        ExpectedVersion::NoStream,
        vec![NewEvent::from_domain(event)],
        EventMetadata::default(),
    )
}
