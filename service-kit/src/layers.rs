//! The middleware stack every service wraps its router in.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use http_body_util::Limited;
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::ApiError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct Limits {
    pub body_bytes: usize,
    pub timeout: Duration,
    /// Routes that take larger bodies than `body_bytes`; the first that matches applies.
    pub larger_bodies: Vec<LargerBodies>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            timeout: Duration::from_secs(30),
            larger_bodies: Vec::new(),
        }
    }
}

/// Paths whose requests may carry up to `max_bytes` (such as an ingestion endpoint that
/// other applications send batches to).
#[derive(Debug, Clone, Copy)]
pub struct LargerBodies {
    pub path: fn(&str) -> bool,
    pub max_bytes: usize,
}

impl Limits {
    fn body_bytes_for(&self, path: &str) -> usize {
        self.larger_bodies
            .iter()
            .find(|larger| (larger.path)(path))
            .map_or(self.body_bytes, |larger| larger.max_bytes)
    }
}

/// Adds request ids, tracing, metrics, error envelopes, timeouts and body limits.
/// Call it last, once every route is in the router.
pub fn wrap(router: Router, limits: Limits) -> Router {
    // Each `layer` call wraps the previous ones: the last listed runs first.
    let timeout = limits.timeout;
    router
        .fallback(|| async { ApiError::not_found("no such resource") })
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::new(limits),
            limit_body,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn(envelope_errors))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        uri = %request.uri(),
                        request_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeUniqueId))
        .layer(middleware::map_request(drop_unusable_request_id))
}

/// Refuses a body announced larger than its route takes (`413`), and cuts one that turns
/// out larger while it is read (the extractor reading it then answers `413`).
async fn limit_body(
    State(limits): State<std::sync::Arc<Limits>>,
    request: Request,
    next: Next,
) -> Response {
    let max = limits.body_bytes_for(request.uri().path());
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max as u64) {
        return ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE).into_response();
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(Limited::new(body, max));
    next.run(Request::from_parts(parts, body)).await
}

/// Request ids in UUID form (version 8), unique without a system call each: a random
/// number drawn once per process, then a counter.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeUniqueId;

impl MakeRequestId for MakeUniqueId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        static PROCESS: OnceLock<u64> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let process = *PROCESS.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
        let count = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&process.to_be_bytes());
        bytes[8..].copy_from_slice(&count.to_be_bytes());
        let id = uuid::Builder::from_custom_bytes(bytes).into_uuid();
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// Longest client-sent request id kept.
const MAX_REQUEST_ID: usize = 128;

/// A client-sent request id that cannot be logged, stored and echoed as it is (not
/// visible ASCII, or too long) is dropped, so a fresh one is generated.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request.headers().get(REQUEST_ID).is_none_or(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID
            && bytes.iter().all(|b| b.is_ascii_graphic())
    });
    if !usable {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// The request id of a request (set by the request-id layer).
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Gives every error response the envelope and the request id as `trace_id`, including
/// bare statuses produced by layers or the router (405, 408, 413, ...).
async fn envelope_errors(request: Request, next: Next) -> Response {
    // A cheap copy: most responses are no errors and never need it as text.
    let request_id = request.headers().get(REQUEST_ID).cloned();
    let mut response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let mut error = response
        .extensions_mut()
        .remove::<ApiError>()
        .unwrap_or_else(|| ApiError::from_status(status));
    error.trace_id = Some(
        request_id
            .and_then(|id| id.to_str().ok().map(str::to_owned))
            .unwrap_or_default(),
    );
    let (mut parts, _) = response.into_parts();
    let fresh = error.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_request_ids_are_distinct_version_8_uuids() {
        let request = axum::http::Request::new(());
        let mut make = MakeUniqueId;
        let ids: Vec<uuid::Uuid> = (0..1000)
            .map(|_| {
                let id = make.make_request_id(&request).unwrap();
                id.header_value().to_str().unwrap().parse().unwrap()
            })
            .collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 8));
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
