//! Helpers shared by the event store tests.

#![allow(dead_code)]

pub(crate) mod frozen_broker;

use event_store::{AppendRequest, Appended, EventStore, ExpectedVersion, Idempotency};
use schemas::{EventMetadata, NewEvent};
use serde_json::json;

/// An event of the given context with a small payload.
pub(crate) fn event(context: &'static str, n: i64) -> NewEvent {
    NewEvent {
        context,
        event_type: "ItemCreated",
        schema_version: 1,
        data: json!({ "id": n, "name": format!("item {n}"), "description": "" }),
    }
}

pub(crate) fn request(
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> AppendRequest {
    let metadata = EventMetadata {
        correlation_id: "test".into(),
        actor: Some("tester".into()),
    };
    AppendRequest::new(stream, expected, events, metadata)
}

pub(crate) fn with_key(mut request: AppendRequest, key: &str, fingerprint: &str) -> AppendRequest {
    request.idempotency = Some(Idempotency {
        key: key.into(),
        fingerprint: fingerprint.into(),
    });
    request
}

/// Appends one event to a new stream.
pub(crate) async fn append_one(
    store: &EventStore,
    stream: &str,
    context: &'static str,
    n: i64,
) -> Appended {
    store
        .append(request(
            stream,
            ExpectedVersion::NoStream,
            vec![event(context, n)],
        ))
        .await
        .expect("append")
}
