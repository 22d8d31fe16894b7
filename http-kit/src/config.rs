//! Settings every service reads from its environment (or flags of the same name).

use std::net::SocketAddr;

use crate::telemetry::LogFormat;

/// Settings shared by every service.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonConfig {
    /// PostgreSQL URL; the database is created and migrated on start.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/platform"
    )]
    pub database_url: String,

    /// Kafka bootstrap servers. Unset: embedded mode, consumers follow the PostgreSQL log.
    #[arg(long, env = "KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,

    /// Prefix of the per-context topics.
    #[arg(long, env = "KAFKA_TOPIC_PREFIX", default_value = "events.")]
    pub kafka_topic_prefix: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,

    /// Secret that signs access tokens.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Largest number of PostgreSQL connections this service opens.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

impl CommonConfig {
    /// The HTTP address, or the service's default.
    pub fn http_addr_or(&self, port: u16) -> SocketAddr {
        self.http_addr
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], port)))
    }
}
