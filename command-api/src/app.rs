//! Configuration, state, router and server of command-api.

use std::net::SocketAddr;

use axum::Router;
use event_store::{EventStore, database, kafka::KafkaConfig, relay::Relay};
use http_kit::{config::CommonConfig, health, layers};
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// command-api settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "command-api", about = "Validates commands and appends their events")]
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

/// The `/api/v1` routes.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .merge(crate::items::router())
        .with_state(state)
}

/// A built command-api: bound listener, router and background tasks.
pub struct App {
    pub listener: TcpListener,
    pub router: Router,
    pub shutdown: CancellationToken,
    pub tasks: Vec<JoinHandle<()>>,
}

/// Connects, migrates, starts the relay when Kafka is configured, and binds the listener.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let common = &config.common;
    let pool = database::connect_and_migrate(&common.database_url, common.db_pool_size).await?;
    let state = AppState {
        store: EventStore::new(pool.clone()),
    };
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    let mut checks = vec![("postgres", health::postgres(pool.clone()))];
    if let Some(brokers) = &common.kafka_brokers {
        let kafka = KafkaConfig::new(brokers, &common.kafka_topic_prefix);
        let probe = kafka.clone();
        checks.push((
            "kafka",
            health::check(move || {
                let probe = probe.clone();
                async move { event_store::kafka::ping(&probe).await }
            }),
        ));
        if config.relay_enabled {
            let relay = Relay::new(pool.clone(), kafka)?;
            tasks.push(tokio::spawn(relay.run(shutdown.clone())));
        }
    }
    let router = Router::new()
        .merge(api_router(state))
        .merge(health::routes(checks))
        .merge(http_kit::docs::routes(vec![(
            "/api-docs/command.json",
            crate::docs::openapi(),
        )]));
    let router = layers::wrap(router, layers::Limits::default());
    let addr = common
        .http_addr
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8081)));
    let listener = TcpListener::bind(addr).await?;
    Ok(App {
        listener,
        router,
        shutdown,
        tasks,
    })
}

impl App {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until SIGTERM / Ctrl-C, drains connections, then stops background tasks.
    pub async fn serve(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "command-api listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(http_kit::shutdown::signal())
            .await?;
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        Ok(())
    }
}
