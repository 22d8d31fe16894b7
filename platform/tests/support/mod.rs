//! Spawns the whole platform on a random port with a fresh database, in the transport
//! the test run asks for (`TEST_TRANSPORT=embedded|kafka`).

#![allow(dead_code)]

use std::time::Duration;

use clap::Parser;
use event_store::testing::{self, TestDatabase, Transport};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tokio::{sync::oneshot, task::JoinHandle};

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: TestDatabase,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra command-line settings (e.g. `--read-wait-timeout-ms=300`).
    pub async fn spawn_with(extra: &[&str]) -> Self {
        let db = TestDatabase::new().await;
        let mut args = vec![
            "platform".to_owned(),
            format!("--database-url={}", db.url),
            "--http-addr=127.0.0.1:0".to_owned(),
            "--log-format=text".to_owned(),
            "--db-pool-size=8".to_owned(),
            format!("--group-id=projector-{}", uuid::Uuid::new_v4().simple()),
        ];
        if testing::transport() == Transport::Kafka {
            let kafka = testing::kafka_config();
            args.push(format!("--kafka-brokers={}", kafka.brokers));
            args.push(format!("--kafka-topic-prefix={}", kafka.topic_prefix));
        }
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let config = platform::Config::try_parse_from(args).expect("valid test configuration");
        let server = platform::build(config).await.expect("platform starts");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(async move {
            server
                .serve_until(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base,
            client,
            db,
            stop,
            server,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PUT, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    /// GET that waits until the read models reflect `position`.
    pub async fn get_at(&self, path: &str, position: i64) -> Response {
        self.request(Method::GET, path)
            .header("X-Min-Position", position)
            .send()
            .await
            .unwrap()
    }

    /// Creates an item and returns the `data` of the response.
    pub async fn create_item(&self, name: &str) -> Value {
        let response = self
            .post("/api/v1/items", &serde_json::json!({ "name": name }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["data"].clone()
    }

    /// Stops the server (draining connections and background tasks) and drops the database.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.db.drop().await;
    }
}

/// Reads the body as JSON, asserting the status first.
pub async fn json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {body}");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("body is not JSON: {body}"))
}

/// The position a command response reports in its `X-Position` header.
pub fn position(response: &Response) -> i64 {
    response.headers()["x-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}
