//! Extractors whose rejections are [`ApiError`]s with precise messages.

use axum::{
    body::Bytes,
    extract::{
        FromRequest, FromRequestParts, Request,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ApiError;

/// A JSON object body. Syntax errors are 400, type or shape errors 422 (naming the
/// field), a wrong content type 415.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                crate::ErrorCode::InvalidInput,
                "expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::from_status(rejection.status()))?;
        // Derived deserializers also accept an array for a struct; a body is an object.
        let starts_as_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !starts_as_object && let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            return Err(ApiError::invalid(format!(
                "invalid type: {}, expected a JSON object as the body",
                kind(&value)
            )));
        }
        refuse_nul(&bytes)?;
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| Self(value))
            .map_err(json_rejection)
    }
}

/// PostgreSQL stores no NUL character (`\u0000`) in text or `jsonb`: a body holding one
/// anywhere is refused here, naming where, before it can fail an append (and with it the
/// other requests committed in the same batch).
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // The escape may be a backslash followed by `u0000`: only the parsed text tells.
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(());
    };
    match nul_at(&value, "") {
        Some(field) => Err(ApiError::invalid_fields(serde_json::Map::from_iter([(
            field,
            Value::from("must not contain a NUL character"),
        )]))),
        None => Ok(()),
    }
}

/// Where in `value` a string or a key holds a NUL character (`field`, `list[2]`,
/// `outer.inner`).
fn nul_at(value: &Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, field)| {
            if key.contains('\0') {
                Some(join(&key.replace('\0', "\\u0000")))
            } else {
                nul_at(field, &join(key))
            }
        }),
        _ => None,
    }
}

fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::Null => "null",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match &rejection {
        JsonRejection::JsonDataError(err) => std::error::Error::source(err)
            .map(ToString::to_string)
            .unwrap_or_else(|| err.body_text()),
        JsonRejection::JsonSyntaxError(err) => std::error::Error::source(err)
            .map(|cause| format!("malformed JSON: {cause}"))
            .unwrap_or_else(|| err.body_text()),
        JsonRejection::MissingJsonContentType(_) => {
            "expected a body with Content-Type: application/json".to_owned()
        }
        other => other.body_text(),
    };
    let status = match status {
        StatusCode::PAYLOAD_TOO_LARGE => return ApiError::from_status(status),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => status,
        StatusCode::UNPROCESSABLE_ENTITY => status,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, crate::ErrorCode::InvalidInput, message)
}

/// Path parameters; a malformed one is a 400 naming it.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(err)) => {
                Err(ApiError::bad_request(err.body_text()))
            }
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}

/// The name of a query parameter holding an encoded NUL character (`%00`), which no
/// query may hand on to PostgreSQL.
fn nul_parameter(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name.contains("%00") || value.contains("%00")).then_some(name)
    })
}

/// Query parameters; a malformed one is a 400 naming it.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(name) = parts.uri.query().and_then(nul_parameter) {
            return Err(ApiError::bad_request(format!(
                "query parameter {name} must not contain a NUL character (%00)"
            )));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(err)) => {
                Err(ApiError::bad_request(err.body_text()))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_nul_anywhere_in_a_body_is_named() {
        let body = json!({ "name": "ok", "lines": [{ "note": "a\u{0}b" }] }).to_string();
        let refused = refuse_nul(body.as_bytes()).unwrap_err();
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let refused = serde_json::to_value(&refused).unwrap();
        assert_eq!(
            refused["details"]["fields"]["lines[0].note"], "must not contain a NUL character",
            "{refused}"
        );
        // An escaped backslash before `u0000` is no NUL.
        assert!(refuse_nul(br#"{"name": "C:\\u0000dir"}"#).is_ok());
        assert!(refuse_nul(br#"{"name": "plain"}"#).is_ok());
    }

    #[test]
    fn a_nul_in_a_query_names_its_parameter() {
        assert_eq!(nul_parameter("q=%C3%94%00&page=1"), Some("q"));
        assert_eq!(nul_parameter("page=1&size=2"), None);
    }
}
