//! The outbox relay: publishes the log to Kafka in position order.
//!
//! The log itself is the outbox, so there is no dual write. The relay reads events after
//! its checkpoint, publishes them with an idempotent producer, waits for every delivery,
//! then moves the checkpoint. A crash between publishing and checkpointing republishes a
//! few events: duplicates are possible and harmless (consumers skip positions they have
//! applied), losses are not. One relay leads at a time, elected by an advisory lock.
//!
//! The lock lives on one connection of the leader's. Should that connection alone drop,
//! PostgreSQL releases the lock and a waiting relay takes the lead while the old leader's
//! other connections work on, so the leader checks the lock's connection before every
//! batch and at least every [`LOCK_CHECK`] while idle, and moves its checkpoint through
//! that connection: a relay that lost the lock stops at once, never moves the checkpoint
//! again, and goes back to waiting for the lock.

use std::time::Duration;

use futures::future::try_join_all;
use rdkafka::{
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use schemas::RecordedEvent;
use sqlx::{PgConnection, PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;

use event_log::{StoreError, database, kafka::KafkaConfig, read};

/// Advisory lock key held by the leading relay.
pub const LEADER_LOCK: i64 = 0x0072_656c_6179; // "relay" in ASCII
const BATCH: i64 = 1000;
const CHECKPOINT: &str = "kafka";
/// The longest an idle leader goes without checking that it still holds the lock.
pub const LOCK_CHECK: Duration = Duration::from_secs(1);
/// The longest an idle leader waits for news before it reads the log anyway.
const IDLE: Duration = Duration::from_secs(30);
/// How long the broker has to acknowledge an event before its batch fails by default.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Relay {
    pool: PgPool,
    kafka: KafkaConfig,
    producer: FutureProducer,
    delivery_timeout: Duration,
}

impl Relay {
    pub fn new(pool: PgPool, kafka: KafkaConfig) -> Result<Self, StoreError> {
        Self::with_delivery_timeout(pool, kafka, DELIVERY_TIMEOUT)
    }

    /// A relay whose batch fails when the broker has not acknowledged every event of it
    /// within `delivery_timeout`; the relay then starts again from its checkpoint.
    pub fn with_delivery_timeout(
        pool: PgPool,
        kafka: KafkaConfig,
        delivery_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let producer = producer(&kafka, delivery_timeout)?;
        Ok(Self {
            pool,
            kafka,
            producer,
            delivery_timeout,
        })
    }

    /// Relays until cancelled, retrying with backoff after any failure.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        while !shutdown.is_cancelled() {
            match self.lead(&shutdown).await {
                Ok(()) => return,
                Err(err) => {
                    tracing::error!(error = %err, "relay failed; restarting from its checkpoint");
                    // An idempotent producer whose messages timed out in flight is left
                    // waiting for a new producer epoch, which not every broker grants; a
                    // new producer starts clean (consumers skip what it sends twice).
                    match producer(&self.kafka, self.delivery_timeout) {
                        Ok(producer) => self.producer = producer,
                        Err(err) => tracing::error!(error = %err, "relay producer not recreated"),
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Waits to become leader, then publishes until cancelled.
    async fn lead(&self, shutdown: &CancellationToken) -> Result<(), StoreError> {
        let mut lock = self.pool.acquire().await?.detach();
        loop {
            let leader: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(LEADER_LOCK)
                .fetch_one(&mut lock)
                .await?;
            if leader {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
        self.kafka.ensure_topics(schemas::catalog::CONTEXTS).await?;
        let mut listener = database::listener(&self.pool).await?;
        listener.listen("events").await?;
        let readers = database::log_readers(&self.pool, 1).await?;
        let mut checkpoint = self.checkpoint().await?;
        tracing::info!(checkpoint, "relay leading");
        loop {
            still_leading(&mut lock).await?;
            let events = read::read_all(&readers, checkpoint, BATCH, None).await?;
            if let Some(last) = events.last() {
                self.publish(&events).await?;
                checkpoint = last.position;
                save_checkpoint(&mut lock, checkpoint).await?;
            }
            let head = read::head(&self.pool).await?;
            metrics::gauge!("relay_lag_events").set((head - checkpoint) as f64);
            if head > checkpoint {
                continue;
            }
            if !idle(&mut lock, &mut listener, shutdown).await? {
                return Ok(());
            }
        }
    }

    async fn publish(&self, events: &[RecordedEvent]) -> Result<(), StoreError> {
        let encoded: Vec<(String, String, String, String)> = events
            .iter()
            .map(|e| {
                let payload = serde_json::to_string(e).expect("events serialize");
                (
                    self.kafka.topic(&e.context),
                    payload,
                    e.schema_version.to_string(),
                    e.event_id.to_string(),
                )
            })
            .collect();
        let mut deliveries = Vec::with_capacity(events.len());
        for (event, (topic, payload, version, event_id)) in events.iter().zip(&encoded) {
            let headers = OwnedHeaders::new()
                .insert(header("event_type", &event.event_type))
                .insert(header("schema_version", version))
                .insert(header("event_id", event_id))
                .insert(header("correlation_id", &event.correlation_id));
            let record = FutureRecord::to(topic)
                .key(&event.stream_id)
                .payload(payload)
                .headers(headers);
            deliveries.push(self.producer.send(record, self.delivery_timeout));
        }
        try_join_all(deliveries)
            .await
            .map_err(|(err, _)| StoreError::Kafka(err))?;
        metrics::counter!("relay_published_total").increment(events.len() as u64);
        Ok(())
    }

    async fn checkpoint(&self) -> Result<i64, StoreError> {
        sqlx::query(
            "INSERT INTO relay_checkpoints (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        )
        .bind(CHECKPOINT)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT position FROM relay_checkpoints WHERE name = $1")
                .bind(CHECKPOINT)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// An idempotent producer that gives up on an event the broker has not acknowledged
/// within `delivery_timeout`.
fn producer(kafka: &KafkaConfig, delivery_timeout: Duration) -> Result<FutureProducer, StoreError> {
    Ok(kafka
        .client_config()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "2")
        .set("compression.type", "lz4")
        .set(
            "message.timeout.ms",
            delivery_timeout.as_millis().to_string(),
        )
        .create()?)
}

/// Waits for news of appends (at most [`IDLE`], in case a notice was missed), checking
/// the lock meanwhile; false when shut down.
async fn idle(
    lock: &mut PgConnection,
    listener: &mut PgListener,
    shutdown: &CancellationToken,
) -> Result<bool, StoreError> {
    let until = tokio::time::Instant::now() + IDLE;
    while tokio::time::Instant::now() < until {
        tokio::select! {
            notice = listener.try_recv() => {
                notice?;
                return Ok(true);
            }
            _ = tokio::time::sleep(LOCK_CHECK) => still_leading(lock).await?,
            _ = shutdown.cancelled() => return Ok(false),
        }
    }
    Ok(true)
}

/// Fails unless the lock's connection still answers: the lock lives as long as it does.
async fn still_leading(lock: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(lock).await?;
    Ok(())
}

/// Moves the checkpoint through the lock's connection, so only the leader ever moves it.
async fn save_checkpoint(lock: &mut PgConnection, position: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE relay_checkpoints SET position = $2 WHERE name = $1")
        .bind(CHECKPOINT)
        .bind(position)
        .execute(lock)
        .await?;
    Ok(())
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}
