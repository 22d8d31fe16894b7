//! Other applications report their errors through the Sentry protocol: the real SDKs
//! (Python's `sentry-sdk`, which gzips its envelopes, and the Rust `sentry` crate, which
//! sends them plain with session items beside the events) against the running platform,
//! then the refusals SDKs must understand, with hand-made bodies.

use std::{sync::Arc, time::Duration};

use reqwest::{Method, StatusCode};
use schemas::errors::{Level, Origin, error_stream_id};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    TestApp,
    accounts::ADMIN_FLAGS,
    errors::TestProject,
    sentry::{errors_logged, issues_opened, send_with_python},
};

/// The platform with one project, made by its admin, taking `per_minute` events a minute.
async fn reporting_to_a_project(per_minute: i64) -> (TestApp, TestProject) {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let project = app.create_project(&admin, "app", per_minute).await;
    (app, project)
}

#[tokio::test]
async fn the_python_sdk_reports_exceptions_grouped_by_kind_and_messages() {
    let (app, project) = reporting_to_a_project(1000).await;
    let ids = send_with_python(
        &project.dsn,
        &[
            "exception=order 17 not found",
            "exception=order 18 not found",
            "message=disk 91% full",
        ],
    )
    .await;

    let logged = errors_logged(&app, project.id).await;
    assert_eq!(logged.len(), 3, "{logged:#?}");
    let by_id = |id: Uuid| logged.iter().find(|e| e.event_id == id).unwrap();
    let (first, second, message) = (by_id(ids[0]), by_id(ids[1]), by_id(ids[2]));
    assert_eq!(first.title, "ValueError: order 17 not found");
    assert_eq!(
        first.fingerprint,
        ["ValueError", "order <int> not found", "__main__.charge"]
    );
    assert_eq!(
        first.issue_id, second.issue_id,
        "numbers do not split an issue"
    );
    assert_eq!(first.level, Level::Error);
    assert_eq!(first.release.as_deref(), Some("shop@1.2.3"));
    assert_eq!(first.environment.as_deref(), Some("test"));
    assert_eq!(first.user.as_deref(), Some("42"));
    assert_eq!(first.tags["checkout"], "eu");
    let raised = first.exceptions.last().unwrap();
    assert_eq!(
        raised.frames.last().unwrap().function.as_deref(),
        Some("charge")
    );
    let Origin::Sdk {
        sdk,
        platform,
        server_name,
        ..
    } = &first.origin
    else {
        panic!("reported by an SDK");
    };
    assert_eq!(sdk.as_deref(), Some("sentry.python 2.76.0"));
    assert_eq!(platform.as_deref(), Some("python"));
    assert_eq!(server_name.as_deref(), Some("e2e"));

    assert_eq!(message.level, Level::Warning);
    assert_eq!(message.message.as_deref(), Some("disk 91% full"));
    assert_eq!(message.fingerprint, ["message", "disk <int>% full"]);
    assert_ne!(message.issue_id, first.issue_id);

    let issues = issues_opened(&app, project.id).await;
    assert_eq!(issues.len(), 2, "one issue per fingerprint: {issues:#?}");
    assert_eq!(issues[0].first_event_id, ids[0]);
    app.stop().await;
}

#[derive(Debug)]
struct PaymentDeclined(u32);

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment {} declined", self.0)
    }
}

impl std::error::Error for PaymentDeclined {}

/// Reports with the Rust SDK, within a session (so the envelopes carry session items
/// too), and flushes; returns the event ids of the captures.
async fn send_with_rust(dsn: &str) -> Vec<Uuid> {
    let mut options = sentry::ClientOptions::from(dsn);
    options.release = Some("shop@2.0.0".into());
    options.environment = Some("test".into());
    let options = sentry::apply_defaults(options);
    // Blocking, off the runtime: the platform answering the SDK runs on it.
    tokio::task::spawn_blocking(move || {
        let client = Arc::new(sentry::Client::from(options));
        let hub = sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
        hub.start_session();
        let ids = vec![
            hub.capture_error(&PaymentDeclined(17)),
            hub.capture_error(&PaymentDeclined(18)),
            hub.capture_message("queue 3 is stalled", sentry::Level::Warning),
        ];
        hub.end_session();
        assert!(
            client.flush(Some(Duration::from_secs(10))),
            "the SDK flushed"
        );
        ids
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_rust_sdk_reports_errors_and_messages_beside_its_sessions() {
    let (app, project) = reporting_to_a_project(1000).await;
    let ids = send_with_rust(&project.dsn).await;

    let logged = errors_logged(&app, project.id).await;
    assert_eq!(logged.len(), 3, "{logged:#?}");
    let by_id = |id: Uuid| logged.iter().find(|e| e.event_id == id).unwrap();
    let (first, second, message) = (by_id(ids[0]), by_id(ids[1]), by_id(ids[2]));
    assert_eq!(first.title, "PaymentDeclined: payment 17 declined");
    assert_eq!(
        first.level,
        Level::Error,
        "Rust leaves the level out for errors"
    );
    assert_eq!(first.issue_id, second.issue_id);
    assert_eq!(
        first.fingerprint[..2],
        ["PaymentDeclined", "payment <int> declined"]
    );
    assert_eq!(first.release.as_deref(), Some("shop@2.0.0"));
    let Origin::Sdk { sdk, .. } = &first.origin else {
        panic!("reported by an SDK");
    };
    assert!(
        sdk.as_deref().unwrap().starts_with("sentry.rust "),
        "{sdk:?}"
    );
    assert_eq!(message.level, Level::Warning);
    assert_eq!(message.fingerprint, ["message", "queue <int> is stalled"]);
    assert_eq!(issues_opened(&app, project.id).await.len(), 2);
    app.stop().await;
}

/// An envelope of one event with the given id, as the Python SDK frames it.
fn envelope(event_id: &str, event: &Value) -> String {
    let payload = event.to_string();
    format!(
        "{{\"event_id\":\"{event_id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n\
         {{\"type\":\"client_report\"}}\n{{\"discarded_events\":[]}}\n",
        payload.len()
    )
}

async fn post_envelope(
    app: &TestApp,
    path: &str,
    auth: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut request = app.request(Method::POST, path).body(body);
    if let Some(key) = auth {
        request = request.header(
            "X-Sentry-Auth",
            format!("Sentry sentry_key={key}, sentry_version=7"),
        );
    }
    request.send().await.unwrap()
}

async fn error_code(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_event_sent_twice_is_recorded_once_and_answered_twice() {
    let (app, project) = reporting_to_a_project(1000).await;
    let id = Uuid::new_v4().simple().to_string();
    let body = envelope(&id, &json!({"event_id": id, "message": "once"}));
    for _ in 0..2 {
        let response = post_envelope(
            &app,
            &project.path("envelope"),
            Some(&project.key),
            body.clone(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"id": id}));
    }
    // The older endpoint, the key in the query string, the same event: still once.
    let response = app
        .request(
            Method::POST,
            &format!("{}?sentry_key={}", project.path("store"), project.key),
        )
        .body(json!({"event_id": id, "message": "once"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"id": id}));
    let logged = errors_logged(&app, project.id).await;
    assert_eq!(logged.len(), 1);
    let stream = error_stream_id(project.id, logged[0].event_id);
    let log = event_log::EventLog::new(app.db.pool.clone());
    assert_eq!(log.read_stream(&stream, None).await.unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_envelope_without_events_is_accepted_and_records_nothing() {
    let (app, project) = reporting_to_a_project(1000).await;
    let body = "{}\n{\"type\":\"session\"}\n{\"status\":\"ok\"}\n".to_owned();
    let response = post_envelope(
        &app,
        &format!("/api/{}/envelope", project.id),
        Some(&project.key),
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert!(errors_logged(&app, project.id).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn reports_without_the_right_key_or_project_are_refused() {
    let (app, project) = reporting_to_a_project(1000).await;
    let body = || {
        envelope(
            &Uuid::new_v4().simple().to_string(),
            &json!({"message": "x"}),
        )
    };
    let path = project.path("envelope");
    let none = post_envelope(&app, &path, None, body()).await;
    assert_eq!(
        error_code(none, StatusCode::UNAUTHORIZED).await,
        "UNAUTHORIZED"
    );
    let wrong = post_envelope(&app, &path, Some(&"0".repeat(32)), body()).await;
    assert_eq!(error_code(wrong, StatusCode::FORBIDDEN).await, "FORBIDDEN");
    for other in [project.id + 1, 0] {
        let other = format!("/api/{other}/envelope/");
        let missing = post_envelope(&app, &other, Some(&project.key), body()).await;
        assert_eq!(
            error_code(missing, StatusCode::NOT_FOUND).await,
            "NOT_FOUND"
        );
    }
    // The key in the envelope header's DSN is enough.
    let id = Uuid::new_v4().simple().to_string();
    let with_dsn = format!(
        "{{\"event_id\":\"{id}\",\"dsn\":\"{}\"}}\n{{\"type\":\"event\"}}\n{{\"message\":\"dsn\"}}\n",
        project.dsn
    );
    let response = post_envelope(&app, &path, None, with_dsn).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(errors_logged(&app, project.id).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_in_the_envelope() {
    let (app, project) = reporting_to_a_project(1000).await;
    let path = project.path("envelope");
    let key = Some(project.key.as_str());
    for body in [
        "not json\n".to_owned(),
        "{}\n{\"length\":2}\n{}\n".to_owned(),
        "{}\n{\"type\":\"event\",\"length\":999}\n{}\n".to_owned(),
        "{}\n{\"type\":\"event\"}\n[1, 2]\n".to_owned(),
        "{}\n{\"type\":\"event\"}\n{\"event_id\":\"nope\"}\n".to_owned(),
    ] {
        let response = post_envelope(&app, &path, key, body.clone()).await;
        assert_eq!(
            error_code(response, StatusCode::BAD_REQUEST).await,
            "INVALID_INPUT",
            "{body}"
        );
    }
    let broken_gzip = app
        .request(Method::POST, &path)
        .header(
            "X-Sentry-Auth",
            format!("Sentry sentry_key={}", project.key),
        )
        .header("Content-Encoding", "gzip")
        .body("not gzip at all")
        .send()
        .await
        .unwrap();
    assert_eq!(broken_gzip.status(), StatusCode::BAD_REQUEST);

    let big_event = envelope(
        &Uuid::new_v4().simple().to_string(),
        &json!({"message": "x".repeat(1024 * 1024)}),
    );
    let response = post_envelope(&app, &path, key, big_event).await;
    assert_eq!(
        error_code(response, StatusCode::PAYLOAD_TOO_LARGE).await,
        "PAYLOAD_TOO_LARGE"
    );
    let huge = "{}\n".to_owned() + &"\n".repeat(21 * 1024 * 1024);
    let response = post_envelope(&app, &path, key, huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Larger than a command may be, within an envelope's limit: taken.
    let padded = envelope(
        &Uuid::new_v4().simple().to_string(),
        &json!({"message": "padded"}),
    ) + &"\n".repeat(3 * 1024 * 1024);
    let response = post_envelope(&app, &path, key, padded).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(errors_logged(&app, project.id).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn events_over_a_projects_quota_are_refused_with_sentrys_rate_limit_headers() {
    let (app, project) = reporting_to_a_project(2).await;
    let path = project.path("envelope");
    let send = || {
        let id = Uuid::new_v4().simple().to_string();
        post_envelope(
            &app,
            &path,
            Some(&project.key),
            envelope(&id, &json!({"message": "m"})),
        )
    };
    assert_eq!(send().await.status(), StatusCode::OK);
    assert_eq!(send().await.status(), StatusCode::OK);
    let over = send().await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        over.headers()["x-sentry-rate-limits"].to_str().unwrap(),
        format!("{retry_after}:error:project")
    );
    assert_eq!(
        error_code(over, StatusCode::TOO_MANY_REQUESTS).await,
        "RATE_LIMITED"
    );
    assert_eq!(errors_logged(&app, project.id).await.len(), 2);
    app.stop().await;
}
