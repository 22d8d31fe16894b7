//! Chat for tests: rooms, messages, users seeded straight into the log, and a
//! Server-Sent Events client.

use std::time::Duration;

use bytes::Bytes;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use futures::{Stream, StreamExt};
use reqwest::{Method, Response, StatusCode};
use schemas::{
    EventMetadata, NewEvent,
    identity::{self, IdentityEvent, Role, UserRegistered},
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{TestApp, accounts::Account, json};

impl TestApp {
    /// Opens a group room owned by `owner` with these other members.
    pub(crate) async fn create_group(
        &self,
        owner: &Account,
        name: &str,
        members: &[String],
    ) -> Value {
        let body = json!({ "type": "group", "name": name, "members": members });
        let response = self
            .send_as(Some(owner), Method::POST, "/api/v1/chats", Some(&body))
            .await;
        json(response, StatusCode::CREATED).await["data"].clone()
    }

    /// Asks for the direct room of `from` with `to`.
    pub(crate) async fn open_direct(&self, from: &Account, to: &str) -> Response {
        let body = json!({ "type": "direct", "user_id": to });
        self.send_as(Some(from), Method::POST, "/api/v1/chats", Some(&body))
            .await
    }

    /// Sends a message, asserting success.
    pub(crate) async fn say(&self, from: &Account, room: i64, text: &str) -> Value {
        let response = self.try_say(from, room, &json!({ "text": text })).await;
        json(response, StatusCode::CREATED).await["data"].clone()
    }

    pub(crate) async fn try_say(&self, from: &Account, room: i64, body: &Value) -> Response {
        let path = format!("/api/v1/chats/{room}/messages");
        self.send_as(Some(from), Method::POST, &path, Some(body))
            .await
    }

    /// Users registered straight into the log (no password: they only need to exist),
    /// for tests that need many; returns their ids.
    pub(crate) async fn seed_users(&self, count: usize) -> Vec<String> {
        let store = EventStore::new(self.db.pool.clone());
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let user_id = Uuid::now_v7();
            let event = IdentityEvent::UserRegistered(UserRegistered {
                user_id,
                email: format!("seeded-{n}-{}@example.com", user_id.simple()),
                name: format!("Seeded {n}"),
                role: Role::User,
            });
            store
                .append(AppendRequest::new(
                    identity::user_stream(user_id),
                    ExpectedVersion::NoStream,
                    vec![NewEvent::from_domain(&event)],
                    EventMetadata {
                        correlation_id: "seed".into(),
                        actor: None,
                    },
                ))
                .await
                .expect("seeded user appended");
            ids.push(user_id.to_string());
        }
        ids
    }

    /// Opens a stream (`/api/v1/chats/stream` or a room's) as `account` on `base`,
    /// resuming after `last_event_id` when given.
    pub(crate) async fn stream(
        &self,
        base: &str,
        account: &Account,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Response {
        self.stream_at(base, account, path, last_event_id, 0).await
    }

    /// Opens a stream once the instance reflects `position` (a write of the test's).
    pub(crate) async fn stream_at(
        &self,
        base: &str,
        account: &Account,
        path: &str,
        last_event_id: Option<&str>,
        position: i64,
    ) -> Response {
        let mut request = self
            .client
            .get(format!("{base}{path}"))
            .bearer_auth(&account.token)
            // A stream lives longer than the client's request timeout.
            .timeout(Duration::from_secs(3600))
            .header("x-min-position", position.to_string());
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.unwrap()
    }

    /// Opens a stream and asserts it is one.
    pub(crate) async fn events(
        &self,
        base: &str,
        account: &Account,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Events {
        self.events_at(base, account, path, last_event_id, 0).await
    }

    /// Opens a stream once the instance reflects `position`, and asserts it is one.
    pub(crate) async fn events_at(
        &self,
        base: &str,
        account: &Account,
        path: &str,
        last_event_id: Option<&str>,
        position: i64,
    ) -> Events {
        let response = self
            .stream_at(base, account, path, last_event_id, position)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "stream refused");
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "not an event stream"
        );
        Events::new(response)
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub id: Option<String>,
    pub kind: String,
    pub data: Value,
}

/// Frames from an open stream, parsed as they come.
pub(crate) struct Events {
    body: std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    buffer: String,
    /// Comment lines seen (heartbeats).
    pub comments: usize,
    /// Whether the server ended the stream.
    pub ended: bool,
}

/// How long a test waits for an event that should come.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

impl From<Response> for Events {
    /// A stream the test opened itself.
    fn from(response: Response) -> Self {
        Self::new(response)
    }
}

impl Events {
    fn new(response: Response) -> Self {
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            comments: 0,
            ended: false,
        }
    }

    /// The next event within `within`; None when the time passed or the stream ended.
    pub(crate) async fn next_within(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => self.ended = true,
            }
        }
    }

    /// The next event, which must come.
    pub(crate) async fn next(&mut self) -> Event {
        self.next_within(PATIENCE)
            .await
            .expect("an event within the patience")
    }

    /// The next event of `kind`, skipping others (presence, membership).
    pub(crate) async fn next_of(&mut self, kind: &str) -> Event {
        loop {
            let event = self.next().await;
            if event.kind == kind {
                return event;
            }
        }
    }

    /// The texts of the next `count` messages, skipping other events.
    pub(crate) async fn texts(&mut self, count: usize) -> Vec<String> {
        let mut texts = Vec::with_capacity(count);
        while texts.len() < count {
            let event = self.next_of("message").await;
            texts.push(event.data["text"].as_str().unwrap().to_owned());
        }
        texts
    }

    /// Waits for the stream to end (server side), failing after the patience.
    pub(crate) async fn end(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.ended {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the stream did not end"
            );
            self.next_within(Duration::from_millis(100)).await;
        }
    }

    /// Takes one complete frame off the buffer.
    fn parse_one(&mut self) -> Option<Event> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let frame: String = self.buffer.drain(..end + 2).collect();
            let mut event = Event {
                id: None,
                kind: "message".into(),
                data: Value::Null,
            };
            let mut data = None;
            for line in frame.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                } else if let Some(id) = line.strip_prefix("id: ") {
                    event.id = Some(id.to_owned());
                } else if let Some(kind) = line.strip_prefix("event: ") {
                    event.kind = kind.to_owned();
                } else if let Some(text) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(text).expect("data is JSON"));
                }
            }
            if let Some(data) = data {
                event.data = data;
                return Some(event);
            }
            // A retry line or a heartbeat: not an event.
        }
    }
}

/// The room number in a room body.
pub(crate) fn room_id(data: &Value) -> i64 {
    data["id"].as_i64().expect("a room number")
}
