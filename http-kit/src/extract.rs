//! Extractors whose rejections are [`ApiError`]s with precise messages.

use axum::{
    extract::{
        FromRequest, FromRequestParts, Request,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::{StatusCode, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body. Syntax errors are 400, type or shape errors 422, a wrong content type 415.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
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

/// Query parameters; a malformed one is a 400 naming it.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(err)) => {
                Err(ApiError::bad_request(err.body_text()))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}
