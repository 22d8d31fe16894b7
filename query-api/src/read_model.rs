//! How far a read model reflects the log, as this instance knows it.

use std::time::Duration;

use serde_json::json;
use service_kit::{ApiError, ErrorCode};
use tokio::sync::watch;

/// Progress of one projection as seen by this query-api instance.
pub struct ReadModel {
    pub projection: &'static str,
    pub context: &'static str,
    /// The projection's checkpoint (from the projector's notifications).
    applied: watch::Sender<i64>,
    /// How far this instance's own stream follower has invalidated its caches.
    seen: watch::Sender<i64>,
}

impl ReadModel {
    pub fn new(projection: &'static str, context: &'static str) -> Self {
        Self {
            projection,
            context,
            applied: watch::Sender::new(0),
            seen: watch::Sender::new(0),
        }
    }

    pub fn set_applied(&self, position: i64) {
        self.applied.send_if_modified(|p| raise(p, position));
    }

    pub fn set_seen(&self, position: i64) {
        self.seen.send_if_modified(|p| raise(p, position));
    }

    pub fn applied(&self) -> i64 {
        *self.applied.borrow()
    }

    pub fn seen(&self) -> i64 {
        *self.seen.borrow()
    }

    /// The position up to which both the rows and this instance's caches are current.
    pub fn position(&self) -> i64 {
        self.applied().min(self.seen())
    }

    /// Waits until the read model reflects `position`, at most `timeout`.
    pub async fn wait_for(&self, position: i64, timeout: Duration) -> Result<(), ApiError> {
        let mut applied = self.applied.subscribe();
        let mut seen = self.seen.subscribe();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            if self.position() >= position {
                return Ok(());
            }
            tokio::select! {
                _ = applied.changed() => {}
                _ = seen.changed() => {}
                _ = &mut deadline => return Err(self.too_slow(position, timeout)),
            }
        }
    }

    fn too_slow(&self, position: i64, timeout: Duration) -> ApiError {
        ApiError::new(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::Timeout,
            format!(
                "the {} read model has not reached position {position} within {} ms",
                self.projection,
                timeout.as_millis()
            ),
        )
        .with_details(json!({
            "min_position": position,
            "read_model_position": self.position(),
        }))
    }
}

fn raise(current: &mut i64, position: i64) -> bool {
    if position > *current {
        *current = position;
        true
    } else {
        false
    }
}
