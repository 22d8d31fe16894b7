//! Connecting to PostgreSQL, creating the database when missing, and migrating it.

use std::time::Duration;

use sqlx::{
    PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};

use crate::StoreError;

/// Migrations of the event store and of every read model: one folder, one history.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Creates the database if it does not exist, connects, and applies pending migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    if !Postgres::database_exists(url).await? {
        // Two services starting together may both try; the loser sees "already exists".
        if let Err(err) = Postgres::create_database(url).await
            && !Postgres::database_exists(url).await?
        {
            return Err(err.into());
        }
    }
    let pool = connect(url, max_connections).await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
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
        .connect_with(options)
        .await?)
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
