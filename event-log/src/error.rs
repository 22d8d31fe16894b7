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
