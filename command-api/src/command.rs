//! What every command handler shares: metadata, idempotency, If-Match, positions.

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};
use event_store::{
    AppendError, AppendRequest, Appended, EventStore, ExpectedVersion, Idempotency, Numbered,
};
use http_kit::{ApiError, auth::Caller, layers};
use schemas::{DomainEvent, EventMetadata, NewEvent};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

pub const X_POSITION: HeaderName = HeaderName::from_static("x-position");
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const MAX_KEY_LENGTH: usize = 200;

/// Who sent a command, in answer to which request, and under which idempotency key.
pub struct CommandContext {
    pub metadata: EventMetadata,
    pub idempotency: Option<Idempotency>,
}

impl CommandContext {
    /// Reads the request id and the `Idempotency-Key`. The key is scoped to the actor and
    /// the operation; the fingerprint covers the operation and its validated input, so
    /// reusing a key for a different request is detected.
    pub fn new(
        headers: &HeaderMap,
        actor: Option<String>,
        operation: &str,
        input: &impl Serialize,
    ) -> Result<Self, ApiError> {
        let idempotency = match headers.get(IDEMPOTENCY_KEY) {
            None => None,
            Some(value) => {
                let key = value
                    .to_str()
                    .ok()
                    .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LENGTH)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
                        ))
                    })?;
                let scope = actor.as_deref().unwrap_or("anonymous");
                Some(Idempotency {
                    key: format!("{scope}:{key}"),
                    fingerprint: fingerprint(operation, input),
                })
            }
        };
        Ok(Self {
            metadata: EventMetadata {
                correlation_id: layers::request_id(headers),
                actor,
            },
            idempotency,
        })
    }
}

impl CommandContext {
    /// Makes `key`, scoped by the caller, the idempotency key in place of any header: for
    /// commands whose identity is in their input (a client's message id, a pair of users).
    pub fn with_key(mut self, key: String, operation: &str, input: &impl Serialize) -> Self {
        self.idempotency = Some(Idempotency {
            key,
            fingerprint: fingerprint(operation, input),
        });
        self
    }
}

/// A digest of an operation and its validated input.
fn fingerprint(operation: &str, input: &impl Serialize) -> String {
    let request = serde_json::to_vec(&(operation, input)).expect("input serializes");
    hex::encode(Sha256::digest(&request))
}

/// Parses `If-Match` into the version the client expects (`*` or absent: any).
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    tag.parse::<i64>()
        .ok()
        .filter(|version| *version > 0)
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "If-Match must be a version as returned in ETag (e.g. \"3\"), got {text:?}"
            ))
        })
}

/// The expected version to append with, after checking the client's `If-Match`.
pub fn expected_version(current: i64, if_match: Option<i64>) -> Result<ExpectedVersion, ApiError> {
    match if_match {
        Some(expected) if expected != current => Err(version_conflict(expected, current)),
        _ => Ok(ExpectedVersion::Exact(current)),
    }
}

fn version_conflict(expected: i64, current: i64) -> ApiError {
    ApiError::conflict(format!(
        "version {expected} is stale: the resource is at version {current}"
    ))
    .with_details(json!({ "expected_version": expected, "current_version": current }))
}

/// Maps a refused append to its response.
pub fn append_error(err: AppendError) -> ApiError {
    match err {
        AppendError::Conflict {
            expected, actual, ..
        } => {
            let expected_version = match expected {
                ExpectedVersion::NoStream => Some(0),
                ExpectedVersion::Exact(version) => Some(version),
                ExpectedVersion::Any => None,
            };
            ApiError::conflict(format!(
                "the resource changed concurrently: it is at version {actual}, expected {expected}"
            ))
            .with_details(
                json!({ "expected_version": expected_version, "current_version": actual }),
            )
        }
        AppendError::IdempotencyKeyReused => {
            ApiError::invalid("this Idempotency-Key was already used with a different request")
        }
        AppendError::Store(err) => ApiError::internal(err),
    }
}

/// Headers every successful command response carries.
pub fn position_headers(appended: &Appended) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(X_POSITION, HeaderValue::from(appended.last_position));
    headers.insert(header::ETAG, etag(appended.last_version));
    headers
}

/// A strong ETag of a version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header")
}

/// 201 for a creation, 200 otherwise; a replayed request answers as the first did.
pub fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// An aggregate whose state is folded from its stream's events.
pub trait Aggregate: Sized {
    type Event: DomainEvent;

    /// The state after one more event, which is at `version` in the stream.
    fn evolve(state: Option<Self>, event: &Self::Event, version: i64) -> Option<Self>;
}

/// Folds `events`, the first of them at `first_version`, into `state`.
pub fn fold<A: Aggregate>(state: Option<A>, events: &[A::Event], first_version: i64) -> Option<A> {
    events
        .iter()
        .zip(first_version..)
        .fold(state, |state, (event, version)| {
            A::evolve(state, event, version)
        })
}

/// An aggregate's state from its stream, up to `max_version` when given.
pub async fn load<A: Aggregate>(
    store: &EventStore,
    stream_id: &str,
    max_version: Option<i64>,
) -> Result<Option<A>, ApiError> {
    let events = load_events::<A::Event>(store, stream_id, max_version).await?;
    Ok(events.iter().fold(None, |state, (event, version)| {
        A::evolve(state, event, *version)
    }))
}

/// The answer the first request with this context's idempotency key got, rendered by
/// `respond` from the state its append left; None when the key is new.
pub async fn replay<A: Aggregate>(
    store: &EventStore,
    context: &CommandContext,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Option<Response>, ApiError> {
    let Some((stream_id, appended)) = earlier_outcome(store, context).await? else {
        return Ok(None);
    };
    let state = load::<A>(store, &stream_id, Some(appended.last_version)).await?;
    Ok(Some(respond(state, &appended)))
}

/// Starts a numbered stream. The store draws the number as the append commits and writes
/// it into the events, so numbers follow commit order and a retry answered from its
/// idempotency key uses none. `decide` gives the events for a number; `respond` renders the
/// state the append left (for a retry, the state the first request left).
pub async fn create_numbered<A: Aggregate>(
    store: &EventStore,
    numbered: Numbered,
    context: &CommandContext,
    decide: impl Fn(i64) -> Vec<A::Event>,
    respond: impl Fn(Option<A>, &Appended) -> Response,
) -> Result<Response, ApiError> {
    if let Some(response) = replay(store, context, &respond).await? {
        return Ok(response);
    }
    let events = decide(0).iter().map(NewEvent::from_domain).collect();
    let request = AppendRequest::numbered(numbered, events, context.metadata.clone())
        .with_idempotency(context.idempotency.clone());
    let appended = store.append(request).await.map_err(append_error)?;
    let Some(number) = appended.number.filter(|_| !appended.replayed) else {
        // A concurrent retry with the same key committed first: answer as it did.
        return replayed(store, context, &respond).await;
    };
    Ok(respond(
        fold(None, &decide(number), appended.first_version),
        &appended,
    ))
}

/// The answer to a request whose key an earlier, concurrent request committed first.
pub async fn replayed<A: Aggregate>(
    store: &EventStore,
    context: &CommandContext,
    respond: impl FnOnce(Option<A>, &Appended) -> Response,
) -> Result<Response, ApiError> {
    replay(store, context, respond)
        .await?
        .ok_or_else(|| ApiError::internal("idempotency key vanished"))
}

/// A stream's events decoded, each with its version, up to `max_version` when given.
pub async fn load_events<E: DomainEvent>(
    store: &EventStore,
    stream_id: &str,
    max_version: Option<i64>,
) -> Result<Vec<(E, i64)>, ApiError> {
    let recorded = store
        .log()
        .read_stream(stream_id, max_version)
        .await
        .map_err(ApiError::internal)?;
    recorded
        .iter()
        .map(|event| {
            E::decode(&event.event_type, event.schema_version, event.data.clone())
                .map(|decoded| (decoded, event.stream_version))
                .map_err(ApiError::internal)
        })
        .collect()
}

/// Where the first request with this context's idempotency key landed (its stream and
/// append), if one was seen; the same key with a different request is refused.
pub async fn earlier_outcome(
    store: &EventStore,
    context: &CommandContext,
) -> Result<Option<(String, Appended)>, ApiError> {
    let Some(idempotency) = &context.idempotency else {
        return Ok(None);
    };
    let outcome = store
        .idempotent_outcome(&idempotency.key)
        .await
        .map_err(ApiError::internal)?;
    let Some((fingerprint, stream_id, appended)) = outcome else {
        return Ok(None);
    };
    if fingerprint != idempotency.fingerprint {
        return Err(append_error(AppendError::IdempotencyKeyReused));
    }
    Ok(Some((stream_id, appended)))
}

/// Who issues a command, as the aggregates see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub admin: bool,
}

impl Actor {
    pub fn of(caller: &Caller) -> Self {
        Self {
            user_id: caller.user_id,
            admin: caller.is_admin(),
        }
    }
}

/// Now, to the microsecond: PostgreSQL keeps times to the microsecond, so the event, the
/// response and the read model all say the same.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_microsecond(now.microsecond())
        .expect("a microsecond of a valid time is valid")
}
