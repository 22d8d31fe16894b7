//! Configuration, state and assembly of query-api.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
use event_log::{database, kafka::KafkaConfig, subscription::EventSource};
use schemas::{
    DomainEvent, board::BoardEvent, email::EmailEvent, errors::ErrorsEvent,
    identity::IdentityEvent, orders::OrderEvent, prompts::PromptsEvent,
};
use service_kit::{
    auth::Tokens,
    config::CommonConfig,
    health,
    public_url::PublicAddress,
    server::{Server, Service},
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    board::BoardReadModel,
    cache::CacheSize,
    chat::{ChatConfig, ChatReadModel},
    dashboard::Dashboard,
    email::EmailsReadModel,
    errors::ErrorsReadModel,
    errors::alerts::AlertsReadModel,
    follow::{self, Invalidate},
    items::ItemsReadModel,
    members::MembersReadModel,
    orders::OrdersReadModel,
    prompts::{ProfilesReadModel, public_scripts::PublicScriptsReadModel},
};

/// The port query-api listens on unless HTTP_ADDR says otherwise.
const PORT: u16 = 8082;

/// query-api settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "query-api", about = "Serves the read models, cached")]
pub struct Config {
    #[command(flatten)]
    pub common: CommonConfig,

    #[command(flatten)]
    pub settings: QuerySettings,
}

/// The settings of query-api's own, declared once for it and the all-in-one platform.
#[derive(Debug, Clone, clap::Args)]
pub struct QuerySettings {
    /// Longest a query waits for `X-Min-Position` before answering 504.
    #[arg(long, env = "READ_WAIT_TIMEOUT_MS", default_value_t = 5000)]
    pub read_wait_timeout_ms: u64,

    /// Entries per cache; 0 switches caching off.
    #[arg(long, env = "CACHE_CAPACITY", default_value_t = 10_000)]
    pub cache_capacity: u64,

    /// Bytes per cache (what its entries hold, pages weighed by their size); 0 switches
    /// caching off.
    #[arg(long, env = "QUERY_CACHE_BYTES", default_value_t = 16 << 20)]
    pub query_cache_bytes: u64,

    #[command(flatten)]
    pub chat: ChatConfig,
}

impl QuerySettings {
    /// The bounds of every cache.
    pub fn cache_size(&self) -> CacheSize {
        CacheSize {
            entries: self.cache_capacity,
            bytes: self.query_cache_bytes,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What the handlers share. Behind one `Arc`: axum clones the state for every request,
/// and one reference count is cheaper to move between cores than one per field.
pub struct Shared {
    pub pool: PgPool,
    /// The checkpoint source this instance's read models are current for.
    pub source: Arc<str>,
    pub read_timeout: Duration,
    pub items: Arc<ItemsReadModel>,
    pub members: Arc<MembersReadModel>,
    pub orders: Arc<OrdersReadModel>,
    pub board: Arc<BoardReadModel>,
    pub chat: Arc<ChatReadModel>,
    pub emails: Arc<EmailsReadModel>,
    pub errors: Arc<ErrorsReadModel>,
    /// Where clients reach the platform, for the DSNs of projects.
    pub public_address: PublicAddress,
    pub dashboard: Arc<Dashboard>,
    pub alerts: Arc<AlertsReadModel>,
    pub profiles: Arc<ProfilesReadModel>,
    pub public_scripts: Arc<PublicScriptsReadModel>,
    pub tokens: Arc<Tokens>,
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

/// The query routes, checks, followers and document, on a migrated database. The
/// followers read `shared` when given: a process that runs the projector too passes its
/// source, so both follow the log through one `LISTEN` connection and one reading pool.
pub async fn start(
    config: &Config,
    pool: PgPool,
    shared: Option<EventSource>,
    tokens: Arc<Tokens>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Service> {
    let common = &config.common;
    let kafka = common
        .kafka_brokers
        .as_ref()
        .map(|brokers| KafkaConfig::new(brokers, &common.kafka_topic_prefix));
    let mut checks = vec![("postgres", health::postgres(pool.clone()))];
    if let Some(kafka) = &kafka {
        checks.push((
            "kafka",
            health::check(event_log::kafka::probe(kafka.clone())),
        ));
    }
    let source = shared.unwrap_or_else(|| EventSource::from_config(kafka, &pool));
    let settings = &config.settings;
    let cache_size = settings.cache_size();
    let items = Arc::new(ItemsReadModel::new(cache_size));
    let members = Arc::new(MembersReadModel::new(
        cache_size,
        source.source_name(IdentityEvent::CONTEXT),
    ));
    let orders = Arc::new(OrdersReadModel::new(
        cache_size,
        source.source_name(OrderEvent::CONTEXT),
    ));
    let board = Arc::new(BoardReadModel::new(
        cache_size,
        source.source_name(BoardEvent::CONTEXT),
    ));
    // Streams end when shutdown starts; the rest stops after connections drained.
    let streams_end = shutdown.child_token();
    let chat = Arc::new(ChatReadModel::new(
        &settings.chat,
        pool.clone(),
        streams_end.clone(),
    ));
    let emails = Arc::new(EmailsReadModel::new(
        cache_size,
        source.source_name(EmailEvent::CONTEXT),
        chat.hub.clone(),
    ));
    let errors = Arc::new(ErrorsReadModel::new(
        cache_size,
        source.source_name(ErrorsEvent::CONTEXT),
    ));
    let alerts = Arc::new(AlertsReadModel::new(
        cache_size,
        source.source_name(ErrorsEvent::CONTEXT),
    ));
    let profiles = Arc::new(ProfilesReadModel::new(
        cache_size,
        source.source_name(PromptsEvent::CONTEXT),
    ));
    let public_scripts = Arc::new(PublicScriptsReadModel::new(
        cache_size,
        source.source_name(PromptsEvent::CONTEXT),
    ));
    // Chat before emails: the email follower starts where the hub does, or earlier.
    let models: Vec<Arc<dyn Invalidate>> = vec![
        items.clone(),
        members.clone(),
        orders.clone(),
        board.clone(),
        chat.clone(),
        emails.clone(),
        errors.clone(),
        alerts.clone(),
        profiles.clone(),
        public_scripts.clone(),
    ];
    let mut tasks: Vec<_> = tokens
        .revocations
        .spawn(pool.clone(), tokens.ttl, shutdown.clone())
        .await?
        .into_iter()
        .collect();
    // Each instance follows the whole stream, each read model on its own: every instance
    // must see every event to keep its own cache correct.
    for model in &models {
        let progress = model.progress();
        let source_name = source.source_name(progress.context);
        // The stream starts where the projection is: everything at or below it is
        // already in any row this instance will load.
        let after =
            event_log::checkpoint::position(&pool, progress.projection, &source_name).await?;
        progress.set_applied(after);
        progress.set_seen(after);
        let mut follow_from = after;
        if progress.projection == chat.progress.projection {
            tasks.extend(
                chat.start(&pool, after, &source, &tokens.revocations)
                    .await?,
            );
        }
        if progress.projection == emails.progress.projection {
            // The hub takes email events from this follower too, from where it started:
            // earlier ones are history to it, later ones must all reach it.
            follow_from = after.min(chat.hub.position());
        }
        tasks.push(tokio::spawn(follow::stream(
            source.clone(),
            model.clone(),
            follow_from,
            shutdown.clone(),
        )));
    }
    let (dashboard, tail) = Dashboard::start(&pool, &source, streams_end.clone()).await?;
    tasks.push(tail);
    let naming = source.clone();
    tasks.push(tokio::spawn(follow::projections(
        pool.clone(),
        models,
        move |context| naming.source_name(context),
        shutdown.clone(),
    )));
    let state = AppState(Arc::new(Shared {
        source: source.source_name(items.progress.context).into(),
        pool: pool.clone(),
        read_timeout: Duration::from_millis(settings.read_wait_timeout_ms),
        items,
        members,
        orders,
        board,
        chat,
        emails,
        errors,
        public_address: common.public_address(PORT),
        dashboard,
        alerts,
        profiles,
        public_scripts,
        tokens,
    }));
    Ok(Service {
        router: crate::items::router()
            .merge(crate::members::router())
            .merge(crate::orders::router())
            .merge(crate::board::router())
            .merge(crate::chat::router())
            .merge(crate::email::router())
            .merge(crate::errors::router())
            .merge(crate::dashboard::router())
            .merge(crate::errors::alerts::router())
            .merge(crate::errors::levels::router())
            .merge(crate::prompts::router())
            .merge(crate::pages::router())
            .merge(crate::seed_paths::router())
            .with_state(state),
        checks,
        tasks,
        docs: vec![("/api-docs/query.json", crate::docs::openapi())],
        drain: vec![streams_end],
        ..Default::default()
    })
}

/// Connects, migrates, starts and binds query-api alone.
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
    let mut service = start(&config, pool.clone(), None, tokens, &shutdown).await?;
    service.tasks.extend(telemetry);
    service.pools.push((service_kit::sampled::MAIN_POOL, pool));
    Ok(Server::bind(common.listen(PORT), vec![service], shutdown).await?)
}
