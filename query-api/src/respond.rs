//! Responses rendered once, so cached bodies are sent as they are.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use service_kit::response::Envelope;

/// The success envelope around `data`, as bytes.
pub fn render<T: serde::Serialize>(data: T) -> Bytes {
    serde_json::to_vec(&Envelope { status: "ok", data })
        .expect("read models serialize")
        .into()
}

/// A rendered JSON body, with its ETag when it has one.
pub fn json(body: Bytes, etag: Option<HeaderValue>) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// A rendered resource at `version`: `304` when `If-None-Match` names that version,
/// otherwise the body with the version as its ETag.
pub fn versioned(body: Bytes, version: i64, headers: &HeaderMap) -> Response {
    let current = format!("\"{version}\"");
    if none_match(headers, &current) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag(version))]).into_response();
    }
    json(body, Some(etag(version)))
}

/// The strong ETag of a version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits")
}

/// Whether `If-None-Match` names the `current` entity tag (weak comparison, lists and
/// `*`, as RFC 9110 asks for GET).
pub fn none_match(headers: &HeaderMap, current: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current)
}
