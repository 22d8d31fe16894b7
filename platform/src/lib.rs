//! The whole platform in one process on one port: command-api, query-api, the projector
//! and (with Kafka) the relay. For local use, and the harness of the end-to-end tests.

use event_log::database;
use http_kit::{config::CommonConfig, server::Server};
use tokio_util::sync::CancellationToken;

/// All-in-one settings: the union of the three services' settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "platform",
    about = "command-api, query-api and projector in one process"
)]
pub struct Config {
    #[command(flatten)]
    pub common: CommonConfig,

    /// Run the outbox relay to Kafka (only with KAFKA_BROKERS).
    #[arg(long, env = "RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,

    /// Longest a query waits for `X-Min-Position` before answering 504.
    #[arg(long, env = "READ_WAIT_TIMEOUT_MS", default_value_t = 5000)]
    pub read_wait_timeout_ms: u64,

    /// Entries per query cache.
    #[arg(long, env = "CACHE_CAPACITY", default_value_t = 10_000)]
    pub cache_capacity: u64,

    #[command(flatten)]
    pub identity: command_api::app::IdentityConfig,

    #[command(flatten)]
    pub chat: query_api::chat::ChatConfig,

    /// Kafka consumer group prefix of the projector.
    #[arg(long, env = "PROJECTOR_GROUP_ID", default_value = "projector")]
    pub group_id: String,
}

/// Connects, migrates, starts every service and binds one listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    // Before any task starts: samples recorded without a recorder are lost.
    http_kit::metrics::handle();
    let common = &config.common;
    let pool = database::connect_and_migrate(&common.database_url, common.db_pool_size).await?;
    let shutdown = CancellationToken::new();
    let command = command_api::Config {
        common: common.clone(),
        relay_enabled: config.relay_enabled,
        identity: config.identity.clone(),
    };
    // One issuer for both APIs, so a random secret (JWT_SECRET unset) still verifies.
    let tokens = common.tokens();
    let query = query_api::Config {
        common: common.clone(),
        read_wait_timeout_ms: config.read_wait_timeout_ms,
        cache_capacity: config.cache_capacity,
        chat: config.chat.clone(),
    };
    let source = projector::app::event_source(common, &pool);
    let projector = http_kit::server::Service {
        tasks: projector::app::spawn_runners(&pool, &source, &config.group_id, &shutdown),
        ..Default::default()
    };
    let services = vec![
        command_api::start(&command, pool.clone(), tokens.clone(), &shutdown).await?,
        query_api::start(&query, pool, Some(source), tokens, &shutdown).await?,
        projector,
    ];
    Ok(Server::bind(common.http_addr_or(8080), services, shutdown).await?)
}
