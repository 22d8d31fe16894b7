//! `erd`: migrates a fresh database of its own with the project's migrations, writes the
//! schema document from it, and drops the database.

use anyhow::Context;
use clap::Parser;
use sqlx::{Postgres, migrate::MigrateDatabase};

/// Generates docs/erd.md from a freshly migrated database.
#[derive(Debug, Parser)]
#[command(name = "erd")]
struct Args {
    /// The PostgreSQL server on which a temporary database is created and dropped.
    #[arg(
        long,
        env = "DATABASE_SERVER",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    database_server: String,
    /// Where to write the document.
    #[arg(long, default_value = erd::DOCUMENT)]
    output: std::path::PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = format!(
        "{}/erd_{}",
        args.database_server,
        uuid::Uuid::new_v4().simple()
    );
    let pool = event_log::database::connect_and_migrate(&url, 2)
        .await
        .with_context(|| format!("cannot create and migrate {url}"))?;
    let document = erd::generate(&pool).await;
    pool.close().await;
    Postgres::force_drop_database(&url).await?;
    std::fs::write(&args.output, document?)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("wrote {}", args.output.display());
    Ok(())
}
