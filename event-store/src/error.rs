use event_log::StoreError;

/// Why an append was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream is not at the version the command was decided on.
    #[error("stream {stream_id} is at version {actual}, expected {expected}")]
    Conflict {
        stream_id: String,
        expected: crate::ExpectedVersion,
        actual: i64,
    },
    /// The idempotency key was already used for a different request.
    #[error("idempotency key was already used for a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}
