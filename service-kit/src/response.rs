//! The success envelope: `{"status":"ok","data":...}`.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every successful response that has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    pub data: T,
}

/// Wraps data in the success envelope.
pub fn ok<T: Serialize>(data: T) -> Json<Envelope<T>> {
    Json(Envelope { status: "ok", data })
}
