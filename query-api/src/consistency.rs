//! `X-Min-Position`: a client that wrote can always read its own write.

use std::time::Duration;

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
};
use serde_json::json;
use service_kit::{ApiError, ErrorCode};
use sqlx::PgPool;

use crate::{chat::hub::Hub, read_model::ReadModel};

pub const X_MIN_POSITION: &str = "x-min-position";

/// The position a query must reflect, from the `X-Min-Position` header.
#[derive(Debug, Clone, Copy, Default)]
pub struct MinPosition(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for MinPosition {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(X_MIN_POSITION) else {
            return Ok(Self(None));
        };
        value
            .to_str()
            .ok()
            .and_then(Self::parse)
            .map(|position| Self(Some(position)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "X-Min-Position must be a non-negative integer position, as returned in X-Position",
                )
            })
    }
}

impl MinPosition {
    /// A position as clients send it: a non-negative integer, surrounding space allowed.
    pub fn parse(text: &str) -> Option<i64> {
        text.trim()
            .parse::<i64>()
            .ok()
            .filter(|position| *position >= 0)
    }

    /// Waits, bounded, until `view` reflects the position. A position the log has not
    /// reached yet is refused at once instead of waiting for nothing.
    pub async fn wait(
        self,
        view: &impl Reflects,
        pool: &PgPool,
        timeout: Duration,
    ) -> Result<(), ApiError> {
        let Some(position) = self.0 else {
            return Ok(());
        };
        if view.reflected() >= position {
            return Ok(());
        }
        let head = event_log::read::head(pool)
            .await
            .map_err(ApiError::failure)?;
        if position > head {
            return Err(ApiError::bad_request(format!(
                "position {position} has not been written: the log ends at {head}"
            ))
            .with_details(json!({ "min_position": position, "log_position": head })));
        }
        view.reach(position, timeout).await
    }
}

/// What a query can be asked to wait on: a read model, or the live streams' hub.
pub trait Reflects: Sync {
    /// The position up to which it reflects the log.
    fn reflected(&self) -> i64;

    /// Waits, at most `timeout`, until it reflects `position`.
    fn reach(
        &self,
        position: i64,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

impl Reflects for ReadModel {
    fn reflected(&self) -> i64 {
        self.position()
    }

    fn reach(
        &self,
        position: i64,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        self.wait_for(position, timeout)
    }
}

/// The hub covers chat and email at once: a stream opened after it reached a position
/// carries everything after that position live, whichever context wrote it.
impl Reflects for Hub {
    fn reflected(&self) -> i64 {
        self.position()
    }

    async fn reach(&self, position: i64, timeout: Duration) -> Result<(), ApiError> {
        if self.wait_for(position, timeout).await {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::Timeout,
            format!(
                "the live streams have not reached position {position} within {} ms",
                timeout.as_millis()
            ),
        )
        .with_details(json!({
            "min_position": position,
            "stream_position": self.position(),
        })))
    }
}
