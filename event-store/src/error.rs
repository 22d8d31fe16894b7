/// Failures of the store itself (database, broker, decoding).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the appender has stopped")]
    AppenderStopped,
    #[error("the log's notice listener has stopped")]
    ListenerClosed,
}

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
