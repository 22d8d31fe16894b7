//! Test helpers: a fresh database per test and the test broker.
//!
//! Tests need a real PostgreSQL and, for Kafka, a real Kafka-protocol broker; `scripts/test`
//! starts both. A missing dependency fails the test, never skips it.

use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::{database, kafka::KafkaConfig};

/// How the test run moves events: `TEST_TRANSPORT=kafka` or `embedded` (default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Embedded,
    Kafka,
}

pub fn transport() -> Transport {
    match std::env::var("TEST_TRANSPORT").as_deref() {
        Ok("kafka") => Transport::Kafka,
        Ok("embedded") | Err(_) => Transport::Embedded,
        Ok(other) => panic!("TEST_TRANSPORT must be kafka or embedded, not {other:?}"),
    }
}

/// The PostgreSQL server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// The test broker; its absence is a failure.
pub fn kafka_brokers() -> String {
    std::env::var("TEST_KAFKA_BROKERS")
        .expect("TEST_KAFKA_BROKERS must name a Kafka-protocol broker; `scripts/test` starts one")
}

/// Broker settings with topics no other test uses.
pub fn kafka_config() -> KafkaConfig {
    KafkaConfig::new(kafka_brokers(), format!("t{}.", Uuid::new_v4().simple()))
}

/// A migrated database of its own, dropped by [`TestDatabase::drop`].
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
    /// The server it lives on (`postgres://user@host:port`).
    server: String,
}

impl TestDatabase {
    pub async fn new() -> Self {
        Self::on(&server_url()).await
    }

    /// A database on `server` rather than the test server (e.g. one a test restarts).
    pub async fn on(server: &str) -> Self {
        let name = format!("t_{}", Uuid::new_v4().simple());
        let url = format!("{server}/{name}");
        let pool = database::connect_and_migrate(&url, 10)
            .await
            .unwrap_or_else(|err| panic!("cannot create test database at {url}: {err}"));
        Self {
            name,
            url,
            pool,
            server: server.to_owned(),
        }
    }

    /// A database of its own with nothing in it, not even the migrations (a restore's
    /// target).
    pub async fn empty() -> Self {
        let server = server_url();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&format!("{server}/postgres"))
            .await
            .expect("connect to the postgres database");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create an empty test database");
        let url = format!("{server}/{name}");
        let pool = database::connect(&url, 10)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {url}: {err}"));
        Self {
            name,
            url,
            pool,
            server,
        }
    }

    /// Closes the pool and drops the database (with any connection still open).
    pub async fn drop(self) {
        // A listener still holding a pooled connection would make close() wait forever.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.pool.close()).await;
        let mut admin = PgConnection::connect(&format!("{}/postgres", self.server))
            .await
            .expect("connect to the postgres database");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    }
}
