//! What a command carries besides its input: who sends it, in answer to which request,
//! under which idempotency key, the version `If-Match` expects, and when it happens.

use axum::http::{HeaderMap, HeaderName, header};
use event_store::{ExpectedVersion, Idempotency};
use schemas::EventMetadata;
pub use schemas::clock::now;
use serde::Serialize;
use serde_json::json;
use service_kit::{ApiError, auth::Caller, layers};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
