//! Settings every service reads from its environment (or flags of the same name).
//!
//! Secrets are `SecretString`s: their `Debug` is redacted, so printing a configuration
//! cannot leak them, and reading one takes an explicit `expose_secret()`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::{
    auth::Tokens,
    public_url::{PublicAddress, PublicUrl},
    telemetry::LogFormat,
};

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

    /// Secret that signs access tokens; every instance must share it. Unset: a random
    /// one per process (tokens then die with the process and only it accepts them).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,

    /// Seconds an access token is valid.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900)]
    pub access_token_ttl_seconds: u64,

    /// Largest number of PostgreSQL connections this service opens.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,

    /// Where clients reach the platform from outside (`https://errors.example.com`), for
    /// the addresses it hands out, such as a project's DSN. Unset: the host each request
    /// was addressed to.
    #[arg(long, env = "PUBLIC_URL", value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

impl CommonConfig {
    /// The token issuer and verifier these settings describe.
    pub fn tokens(&self) -> Arc<Tokens> {
        let ttl = Duration::from_secs(self.access_token_ttl_seconds);
        let secret = match &self.jwt_secret {
            Some(secret) => secret.expose_secret().to_owned(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret; tokens will not survive a restart"
                );
                format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
            }
        };
        Arc::new(Tokens::new(secret.as_bytes(), ttl))
    }

    /// `PUBLIC_URL`, or else the address requests come to (`port`: the service's default).
    pub fn public_address(&self, port: u16) -> PublicAddress {
        PublicAddress::new(self.public_url.clone(), self.http_addr_or(port))
    }

    /// The HTTP address, or the service's default.
    pub fn http_addr_or(&self, port: u16) -> SocketAddr {
        self.http_addr
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Settings {
        #[command(flatten)]
        common: CommonConfig,
    }

    #[test]
    fn a_printed_configuration_does_not_show_the_token_secret() {
        let config = Settings::try_parse_from(["test", "--jwt-secret", "hunter2-signing-key"])
            .expect("valid settings");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        let secret = config
            .common
            .jwt_secret
            .as_ref()
            .expect("the secret was given");
        assert_eq!(secret.expose_secret(), "hunter2-signing-key");
    }
}
