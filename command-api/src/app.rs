//! Configuration, state and assembly of command-api.

use event_store::{EventStore, database, kafka::KafkaConfig, relay::Relay};
use http_kit::{
    config::CommonConfig,
    health,
    server::{Server, Service},
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// command-api settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "command-api",
    about = "Validates commands and appends their events"
)]
pub struct Config {
    #[command(flatten)]
    pub common: CommonConfig,

    /// Run the outbox relay to Kafka in this process (one instance leads at a time).
    #[arg(long, env = "RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: EventStore,
}

impl AppState {
    pub fn pool(&self) -> &PgPool {
        self.store.pool()
    }
}

/// The command routes, checks, relay task and document, on a migrated database.
pub fn start(
    config: &Config,
    pool: PgPool,
    shutdown: &CancellationToken,
) -> anyhow::Result<Service> {
    let state = AppState {
        store: EventStore::new(pool.clone()),
    };
    let mut service = Service {
        router: crate::items::router().with_state(state),
        checks: vec![("postgres", health::postgres(pool.clone()))],
        tasks: Vec::new(),
        docs: vec![("/api-docs/command.json", crate::docs::openapi())],
    };
    if let Some(brokers) = &config.common.kafka_brokers {
        let kafka = KafkaConfig::new(brokers, &config.common.kafka_topic_prefix);
        let probe = event_store::kafka::probe(kafka.clone());
        service.checks.push(("kafka", health::check(probe)));
        if config.relay_enabled {
            let relay = Relay::new(pool, kafka)?;
            service
                .tasks
                .push(tokio::spawn(relay.run(shutdown.clone())));
        }
    }
    Ok(service)
}

/// Connects, migrates, starts and binds command-api alone.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let common = &config.common;
    let pool = database::connect_and_migrate(&common.database_url, common.db_pool_size).await?;
    let shutdown = CancellationToken::new();
    let service = start(&config, pool, &shutdown)?;
    Ok(Server::bind(common.http_addr_or(8081), vec![service], shutdown).await?)
}
