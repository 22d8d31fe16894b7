//! What a command answers: the headers of a success, and the errors of a refused append.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use event_store::{AppendError, Appended, ExpectedVersion};
use serde_json::json;
use service_kit::ApiError;

pub const X_POSITION: HeaderName = HeaderName::from_static("x-position");

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
        AppendError::Store(err) => ApiError::failure(err),
    }
}
