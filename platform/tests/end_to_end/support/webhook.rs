//! A local Slack-style webhook receiver: an axum server on a free loopback port that
//! records every request it gets and answers `200 ok`, or what it was told to answer
//! for the next requests (`500`, `429` with `Retry-After`, `404`...).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use tokio::task::JoinHandle;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Hook {
    /// When it arrived, by this process's clock.
    pub(crate) at: Instant,
    pub(crate) path: String,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Value,
    /// The status it was answered with.
    pub(crate) answered: u16,
}

/// An answer other than `200 ok`.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: &'static str,
}

impl Answer {
    pub(crate) fn status(status: u16, body: &'static str) -> Self {
        Self {
            status,
            retry_after: None,
            body,
        }
    }

    /// `429` asking to wait `seconds`.
    pub(crate) fn too_many(seconds: u64) -> Self {
        Self {
            status: 429,
            retry_after: Some(seconds.to_string()),
            body: "rate_limited",
        }
    }
}

#[derive(Default)]
struct Inner {
    hooks: Vec<Hook>,
    /// Answers for the next requests, in order; `200 ok` once none is left.
    script: VecDeque<Answer>,
}

/// The receiver, stopped when dropped.
pub(crate) struct WebhookReceiver {
    port: u16,
    inner: Arc<Mutex<Inner>>,
    server: JoinHandle<()>,
}

impl WebhookReceiver {
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(receive).with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the receiver serves");
        });
        Self {
            port,
            inner,
            server,
        }
    }

    /// A webhook URL of this receiver, with a secret-looking path like Slack's.
    pub(crate) fn url(&self, secret: &str) -> String {
        format!("http://127.0.0.1:{}/services/T0/B0/{secret}", self.port)
    }

    /// Answers the next `times` requests with `answer`, after any answers already set.
    pub(crate) fn answer_next(&self, times: usize, answer: Answer) {
        let mut inner = self.inner.lock().unwrap();
        inner.script.extend(std::iter::repeat_n(answer, times));
    }

    /// Every request so far, in order.
    pub(crate) fn hooks(&self) -> Vec<Hook> {
        self.inner.lock().unwrap().hooks.clone()
    }

    /// Waits, at most `timeout`, until at least `count` requests came; returns them all.
    pub(crate) async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Hook> {
        let deadline = Instant::now() + timeout;
        loop {
            let hooks = self.hooks();
            if hooks.len() >= count {
                return hooks;
            }
            assert!(
                Instant::now() < deadline,
                "the webhook got {} of {count} requests within {timeout:?}: {hooks:#?}",
                hooks.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let answer = inner.script.pop_front();
    let status = answer.as_ref().map_or(200, |answer| answer.status);
    inner.hooks.push(Hook {
        at: Instant::now(),
        path: uri.path().to_owned(),
        content_type: headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        answered: status,
    });
    let Some(answer) = answer else {
        return (StatusCode::OK, "ok").into_response();
    };
    let status = StatusCode::from_u16(answer.status).unwrap();
    match answer.retry_after {
        Some(seconds) => (status, [(RETRY_AFTER, seconds)], answer.body).into_response(),
        None => (status, answer.body).into_response(),
    }
}
