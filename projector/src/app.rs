//! Configuration and commands of the projector binary.

use std::sync::Arc;

use anyhow::Context;
use event_log::{database, kafka::KafkaConfig, subscription::EventSource};
use event_store::EventStore;
use service_kit::{
    config::CommonConfig,
    health,
    server::{Server, Service},
};

use crate::AnyProjection;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// projector settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "projector", about = "Builds and rebuilds the read models")]
pub struct Config {
    #[command(flatten)]
    pub common: CommonConfig,

    #[command(flatten)]
    pub settings: ProjectorSettings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The settings of the projector's own, declared once for it and the all-in-one platform.
#[derive(Debug, Clone, clap::Args)]
pub struct ProjectorSettings {
    /// Kafka consumer group prefix; each projection joins `<group>.<projection>`.
    #[arg(long, env = "PROJECTOR_GROUP_ID", default_value = "projector")]
    pub group_id: String,

    #[command(flatten)]
    pub mail: crate::mail::MailSettings,

    #[command(flatten)]
    pub alerts: crate::alerts::AlertSettings,

    #[command(flatten)]
    pub errors: crate::errors::retention::RetentionSettings,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Follow the event stream and keep every read model up to date (the default).
    Run,
    /// Rebuild one projection from the first event, then swap it in atomically.
    Replay {
        /// The projection to rebuild.
        projection: String,
    },
    /// List the projections and how far each has applied the log.
    List,
    /// Print the read models' tables, one a line: what a backup of the store of record
    /// leaves out, since `replay` rebuilds them from the events.
    Tables,
}

/// The event source the configuration asks for.
pub fn event_source(common: &CommonConfig, pool: &PgPool) -> EventSource {
    let kafka = common
        .kafka_brokers
        .as_ref()
        .map(|brokers| KafkaConfig::new(brokers, &common.kafka_topic_prefix));
    EventSource::from_config(kafka, pool)
}

/// Starts a runner per projection and per reactor (mail, alert rules), the email and
/// alert workers, the lag watcher and the errors' retention; they stop on `shutdown`.
pub fn spawn_runners(
    pool: &PgPool,
    source: &EventSource,
    settings: &ProjectorSettings,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    // The reactors append what they do (mail requested, alerts raised, attempts and their
    // outcomes).
    let store = EventStore::new(pool.clone());
    let mut followers = crate::projections();
    if settings.mail.platform_mail_enabled {
        followers.extend(crate::mail::notices::all(&store));
    }
    if settings.alerts.alerts_enabled {
        followers.push(Arc::new(crate::alerts::rules::AlertRulesReactor::new(
            &store,
        )));
    }
    let mut tasks = spawn_followers(pool, source, followers, &settings.group_id, shutdown);
    tasks.extend(crate::mail::spawn_worker(&store, &settings.mail, shutdown)?);
    tasks.extend(crate::alerts::spawn_worker(
        &store,
        &settings.alerts,
        shutdown,
    )?);
    // The projector owns the errors read model, so it prunes it too.
    tasks.extend(crate::errors::retention::spawn(
        pool,
        &settings.errors,
        shutdown,
    ));
    Ok(tasks)
}

/// Starts a runner per projection and the lag watcher; they stop on `shutdown`.
pub fn spawn_projections(
    pool: &PgPool,
    source: &EventSource,
    group: &str,
    shutdown: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    spawn_followers(pool, source, crate::projections(), group, shutdown)
}

/// A runner per follower of the log (projection or reactor), and their lag watcher.
fn spawn_followers(
    pool: &PgPool,
    source: &EventSource,
    followers: Vec<Arc<dyn AnyProjection>>,
    group: &str,
    shutdown: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    let mut tasks: Vec<JoinHandle<()>> = followers
        .iter()
        .map(|follower| {
            tokio::spawn(crate::runner::run(
                pool.clone(),
                source.clone(),
                Arc::clone(follower),
                group.to_owned(),
                shutdown.clone(),
            ))
        })
        .collect();
    tasks.push(tokio::spawn(crate::lag::watch(
        pool.clone(),
        followers,
        shutdown.clone(),
    )));
    tasks
}

/// Runs the chosen command to completion.
pub async fn main(config: Config) -> anyhow::Result<()> {
    match config.command.clone().unwrap_or(Command::Run) {
        Command::Run => run(&config, connect(&config.common).await?).await,
        Command::Replay { projection } => {
            let pool = connect(&config.common).await?;
            let projection = crate::projections()
                .into_iter()
                .find(|p| p.name() == projection)
                .with_context(|| {
                    format!("no projection named {projection:?} (try `projector list`)")
                })?;
            let replayed = crate::replay::replay(&pool, projection.as_ref()).await?;
            let t = replayed.timings;
            println!(
                "{}: replayed {} events in {:.1} s ({:.0} events/s); serving position {}",
                projection.name(),
                replayed.events,
                t.total.as_secs_f64(),
                replayed.events_per_second(),
                replayed.position
            );
            println!(
                "{}: reading {:.1} s (waited for {:.1} s), applying {:.1} s, committing {:.1} s, \
                 indexing {:.1} s, swapping {:.1} s",
                projection.name(),
                t.reading.as_secs_f64(),
                t.waiting.as_secs_f64(),
                t.applying.as_secs_f64(),
                t.committing.as_secs_f64(),
                t.indexing.as_secs_f64(),
                t.swapping.as_secs_f64()
            );
            Ok(())
        }
        Command::List => {
            let pool = connect(&config.common).await?;
            for projection in crate::projections() {
                let (behind, seconds) = crate::lag::measure(&pool, projection.as_ref()).await?;
                println!(
                    "{}\tcontext={}\tbehind={behind} events\tlag={seconds:.1}s",
                    projection.name(),
                    projection.context()
                );
            }
            Ok(())
        }
        // Known without a database: a backup asks before it connects.
        Command::Tables => {
            for projection in crate::projections() {
                for table in projection.tables() {
                    println!("{table}");
                }
            }
            Ok(())
        }
    }
}

async fn connect(common: &CommonConfig) -> anyhow::Result<PgPool> {
    // No statement timeout unless one is set: batches and replays may run long.
    Ok(database::connect_and_migrate_limited(
        &common.database_url,
        common.db_pool_size,
        common.statement_timeout(0),
    )
    .await?)
}

async fn run(config: &Config, pool: PgPool) -> anyhow::Result<()> {
    // Before any task starts: samples recorded without a recorder are lost.
    service_kit::metrics::handle();
    let shutdown = CancellationToken::new();
    let mut tasks = service_kit::telemetry::start(&pool, &shutdown);
    tasks.extend(spawn_runners(
        &pool,
        &event_source(&config.common, &pool),
        &config.settings,
        &shutdown,
    )?);
    let service = Service {
        tasks,
        checks: vec![("postgres", health::postgres(pool.clone()))],
        pools: vec![(service_kit::sampled::MAIN_POOL, pool)],
        ..Service::default()
    };
    Server::bind(config.common.listen(8083), vec![service], shutdown)
        .await?
        .serve()
        .await?;
    event_log::subscription::consumers_closed().await;
    Ok(())
}
