//! Responses rendered once, so cached bodies are sent as they are.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http_kit::response::Envelope;

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
