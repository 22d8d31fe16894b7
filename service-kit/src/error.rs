//! The error envelope: `{"status":"error","error":{"code","message","details","trace_id"}}`.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidInput,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Internal,
    Unavailable,
    Timeout,
}

/// An error a handler returns; rendered as the error envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The request id, so a report can be matched with the logs.
    pub trace_id: Option<String>,
    /// The `WWW-Authenticate` challenge of a 401.
    #[serde(skip)]
    pub challenge: Option<String>,
    /// The `Retry-After` seconds of a 503 the client may simply retry.
    #[serde(skip)]
    pub retry_after: Option<u16>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always `error`.
    #[schema(example = "error")]
    pub status: &'static str,
    pub error: ApiError,
}

/// The 401 of every endpoint that needs an access token, for OpenAPI annotations:
/// `responses(..., Unauthorized)`.
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "No valid access token")]
pub struct Unauthorized(pub ErrorBody);

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            trace_id: None,
            challenge: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Sets the `WWW-Authenticate` header of the response.
    pub fn with_challenge(mut self, challenge: &str) -> Self {
        self.challenge = Some(challenge.to_owned());
        self
    }

    /// 401: no valid credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// 400: the request cannot be parsed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidInput, message)
    }

    /// 422: the request parses but breaks a rule.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
            message,
        )
    }

    /// 422 naming every broken rule of a body: `details.fields` maps each field to its
    /// rule, and the message joins them as "<field> <rule>".
    pub fn invalid_fields(fields: serde_json::Map<String, Value>) -> Self {
        let message = fields
            .iter()
            .map(|(field, rule)| format!("{field} {}", rule.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("; ");
        Self::invalid(message).with_details(serde_json::json!({ "fields": fields }))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            message,
        )
    }

    /// 503 with `Retry-After` when `cause` is the database out of reach (restarting, or
    /// no connection free in time): the request did nothing or, for a command, may be
    /// retried under its `Idempotency-Key`. Any other cause is a 500, as [`Self::internal`].
    pub fn failure(cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        if !crate::unavailable::is_unavailable(&cause) {
            return Self::internal(format!("{cause:#}"));
        }
        tracing::warn!(error = format!("{cause:#}"), "database unavailable");
        let seconds = crate::unavailable::RETRY_AFTER_SECONDS;
        let mut error = Self::unavailable("the service is briefly unavailable; retry shortly")
            .with_details(serde_json::json!({ "retry_after_seconds": seconds }));
        error.retry_after = Some(seconds);
        error
    }

    /// 500: logs the cause, tells the client nothing about it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
    }

    /// The default envelope for a bare status produced outside any handler.
    pub fn from_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidInput,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::InvalidInput,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorCode::Timeout,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        };
        let message = status.canonical_reason().unwrap_or("error").to_lowercase();
        Self::new(status, code, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The request-id layer fills in trace_id; it needs the error, not its bytes.
        let status = self.status;
        let mut response = (
            status,
            axum::Json(ErrorBody {
                status: "error",
                error: self.clone(),
            }),
        )
            .into_response();
        if let Some(challenge) = self
            .challenge
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(self);
        response
    }
}
