//! The whole platform in one process on one port: command-api, query-api, the projector
//! and (with Kafka) the relay. For local use, and the harness of the end-to-end tests.

use event_log::database;
use service_kit::{config::CommonConfig, server::Server};
use tokio_util::sync::CancellationToken;

/// All-in-one settings: the three services' own settings, each declared by its service.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "platform",
    about = "command-api, query-api and projector in one process",
    // The help of three settings speaks of this process rather than of one service.
    mut_arg("relay_enabled", |arg| {
        arg.help("Run the outbox relay to Kafka (only with KAFKA_BROKERS)")
    }),
    mut_arg("cache_capacity", |arg| arg.help("Entries per query cache")),
    mut_arg("group_id", |arg| arg.help("Kafka consumer group prefix of the projector")),
)]
pub struct Config {
    #[command(flatten)]
    pub common: CommonConfig,

    /// The services this process runs, all by default; a subset splits the platform
    /// across processes as command-api, query-api and projector do
    #[arg(
        long,
        env = "SERVICES",
        value_enum,
        value_delimiter = ',',
        default_value = "command,query,projector"
    )]
    pub services: Vec<Part>,

    #[command(flatten)]
    pub command: command_api::CommandSettings,

    #[command(flatten)]
    pub query: query_api::QuerySettings,

    #[command(flatten)]
    pub projector: projector::ProjectorSettings,

    /// The projector's operator commands (replay, list, tables) on this database; without
    /// one (or with `run`) the process serves
    #[command(subcommand)]
    pub operation: Option<projector::Command>,
}

impl Config {
    /// The operator command asked for, as the projector binary would run it; `None` when
    /// the process is to serve.
    pub fn operator_command(&self) -> Option<projector::Config> {
        match self.operation.clone()? {
            projector::Command::Run => None,
            command => Some(projector::Config {
                common: self.common.clone(),
                settings: self.projector.clone(),
                command: Some(command),
            }),
        }
    }
}

/// One of the services the all-in-one process may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Command,
    Query,
    Projector,
}

/// Connects, migrates, starts the chosen services and binds one listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    // Before any task starts: samples recorded without a recorder are lost.
    service_kit::metrics::handle();
    let common = &config.common;
    // One issuer for both APIs, so a random secret (JWT_SECRET unset) still verifies; a
    // secret that is set must be strong.
    let tokens = common.tokens()?;
    let pool = database::connect_and_migrate_limited(
        &common.database_url,
        common.db_pool_size,
        common.statement_timeout(service_kit::config::API_STATEMENT_TIMEOUT_MS),
    )
    .await?;
    let shutdown = CancellationToken::new();
    let command = command_api::Config {
        common: common.clone(),
        settings: config.command.clone(),
    };
    let query = query_api::Config {
        common: common.clone(),
        settings: config.query.clone(),
    };
    let source = projector::app::event_source(common, &pool);
    let runs = |part| config.services.contains(&part);
    // The capture's recording and the log-levels follower, once for the process.
    let mut tasks = service_kit::telemetry::start(&pool, &shutdown);
    if runs(Part::Projector) {
        tasks.extend(projector::app::spawn_runners(
            &pool,
            &source,
            &config.projector,
            &shutdown,
        )?);
    }
    let mut services = Vec::new();
    if runs(Part::Command) {
        services.push(command_api::start(&command, pool.clone(), tokens.clone(), &shutdown).await?);
    }
    if runs(Part::Query) {
        services
            .push(query_api::start(&query, pool.clone(), Some(source), tokens, &shutdown).await?);
    }
    services.push(service_kit::server::Service {
        tasks,
        pools: vec![(service_kit::sampled::MAIN_POOL, pool)],
        ..Default::default()
    });
    Ok(Server::bind(common.listen(8080), services, shutdown).await?)
}
