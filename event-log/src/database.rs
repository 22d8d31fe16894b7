//! Connecting to PostgreSQL, creating the database when missing, and migrating it.

use std::time::Duration;

use sqlx::{
    Connection, PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};

use crate::StoreError;

/// Migrations of the event store and of every read model: one folder, one history.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Creates the database if it does not exist, connects, and applies pending migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    connect_and_migrate_limited(url, max_connections, None).await
}

/// [`connect_and_migrate`], with every statement of the pool cancelled once it has run
/// for `statement_timeout` (so a slow query frees its connection instead of holding it),
/// except the migrations', which may take as long as they need.
pub async fn connect_and_migrate_limited(
    url: &str,
    max_connections: u32,
    statement_timeout: Option<Duration>,
) -> Result<PgPool, StoreError> {
    if !Postgres::database_exists(url).await? {
        // Two services starting together may both try; the loser sees "already exists".
        if let Err(err) = Postgres::create_database(url).await
            && !Postgres::database_exists(url).await?
        {
            return Err(err.into());
        }
    }
    let mut options: PgConnectOptions = url.parse()?;
    if let Some(timeout) = statement_timeout {
        let ms = timeout.as_millis().to_string();
        options = options.options([("statement_timeout", ms.as_str())]);
    }
    let pool = connect_with(options, max_connections).await?;
    let mut migrating = pool.acquire().await?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *migrating)
        .await?;
    MIGRATOR.run(&mut *migrating).await?;
    // Its setting is not the pool's: it leaves the pool.
    migrating.detach().close().await?;
    Ok(pool)
}

/// Whether statements on `pool`'s connections are cancelled after a timeout.
pub fn has_statement_timeout(pool: &PgPool) -> bool {
    pool.connect_options()
        .get_options()
        .is_some_and(|given| given.contains("statement_timeout="))
}

/// A pool with the platform's settings.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    connect_with(url.parse()?, max_connections).await
}

/// A pool with the platform's settings, on connections opened with `options`.
pub async fn connect_with(
    options: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, StoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // A ping on every acquire is a round trip per query; under load that was a tenth
        // of the services' CPU. A connection back in the pool within the last moment is
        // handed out as it is (one that broke meanwhile fails its query, which is then
        // answered as the database being unreachable); one idle for longer is pinged.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= TRUSTED_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(without_jit(options))
        .await?)
}

/// How long a connection may have been idle and still be handed out without a ping.
const TRUSTED_IDLE: Duration = Duration::from_secs(1);

/// Turns off PostgreSQL's JIT compilation unless the URL's options set `jit` themselves.
/// The platform's statements are short: compiling one with LLVM takes tens of
/// milliseconds, more than running it. It happens once a plan's estimated cost crosses
/// `jit_above_cost`, as a log read's does over a large log whose statistics are stale
/// (after a restore or a bulk import, before autovacuum analyses it): each read then took
/// 66-119 ms instead of about 1 ms.
fn without_jit(options: PgConnectOptions) -> PgConnectOptions {
    if options
        .get_options()
        .is_some_and(|given| given.contains("jit="))
    {
        options
    } else {
        options.options([("jit", "off")])
    }
}

/// A pool for reading the log in position order, opened with `pool`'s settings. Its reads
/// all have one right plan: walk the position index from the position given. The planner
/// can choose otherwise: with statistics from before a bulk load (a restore, an import, a
/// busy log's first minutes) it expects a handful of rows and scans the whole range into a
/// sort, reading the entire backlog for every batch (about 700 ms per read of 500 events
/// at 1.5 million). These settings leave it the index walk only, and keep the plan
/// generic: planning each execution anew cost more CPU than the reading.
pub async fn log_readers(pool: &PgPool, max_connections: u32) -> Result<PgPool, StoreError> {
    let options = (*pool.connect_options()).clone().options([
        ("plan_cache_mode", "force_generic_plan"),
        ("enable_seqscan", "off"),
        ("enable_bitmapscan", "off"),
        ("enable_sort", "off"),
    ]);
    connect_with(options, max_connections).await
}

/// A `LISTEN` connection of its own, outside `pool`: a listener holds its connection for
/// as long as it lives, and the pool's connections are for queries.
pub async fn listener(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with((*pool.connect_options()).clone())
        .await?;
    PgListener::connect_with(&own).await
}
