/// Failures of the store itself (database, broker, decoding).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database went away while an append ran, which may or may not have committed;
    /// told to each request the append carried.
    #[error("database unreachable: {0}")]
    Unreachable(String),
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

impl StoreError {
    /// Whether the database was out of reach: restarting, the connection cut, or no
    /// pooled connection free in time. Nothing is wrong with the request; a retry soon
    /// succeeds.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Database(err) => unreachable(err),
            _ => false,
        }
    }
}

/// Whether `err` means the database was out of reach (see [`StoreError::is_unreachable`]).
pub fn unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unreachable_state(&code)),
        _ => false,
    }
}

/// SQLSTATEs of a server going away or not yet accepting: class 08 (connection
/// exception), 57P01-57P03 (shut down by an administrator, crashed, not yet accepting
/// connections) and 53300 (too many connections).
fn unreachable_state(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_and_an_exhausted_pool_are_unreachable() {
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(StoreError::from(refused).is_unreachable());
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unreachable());
        assert!(StoreError::Unreachable("cut".into()).is_unreachable());
    }

    #[test]
    fn other_failures_are_not_unreachable() {
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unreachable());
        assert!(!StoreError::Malformed("x".into()).is_unreachable());
    }

    #[test]
    fn shutdown_and_connection_states_are_unreachable_and_others_not() {
        for code in ["57P01", "57P02", "57P03", "08006", "08001", "53300"] {
            assert!(unreachable_state(code), "{code}");
        }
        for code in ["23505", "40001", "57014", "42P01"] {
            assert!(!unreachable_state(code), "{code}");
        }
    }
}
