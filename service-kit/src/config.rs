//! Settings every service reads from its environment (or flags of the same name).
//!
//! Secrets are `SecretString`s: their `Debug` is redacted, so printing a configuration
//! cannot leak them, and reading one takes an explicit `expose_secret()`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::{
    auth::Tokens,
    capture::CaptureSettings,
    connections::ConnectionLimits,
    public_url::{PublicAddress, PublicUrl},
    server::Listen,
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

    /// Address `/metrics` is served on, for Prometheus and operators only. Unset: the
    /// loopback interface, on the HTTP default port plus 1000.
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Milliseconds a connection has to send a request's head once it is ready for one:
    /// a client sending its headers slowly, or a keep-alive connection idle between
    /// requests, is closed after it. Responses (live streams) are not limited by it.
    #[arg(long, env = "HTTP_HEADER_READ_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub http_header_read_timeout_ms: u64,

    /// Secret that signs access tokens; every instance must share it. Unset: a random
    /// one per process (tokens then die with the process and only it accepts them).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,

    /// Seconds an access token is valid.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900)]
    pub access_token_ttl_seconds: u64,

    /// Milliseconds a statement may run before PostgreSQL cancels it (the request then
    /// answers 503), so slow queries cannot hold every connection; 0: no limit. Unset:
    /// 5000 in command-api, query-api and the platform, no limit in the projector. Migrations
    /// and the projector's batches run without it.
    #[arg(long, env = "DATABASE_STATEMENT_TIMEOUT_MS")]
    pub database_statement_timeout_ms: Option<u64>,

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

    #[command(flatten)]
    pub capture: CaptureSettings,
}

impl CommonConfig {
    /// Installs the logs and the capture of errors of `service` (see
    /// [`crate::telemetry::init`]).
    pub fn init_telemetry(&self, service: &str) {
        crate::telemetry::init(service, self.log_format, &self.capture);
    }

    /// The token issuer and verifier of a process that alone issues and verifies its
    /// tokens: a random secret when `JWT_SECRET` is unset. A secret that is set must be
    /// strong (see [`check_secret`]).
    pub fn tokens(&self) -> anyhow::Result<Arc<Tokens>> {
        let secret = match &self.jwt_secret {
            Some(secret) => check_secret(secret.expose_secret())?.to_owned(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret; tokens will not survive a restart"
                );
                format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
            }
        };
        Ok(self.issuer(&secret))
    }

    /// The token issuer and verifier of a process that shares its tokens with others
    /// (command-api issues what query-api verifies): `JWT_SECRET` must be set, and strong.
    pub fn shared_tokens(&self) -> anyhow::Result<Arc<Tokens>> {
        let secret = self.jwt_secret.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "JWT_SECRET is not set: command-api and query-api must share a secret of at \
                 least {MIN_SECRET_BYTES} random bytes (e.g. `openssl rand -hex 32`)"
            )
        })?;
        let secret = check_secret(secret.expose_secret())?;
        Ok(self.issuer(secret))
    }

    fn issuer(&self, secret: &str) -> Arc<Tokens> {
        let ttl = Duration::from_secs(self.access_token_ttl_seconds);
        Arc::new(Tokens::new(secret.as_bytes(), ttl))
    }

    /// `PUBLIC_URL`, or else the address requests come to (`port`: the service's default).
    pub fn public_address(&self, port: u16) -> PublicAddress {
        PublicAddress::new(self.public_url.clone(), self.http_addr_or(port))
    }

    /// The statement timeout as set, or the service's default (`default_ms`); None for
    /// none.
    pub fn statement_timeout(&self, default_ms: u64) -> Option<Duration> {
        let ms = self.database_statement_timeout_ms.unwrap_or(default_ms);
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    /// The HTTP address, or the service's default.
    pub fn http_addr_or(&self, port: u16) -> SocketAddr {
        self.http_addr
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// Where a service whose HTTP default port is `port` listens, and its connections'
    /// limits.
    pub fn listen(&self, port: u16) -> Listen {
        Listen {
            http: self.http_addr_or(port),
            metrics: self
                .metrics_addr
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], port + 1000))),
            limits: ConnectionLimits {
                header_read_timeout: Duration::from_millis(self.http_header_read_timeout_ms),
            },
        }
    }
}

/// The statement timeout of the services that answer requests, unless set.
pub const API_STATEMENT_TIMEOUT_MS: u64 = 5000;

/// The shortest token secret taken: HS256 wants a key at least as long as its hash
/// (RFC 7518, section 3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Words that mark a secret copied from an example rather than drawn at random.
const PLACEHOLDER_WORDS: [&str; 5] = [
    "change-me",
    "changeme",
    "change_me",
    "placeholder",
    "example",
];

/// `secret` when it can sign tokens: at least [`MIN_SECRET_BYTES`], not an example's
/// placeholder, not one character repeated. Anyone who knows or guesses it can sign an
/// admin's token.
pub fn check_secret(secret: &str) -> anyhow::Result<&str> {
    if secret.len() < MIN_SECRET_BYTES {
        anyhow::bail!(
            "JWT_SECRET holds {} bytes; at least {MIN_SECRET_BYTES} random bytes are needed \
             (e.g. `openssl rand -hex 32`)",
            secret.len()
        );
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|word| lower.contains(word)) {
        anyhow::bail!(
            "JWT_SECRET is a placeholder; set a random one (e.g. `openssl rand -hex 32`)"
        );
    }
    let distinct: std::collections::BTreeSet<u8> = secret.bytes().collect();
    if distinct.len() < 8 {
        anyhow::bail!("JWT_SECRET repeats too few characters to be random");
    }
    Ok(secret)
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

    fn settings(args: &[&str]) -> Settings {
        Settings::try_parse_from([&["test"], args].concat()).expect("valid settings")
    }

    #[test]
    fn a_shared_secret_must_be_set_long_and_random() {
        let unset = settings(&[]);
        let refused = unset.common.shared_tokens().err().expect("refused");
        assert!(
            refused.to_string().contains("JWT_SECRET is not set"),
            "{refused}"
        );
        assert!(
            unset.common.tokens().is_ok(),
            "one process may draw its own"
        );
        for (secret, why) in [
            ("hunter2-signing-key", "bytes"),
            ("change-me-outside-development", "bytes"),
            ("change-me-outside-development-0123456789", "placeholder"),
            ("0123456789abcdef-EXAMPLE-0123456789abcdef", "placeholder"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "repeats"),
        ] {
            let config = settings(&["--jwt-secret", secret]);
            for result in [config.common.shared_tokens(), config.common.tokens()] {
                let refused = result.err().unwrap_or_else(|| panic!("{secret} taken"));
                assert!(refused.to_string().contains(why), "{secret}: {refused}");
            }
        }
        let strong = settings(&["--jwt-secret", "9f2c4e1ab07d6e35c8f14a92b3d0e7c6"]);
        assert!(strong.common.shared_tokens().is_ok());
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
