//! Configuration, state and assembly of command-api.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use axum::extract::FromRef;
use event_log::{database, kafka::KafkaConfig};
use event_store::{EventStore, relay::Relay};
use secrecy::SecretString;
use service_kit::{
    auth::Tokens,
    config::CommonConfig,
    health,
    public_url::PublicAddress,
    rate_limit::{KeyedRateLimit, RateLimit},
    server::{Server, Service},
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::identity::{admin::AdminAccount, passwords::Passwords};

/// The port command-api listens on unless HTTP_ADDR says otherwise.
const PORT: u16 = 8081;

/// command-api settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "command-api",
    about = "Validates commands and appends their events"
)]
pub struct Config {
    #[command(flatten)]
    pub common: CommonConfig,

    #[command(flatten)]
    pub settings: CommandSettings,
}

/// The settings of command-api's own, declared once for it and the all-in-one platform.
#[derive(Debug, Clone, clap::Args)]
pub struct CommandSettings {
    /// Run the outbox relay to Kafka in this process (one instance leads at a time).
    #[arg(long, env = "RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,

    /// Milliseconds the broker has to acknowledge a relayed event; past them the relay's
    /// batch fails and is sent again from the relay's checkpoint.
    #[arg(long, env = "RELAY_DELIVERY_TIMEOUT_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub relay_delivery_timeout_ms: u64,

    #[command(flatten)]
    pub identity: IdentityConfig,

    #[command(flatten)]
    pub email: EmailConfig,

    #[command(flatten)]
    pub errors: ErrorsConfig,

    #[command(flatten)]
    pub housekeeping: crate::housekeeping::HousekeepingConfig,
}

/// Settings of the identity endpoints.
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityConfig {
    /// Hours a login session (its refresh tokens) lasts.
    #[arg(long, env = "REFRESH_TOKEN_TTL_HOURS", default_value_t = 336)]
    pub refresh_token_ttl_hours: u32,

    /// Registrations and logins allowed per minute from one client address.
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MINUTE", default_value_t = NonZeroU32::new(30).expect("non-zero"))]
    pub auth_rate_limit_per_minute: NonZeroU32,

    /// Password changes one account may attempt per minute (each costs a hash, right or
    /// wrong).
    #[arg(long, env = "PASSWORD_CHANGE_RATE_LIMIT_PER_MINUTE", default_value_t = NonZeroU32::new(5).expect("non-zero"))]
    pub password_change_rate_limit_per_minute: NonZeroU32,

    /// Password hashes computed at once (each holds 19 MiB and a core while it runs);
    /// more wait their turn. Default: the number of cores.
    #[arg(long, env = "PASSWORD_HASH_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..))]
    pub password_hash_concurrency: Option<u32>,

    /// Item writes (creations, changes, deletions; anyone may make them) allowed per minute
    /// from one client address; 0 lifts the limit.
    #[arg(
        long,
        env = "ANONYMOUS_WRITE_RATE_LIMIT_PER_MINUTE",
        default_value_t = 60
    )]
    pub anonymous_write_rate_limit_per_minute: u32,

    /// Take the client address from `X-Real-IP` (only behind a proxy that sets it).
    #[arg(long, env = "TRUST_PROXY_HEADERS", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy_headers: bool,

    #[command(flatten)]
    pub admin: AdminConfig,
}

impl IdentityConfig {
    /// Hashes at once: as set, else one per core.
    pub fn hash_concurrency(&self) -> usize {
        self.password_hash_concurrency
            .map(|n| n as usize)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
    }
}

/// Settings of the email endpoints.
#[derive(Debug, Clone, clap::Args)]
pub struct EmailConfig {
    /// Emails one user may request per minute.
    #[arg(long, env = "EMAIL_RATE_LIMIT_PER_MINUTE", default_value_t = NonZeroU32::new(20).expect("non-zero"))]
    pub email_rate_limit_per_minute: NonZeroU32,
}

/// Settings of error reporting.
#[derive(Debug, Clone, clap::Args)]
pub struct ErrorsConfig {
    /// Seconds a project (its client key and quota) is cached by the Sentry endpoints: a
    /// rotated key or a changed quota takes effect within this time.
    #[arg(long, env = "SENTRY_PROJECT_CACHE_SECONDS", default_value_t = 5)]
    pub sentry_project_cache_seconds: u64,
}

/// The first admin account, created on start unless its address is taken.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminConfig {
    /// Email of the admin account to create on start (with ADMIN_PASSWORD).
    #[arg(long, env = "ADMIN_EMAIL", requires = "admin_password")]
    pub admin_email: Option<String>,

    /// Password of that admin account (same rules as every password).
    #[arg(
        long,
        env = "ADMIN_PASSWORD",
        hide_env_values = true,
        requires = "admin_email"
    )]
    pub admin_password: Option<SecretString>,

    /// Display name of that admin account.
    #[arg(long, env = "ADMIN_NAME", default_value = "Administrator")]
    pub admin_name: String,
}

impl AdminConfig {
    pub fn account(&self) -> Option<AdminAccount> {
        Some(AdminAccount {
            email: self.admin_email.clone()?,
            password: self.admin_password.clone()?,
            name: self.admin_name.clone(),
        })
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What the handlers share. Behind one `Arc`: axum clones the state for every request,
/// and one reference count is cheaper to move between cores than one per field.
pub struct Shared {
    pub store: EventStore,
    pub tokens: Arc<Tokens>,
    pub passwords: Passwords,
    /// How long a login session lasts.
    pub refresh_ttl: time::Duration,
    /// Emails each user may request a minute.
    pub email_limit: KeyedRateLimit<Uuid>,
    /// Password changes each user may attempt a minute.
    pub password_change_limit: KeyedRateLimit<Uuid>,
    /// Where clients reach the platform, for the DSNs of projects.
    pub public_address: PublicAddress,
    /// Reports from Sentry SDKs: the projects, their quotas, the recorder.
    pub sentry: crate::errors::sentry::Ingest,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for Arc<Tokens> {
    fn from_ref(state: &AppState) -> Self {
        state.tokens.clone()
    }
}

impl AppState {
    pub fn pool(&self) -> &PgPool {
        self.store.pool()
    }
}

/// The command routes, checks, relay task and document, on a migrated database.
pub async fn start(
    config: &Config,
    pool: PgPool,
    tokens: Arc<Tokens>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Service> {
    let revocations = tokens
        .revocations
        .spawn(pool.clone(), tokens.ttl, shutdown.clone())
        .await?;
    let settings = &config.settings;
    let retention = settings.housekeeping.retention(tokens.ttl);
    let store = EventStore::new(pool.clone());
    let project_ttl = Duration::from_secs(settings.errors.sentry_project_cache_seconds);
    let state = AppState(Arc::new(Shared {
        sentry: crate::errors::sentry::Ingest::new(store.clone(), project_ttl),
        store,
        tokens,
        passwords: Passwords::new(settings.identity.hash_concurrency()),
        refresh_ttl: time::Duration::hours(settings.identity.refresh_token_ttl_hours.into()),
        email_limit: KeyedRateLimit::per_minute(
            settings.email.email_rate_limit_per_minute,
            "emails requested by this account",
        ),
        password_change_limit: KeyedRateLimit::per_minute(
            settings.identity.password_change_rate_limit_per_minute,
            "password changes by this account",
        ),
        public_address: config.common.public_address(PORT),
    }));
    if let Some(admin) = settings.identity.admin.account() {
        crate::identity::admin::ensure(&state, &admin).await?;
    }
    let item_limit = NonZeroU32::new(settings.identity.anonymous_write_rate_limit_per_minute)
        .map(|limit| RateLimit::per_minute(limit, settings.identity.trust_proxy_headers));
    let auth_limit = RateLimit::per_minute(
        settings.identity.auth_rate_limit_per_minute,
        settings.identity.trust_proxy_headers,
    );
    let mut service = Service {
        router: crate::items::router(item_limit.clone())
            .merge(crate::orders::router())
            .merge(crate::board::router())
            .merge(crate::chat::router())
            .merge(crate::email::router())
            .merge(crate::errors::router())
            .merge(crate::errors::levels::router())
            .merge(crate::prompts::router())
            .merge(crate::identity::router(auth_limit.clone()))
            .merge(crate::seed_paths::router(auth_limit, item_limit))
            .with_state(state),
        checks: vec![("postgres", health::postgres(pool.clone()))],
        tasks: revocations
            .into_iter()
            .chain([crate::housekeeping::spawn(&pool, retention, shutdown)])
            .collect(),
        docs: vec![("/api-docs/command.json", crate::docs::openapi())],
        larger_bodies: vec![crate::errors::sentry::larger_bodies()],
        ..Default::default()
    };
    if let Some(brokers) = &config.common.kafka_brokers {
        let kafka = KafkaConfig::new(brokers, &config.common.kafka_topic_prefix);
        let probe = event_log::kafka::probe(kafka.clone());
        service.checks.push(("kafka", health::check(probe)));
        if settings.relay_enabled {
            let timeout = Duration::from_millis(settings.relay_delivery_timeout_ms);
            let relay = Relay::with_delivery_timeout(pool, kafka, timeout)?;
            service
                .tasks
                .push(tokio::spawn(relay.run(shutdown.clone())));
        }
    }
    Ok(service)
}

/// Connects, migrates, starts and binds command-api alone.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    // Before any task starts: samples recorded without a recorder are lost.
    service_kit::metrics::handle();
    let common = &config.common;
    // Refused before anything starts: tokens this process signs or checks are shared.
    let tokens = common.shared_tokens()?;
    let pool = database::connect_and_migrate_limited(
        &common.database_url,
        common.db_pool_size,
        common.statement_timeout(service_kit::config::API_STATEMENT_TIMEOUT_MS),
    )
    .await?;
    let shutdown = CancellationToken::new();
    let telemetry = service_kit::telemetry::start(&pool, &shutdown);
    let mut service = start(&config, pool.clone(), tokens, &shutdown).await?;
    service.tasks.extend(telemetry);
    service.pools.push((service_kit::sampled::MAIN_POOL, pool));
    Ok(Server::bind(common.listen(PORT), vec![service], shutdown).await?)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_printed_configuration_shows_neither_secret() {
        let config = Config::try_parse_from([
            "command-api",
            "--jwt-secret=signing-key-4f1a",
            "--admin-email=admin@example.com",
            "--admin-password=Admin-pass-9c2e",
        ])
        .expect("valid settings");
        let printed = format!("{config:?}");
        for secret in ["signing-key-4f1a", "Admin-pass-9c2e"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        let admin = config.settings.identity.admin.account().expect("an admin");
        assert!(!format!("{admin:?}").contains("Admin-pass-9c2e"));
    }
}
