//! Spawns the whole platform on a random port with a fresh database, in the transport
//! the test run asks for (`TEST_TRANSPORT=embedded|kafka`).

pub(crate) mod accounts;
pub(crate) mod authorization;
pub(crate) mod broker;
pub(crate) mod browser;
pub(crate) mod chat;
pub(crate) mod email;
pub(crate) mod errors;
pub(crate) mod instances;
pub(crate) mod issues;
pub(crate) mod load;
pub(crate) mod orders;
pub(crate) mod private_postgres;
pub(crate) mod processes;
pub(crate) mod prompts;
pub(crate) mod sentry;
pub(crate) mod smtp;
pub(crate) mod stack;
pub(crate) mod webhook;

use std::time::Duration;

use clap::Parser;
use event_log::testing::{self, TestDatabase, Transport};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tokio::{sync::oneshot, task::JoinHandle};

pub(crate) struct TestApp {
    pub base: String,
    /// Where `/metrics` is served (a listener of its own).
    pub metrics_base: String,
    pub client: Client,
    pub db: TestDatabase,
    /// The transport flags the platform runs with (`--kafka-...`), for other instances.
    pub transport_args: Vec<String>,
    /// Where mail goes as `.eml` files when the test sets no SMTP server.
    pub mail_dir: std::path::PathBuf,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra command-line settings (e.g. `--read-wait-timeout-ms=300`).
    pub(crate) async fn spawn_with(extra: &[&str]) -> Self {
        Self::spawn_on(TestDatabase::new().await, extra).await
    }

    /// Spawns on `db` (a database a test prepared, e.g. restored from a backup).
    pub(crate) async fn spawn_on(db: TestDatabase, extra: &[&str]) -> Self {
        let mail_dir = std::env::temp_dir().join(format!("platform-mail-{}", db.name));
        let mut args = vec![
            "platform".to_owned(),
            format!("--database-url={}", db.url),
            "--http-addr=127.0.0.1:0".to_owned(),
            "--metrics-addr=127.0.0.1:0".to_owned(),
            "--log-format=text".to_owned(),
            "--db-pool-size=8".to_owned(),
            format!("--group-id=projector-{}", uuid::Uuid::new_v4().simple()),
            format!("--mail-dir={}", mail_dir.display()),
        ];
        // Tests log in often from one address; the limit has its own test.
        if !extra.iter().any(|arg| arg.starts_with("--auth-rate-limit")) {
            args.push("--auth-rate-limit-per-minute=100000".to_owned());
        }
        // Tests write many items from one address; the limit has its own test.
        if !extra
            .iter()
            .any(|arg| arg.starts_with("--anonymous-write-rate-limit"))
        {
            args.push("--anonymous-write-rate-limit-per-minute=0".to_owned());
        }
        // Tests request many emails as one user; the limit has its own test.
        if !extra
            .iter()
            .any(|arg| arg.starts_with("--email-rate-limit"))
        {
            args.push("--email-rate-limit-per-minute=100000".to_owned());
        }
        // The platform's own mail (a welcome to every test user) only where a test asks.
        if !extra
            .iter()
            .any(|arg| arg.starts_with("--platform-mail-enabled"))
        {
            args.push("--platform-mail-enabled=false".to_owned());
        }
        let mut transport_args = Vec::new();
        // Topics a test names (another instance's, kept across a restore) win.
        let topics_given = extra
            .iter()
            .any(|arg| arg.starts_with("--kafka-topic-prefix"));
        if testing::transport() == Transport::Kafka && !topics_given {
            let kafka = testing::kafka_config();
            transport_args.push(format!("--kafka-brokers={}", kafka.brokers));
            transport_args.push(format!("--kafka-topic-prefix={}", kafka.topic_prefix));
        }
        args.extend(transport_args.iter().cloned());
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let config = platform::Config::try_parse_from(args).expect("valid test configuration");
        let server = platform::build(config).await.expect("platform starts");
        let base = format!("http://{}", server.local_addr());
        let metrics_base = format!("http://{}", server.metrics_addr());
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(async move {
            server
                .serve_until(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        let client = test_client();
        Self {
            base,
            metrics_base,
            client,
            db,
            transport_args,
            mail_dir,
            stop,
            server,
        }
    }

    /// A client of a platform that runs elsewhere (the native stack) on `db`: `server`
    /// ends once it has stopped that platform after `stop` is sent.
    pub(crate) fn elsewhere(
        base: String,
        metrics_base: String,
        db: TestDatabase,
        mail_dir: std::path::PathBuf,
        stop: oneshot::Sender<()>,
        server: JoinHandle<()>,
    ) -> Self {
        let client = test_client();
        Self {
            base,
            metrics_base,
            client,
            db,
            transport_args: Vec::new(),
            mail_dir,
            stop,
            server,
        }
    }

    /// The text of `/metrics`, from the metrics listener.
    pub(crate) async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.metrics_base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PUT, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    /// GET that waits until the read models reflect `position`.
    pub(crate) async fn get_at(&self, path: &str, position: i64) -> Response {
        self.request(Method::GET, path)
            .header("X-Min-Position", position)
            .send()
            .await
            .unwrap()
    }

    /// PUT with an `If-Match` header.
    pub(crate) async fn put_if_match(&self, path: &str, body: &Value, if_match: &str) -> Response {
        self.request(Method::PUT, path)
            .header("If-Match", if_match)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// DELETE with an `If-Match` header.
    pub(crate) async fn delete_if_match(&self, path: &str, if_match: &str) -> Response {
        self.request(Method::DELETE, path)
            .header("If-Match", if_match)
            .send()
            .await
            .unwrap()
    }

    /// A command with an `Idempotency-Key` header (a JSON body when given).
    pub(crate) async fn send_with_key(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: &str,
    ) -> Response {
        let request = self.request(method, path).header("Idempotency-Key", key);
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// GET with an `If-None-Match` header.
    pub(crate) async fn get_if_none_match(&self, path: &str, etag: &str) -> Response {
        self.request(Method::GET, path)
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap()
    }

    /// Renames an item and returns the `data` of the response.
    pub(crate) async fn update_item(&self, id: i64, name: &str) -> Value {
        let response = self
            .put(&item_path(id), &serde_json::json!({ "name": name }))
            .await;
        json(response, StatusCode::OK).await["data"].clone()
    }

    /// Deletes an item and returns the position of the deletion.
    pub(crate) async fn delete_item(&self, id: i64) -> i64 {
        let response = self.delete(&item_path(id)).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        position(&response)
    }

    /// The `data` of a list page (`query` as in `page=2&size=10`) once it reflects
    /// `position`.
    pub(crate) async fn list_at(&self, query: &str, position: i64) -> Value {
        let response = self
            .get_at(&format!("/api/v1/items?{query}"), position)
            .await;
        json(response, StatusCode::OK).await["data"].clone()
    }

    /// Runs `requests` while appends are held back (the event log head is locked for half
    /// a second), so every command reads the state before any of them appends: their
    /// races are decided at the append, deterministically.
    pub(crate) async fn with_appends_held<F: std::future::Future>(&self, requests: F) -> F::Output {
        let mut head = self.db.pool.begin().await.unwrap();
        sqlx::query("SELECT last_position FROM event_log_head FOR UPDATE")
            .execute(&mut *head)
            .await
            .unwrap();
        let release = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            head.rollback().await.unwrap();
        };
        tokio::join!(requests, release).0
    }

    /// Creates an item and returns the `data` of the response.
    pub(crate) async fn create_item(&self, name: &str) -> Value {
        let response = self
            .post("/api/v1/items", &serde_json::json!({ "name": name }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["data"].clone()
    }

    /// Stops the server (draining connections and background tasks) and drops the database.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        stopped(self.server, "the platform").await;
        let _ = std::fs::remove_dir_all(&self.mail_dir);
        self.db.drop().await;
    }
}

/// How long a server told to stop may take to drain and end its tasks.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// Waits for a server task that was told to stop. One that does not stop is a bug of its
/// own, reported here rather than as the test runner's timeout.
pub(crate) async fn stopped(server: JoinHandle<()>, what: &str) {
    tokio::time::timeout(STOP_LIMIT, server)
        .await
        .unwrap_or_else(|_| panic!("{what} did not stop within {STOP_LIMIT:?}"))
        .unwrap_or_else(|err| panic!("{what} failed: {err}"));
}

/// Reads the body as JSON, asserting the status first.
pub(crate) async fn json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {body}");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("body is not JSON: {body}"))
}

/// Reads an error response: asserts its status, the error envelope, its code, that its
/// message contains `message`, and that `trace_id` is the `X-Request-ID` response header.
/// Returns the `error` object.
pub(crate) async fn error(
    response: Response,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Value {
    let request_id = header(&response, "x-request-id");
    let body = json(response, status).await;
    assert_eq!(body["status"], "error", "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    let text = error["message"].as_str().unwrap_or_default();
    assert!(
        text.contains(message),
        "message {text:?} does not contain {message:?}"
    );
    assert!(!request_id.is_empty(), "X-Request-ID is empty");
    assert_eq!(error["trace_id"], request_id.as_str(), "{body}");
    error.clone()
}

/// A 400 `INVALID_INPUT` error whose message contains `message`; returns the `error`.
pub(crate) async fn bad_request(response: Response, message: &str) -> Value {
    error(response, StatusCode::BAD_REQUEST, "INVALID_INPUT", message).await
}

/// A 422 `INVALID_INPUT` error whose message contains `message`; returns the `error`.
pub(crate) async fn unprocessable(response: Response, message: &str) -> Value {
    error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        message,
    )
    .await
}

/// A response header as text (panics when absent).
pub(crate) fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The path of one item.
pub(crate) fn item_path(id: impl std::fmt::Display) -> String {
    format!("/api/v1/items/{id}")
}

/// The id of an item from the `data` of a response.
pub(crate) fn id(data: &Value) -> i64 {
    data["id"].as_i64().expect("data has a numeric id")
}

/// The position from the `data` of a command response.
pub(crate) fn position_of(data: &Value) -> i64 {
    data["position"]
        .as_i64()
        .expect("data has a numeric position")
}

/// The names of the items of a list page's `data`.
pub(crate) fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("data has items")
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The position a command response reports in its `X-Position` header.
pub(crate) fn position(response: &Response) -> i64 {
    response.headers()["x-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The client tests call a platform with: no request waits longer than 30 s.
fn test_client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}
