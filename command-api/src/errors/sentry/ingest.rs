//! The two endpoints Sentry SDKs send to: `envelope` (an envelope of items, of which the
//! `event`s are recorded and the rest ignored) and the older `store` (one event). Both
//! answer as Sentry does, `200 {"id": "<event id>"}`, which is what SDKs read; failures
//! keep the platform's error envelope (SDKs only read their status).
//!
//! The order of the checks: the client key (`401` without one), the project (`404` when
//! there is none, which includes the platform's own project 0, reported to by the
//! platform itself and never over HTTP), the key (`403` when it is not the project's
//! current one), the body (`400` when malformed, `413` when too large), the quota (`429`),
//! then the events are recorded, each once: an event sent again is answered `200` with
//! its id and recorded no second time.

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use error_report::{
    project::Project,
    recorder::Recorded,
    sentry::{self as events, Received},
};
use schemas::{
    EventMetadata,
    errors::{ErrorLogged, PLATFORM_PROJECT},
};
use serde::Serialize;
use service_kit::{ApiError, ErrorCode, Path, error::ErrorBody, layers};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{auth, envelope::Envelope};
use crate::{
    AppState,
    command::{self, X_POSITION},
};

/// Largest envelope taken, once decompressed (Bugsink's limit on a compressed one; a
/// larger decompressed one would cost this service too much memory).
pub const MAX_ENVELOPE_BYTES: usize = 20 * 1024 * 1024;
/// Largest event taken (an envelope's `event` item, or the body of `store`).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// What SDKs are answered: the id of the event recorded, none for an envelope without one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// 32 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "85727085acb8484690f4d47cf632eeb4")]
    pub id: Option<String>,
}

/// Take an envelope from a Sentry SDK (the endpoint a DSN points SDKs to). Its `event`
/// items are recorded as errors of the project; other items (sessions, client reports,
/// transactions, attachments, logs) are accepted and ignored. The client key comes from
/// `X-Sentry-Auth`, the `sentry_key` query parameter or the envelope header's `dsn`. The
/// body may be compressed (`Content-Encoding: gzip`, `deflate` or `br`); it may hold up to
/// 20 MiB once decompressed, each event up to 1 MiB. A changed key or quota takes effect
/// within `SENTRY_PROJECT_CACHE_SECONDS`.
#[utoipa::path(
    post, path = "/api/{project_id}/envelope/", tag = "sentry",
    request_body(content = String, content_type = "application/x-sentry-envelope",
                 description = "A Sentry envelope: a JSON header line, then items (a JSON header line and a payload each)"),
    params(
        ("project_id" = i64, Path, description = "The project's number, the last part of its DSN"),
        ("X-Sentry-Auth" = Option<String>, Header, description = "`Sentry sentry_key=<key>, sentry_version=7, ...`"),
        ("sentry_key" = Option<String>, Query, description = "The client key, as JavaScript SDKs send it"),
    ),
    responses(
        (status = 200, description = "Recorded, or already recorded before (the same event id)", body = Accepted,
         headers(("X-Position" = i64, description = "The global position of the append, when one was made"))),
        (status = 400, description = "Malformed envelope, event or compression", body = ErrorBody),
        (status = 401, description = "No client key", body = ErrorBody),
        (status = 403, description = "Not the project's client key", body = ErrorBody),
        (status = 404, description = "No such project (project 0, the platform's, takes no reports over HTTP)", body = ErrorBody),
        (status = 413, description = "Envelope over 20 MiB decompressed, or an event over 1 MiB", body = ErrorBody),
        (status = 415, description = "A Content-Encoding other than gzip, deflate or br", body = ErrorBody),
        (status = 429, description = "Over the project's quota of events a minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("X-Sentry-Rate-Limits" = String, description = "`<seconds>:error:project`"))),
    )
)]
pub async fn envelope(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(unreadable)?;
    let envelope = Envelope::parse(&body);
    let dsn_key = || {
        let header = &envelope.as_ref().ok()?.header;
        auth::from_dsn(header.get("dsn")?.as_str()?)
    };
    let key = request_key(&headers, query.as_deref()).or_else(dsn_key);
    let project = authenticate(&state, project, key).await?;
    let envelope =
        envelope.map_err(|err| ApiError::bad_request(format!("malformed envelope: {err}")))?;
    let payloads: Vec<&[u8]> = envelope
        .events()
        .map(|item| item.payload.as_slice())
        .collect();
    // The header's event id stands for the event's own only when there is one event.
    let header_id = (payloads.len() == 1).then(|| envelope.event_id()).flatten();
    record(&state, &project, &headers, &payloads, header_id).await
}

/// Take one event from an older Sentry SDK (the endpoint before envelopes). The client key
/// comes from `X-Sentry-Auth` or the `sentry_key` query parameter; the body may be
/// compressed as the envelope's may, and holds up to 1 MiB.
#[utoipa::path(
    post, path = "/api/{project_id}/store/", tag = "sentry",
    request_body(content = Object, content_type = "application/json", description = "A Sentry event"),
    params(
        ("project_id" = i64, Path, description = "The project's number, the last part of its DSN"),
        ("X-Sentry-Auth" = Option<String>, Header, description = "`Sentry sentry_key=<key>, sentry_version=7, ...`"),
        ("sentry_key" = Option<String>, Query, description = "The client key, as JavaScript SDKs send it"),
    ),
    responses(
        (status = 200, description = "Recorded, or already recorded before (the same event id)", body = Accepted,
         headers(("X-Position" = i64, description = "The global position of the append, when one was made"))),
        (status = 400, description = "Malformed event or compression", body = ErrorBody),
        (status = 401, description = "No client key", body = ErrorBody),
        (status = 403, description = "Not the project's client key", body = ErrorBody),
        (status = 404, description = "No such project (project 0, the platform's, takes no reports over HTTP)", body = ErrorBody),
        (status = 413, description = "An event over 1 MiB", body = ErrorBody),
        (status = 415, description = "A Content-Encoding other than gzip, deflate or br", body = ErrorBody),
        (status = 429, description = "Over the project's quota of events a minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("X-Sentry-Rate-Limits" = String, description = "`<seconds>:error:project`"))),
    )
)]
pub async fn store(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(unreadable)?;
    let key = request_key(&headers, query.as_deref());
    let project = authenticate(&state, project, key).await?;
    record(&state, &project, &headers, &[body.as_ref()], None).await
}

/// The client key of the request's `X-Sentry-Auth` header or query string.
fn request_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let header = headers
        .get("x-sentry-auth")
        .and_then(|v| v.to_str().ok())
        .and_then(auth::from_header);
    header.or_else(|| query.and_then(auth::from_query))
}

/// The project `id` when `key` is its client key.
async fn authenticate(
    state: &AppState,
    id: i64,
    key: Option<String>,
) -> Result<std::sync::Arc<Project>, ApiError> {
    let key = key.ok_or_else(|| {
        ApiError::unauthorized(
            "no client key: send X-Sentry-Auth: Sentry sentry_key=<key>, or ?sentry_key=<key>",
        )
    })?;
    let project = match state.sentry.projects.get(id).await? {
        Some(project) if project.id != PLATFORM_PROJECT => project,
        _ => return Err(ApiError::not_found(format!("no project {id}"))),
    };
    if !project.accepts_key(&key) {
        return Err(ApiError::forbidden(format!(
            "this is not the client key of project {id}"
        )));
    }
    Ok(project)
}

/// Reads the events, spends the quota and records them; answers with the first event's id.
async fn record(
    state: &AppState,
    project: &Project,
    headers: &HeaderMap,
    payloads: &[&[u8]],
    header_id: Option<Uuid>,
) -> Result<Response, ApiError> {
    let errors = read_events(project.id, payloads, header_id)?;
    let Some(first) = errors.first().map(|error| error.event_id) else {
        return Ok(Json(Accepted { id: None }).into_response());
    };
    if let Err(over) =
        state
            .sentry
            .quotas
            .spend(project.id, project.rate_limit_per_minute, errors.len())
    {
        metrics::counter!("sentry_events_total", "outcome" => "rate_limited")
            .increment(errors.len() as u64);
        return Ok(over.into_response());
    }
    let metadata = EventMetadata {
        correlation_id: layers::request_id(headers),
        actor: None,
    };
    let batch = errors.into_iter().map(|e| (e, metadata.clone())).collect();
    let mut position = None;
    for outcome in state.sentry.recorder.record_many(batch).await {
        match outcome.map_err(ApiError::failure)? {
            Recorded::Appended { position: at } => {
                metrics::counter!("sentry_events_total", "outcome" => "recorded").increment(1);
                position = position.max(Some(at));
            }
            Recorded::Duplicate => {
                metrics::counter!("sentry_events_total", "outcome" => "duplicate").increment(1);
            }
        }
    }
    let mut response = Json(Accepted {
        id: Some(first.simple().to_string()),
    })
    .into_response();
    if let Some(position) = position {
        response
            .headers_mut()
            .insert(X_POSITION, HeaderValue::from(position));
    }
    Ok(response)
}

/// The events of `payloads` as errors of `project`, each at most [`MAX_EVENT_BYTES`].
fn read_events(
    project: i64,
    payloads: &[&[u8]],
    header_id: Option<Uuid>,
) -> Result<Vec<ErrorLogged>, ApiError> {
    let received = Received {
        project,
        event_id: header_id,
        at: command::now(),
    };
    payloads
        .iter()
        .map(|payload| {
            if payload.len() > MAX_EVENT_BYTES {
                return Err(too_large(format!(
                    "an event holds {} bytes; at most {MAX_EVENT_BYTES} are taken",
                    payload.len()
                )));
            }
            events::error_logged(payload, received).map_err(|err| {
                metrics::counter!("sentry_events_total", "outcome" => "invalid").increment(1);
                ApiError::bad_request(err.to_string())
            })
        })
        .collect()
}

fn too_large(message: String) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        message,
    )
}

/// A body that could not be read: too large once decompressed, or broken compression.
fn unreadable(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(format!(
            "the body holds more than {MAX_ENVELOPE_BYTES} bytes once decompressed"
        ))
    } else {
        ApiError::bad_request(format!(
            "the body cannot be read: {}",
            rejection.body_text()
        ))
    }
}
