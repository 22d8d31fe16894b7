//! Following the log: from Kafka (a consumer group, or a follower of its own) or straight
//! from PostgreSQL.
//!
//! Both deliver the events of the followed contexts in position order, in batches, and
//! both may deliver an event again after a restart: consumers keep a checkpoint in the
//! same transaction as their effects and skip what they have already applied.

mod kafka;
mod pg_log;
mod recent;

use async_trait::async_trait;
use schemas::RecordedEvent;
use sqlx::PgPool;

pub use self::{
    kafka::{KafkaSubscription, consumers_closed},
    pg_log::{PgLog, PgLogSubscription},
};
use crate::{StoreError, kafka::KafkaConfig};

/// Events delivered together.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub events: Vec<RecordedEvent>,
    /// Every event of the followed contexts at or below this position has now been
    /// delivered. It may pass the last event when the log moved on in other contexts.
    pub through: i64,
}

/// A follower of the log.
#[async_trait]
pub trait Subscription: Send {
    /// Where the events come from; consumers key their checkpoints by it.
    fn source(&self) -> &str;

    /// Waits for and returns the next events (at most `max`).
    async fn next_batch(&mut self, max: usize) -> Result<Batch, StoreError>;

    /// Tells the source that everything delivered so far is durably handled.
    async fn commit(&mut self) -> Result<(), StoreError>;
}

/// Where subscriptions read from.
#[derive(Clone)]
pub enum EventSource {
    /// The PostgreSQL log, woken by LISTEN/NOTIFY (embedded mode).
    PgLog(PgLog),
    /// Kafka topics, one per context.
    Kafka(KafkaConfig),
}

impl EventSource {
    /// The checkpoint key of a subscription to this context.
    pub fn source_name(&self, context: &str) -> String {
        match self {
            Self::PgLog(_) => pg_log::SOURCE.to_owned(),
            Self::Kafka(config) => config.topic(context),
        }
    }

    /// Follows one context's events after position `after`. `group` names the Kafka
    /// consumer group; the PostgreSQL log needs none.
    pub async fn subscribe(
        &self,
        context: &str,
        group: &str,
        after: i64,
    ) -> Result<Box<dyn Subscription>, StoreError> {
        self.subscribe_types(context, None, group, after).await
    }

    /// Follows one context's events of `event_types` (all when None) after `after`. The
    /// others are passed over without reading or decoding their payloads, though counted
    /// in each batch's `through`: a follower that needs a few kinds of a busy context
    /// does not pay for the rest.
    pub async fn subscribe_types(
        &self,
        context: &str,
        event_types: Option<&'static [&'static str]>,
        group: &str,
        after: i64,
    ) -> Result<Box<dyn Subscription>, StoreError> {
        Ok(match self {
            Self::PgLog(log) => Box::new(
                log.subscribe_types(Some(vec![context.into()]), event_types, after)
                    .await?,
            ),
            Self::Kafka(config) => Box::new(
                KafkaSubscription::start(config, context, group, after)
                    .await?
                    .only(event_types),
            ),
        })
    }
}

impl EventSource {
    /// Follows one context's events of `event_types` (all when None) after `after`, for a
    /// reader that keeps its position in memory (caches, live streams): from Kafka
    /// without a consumer group, starting where `after` lies, so restarts leave no groups
    /// on the broker and reread little.
    pub async fn follow_types(
        &self,
        context: &str,
        event_types: Option<&'static [&'static str]>,
        after: i64,
    ) -> Result<Box<dyn Subscription>, StoreError> {
        Ok(match self {
            Self::PgLog(log) => Box::new(
                log.subscribe_types(Some(vec![context.into()]), event_types, after)
                    .await?,
            ),
            Self::Kafka(config) => Box::new(
                KafkaSubscription::follow(config, context, after)
                    .await?
                    .only(event_types),
            ),
        })
    }
}

impl EventSource {
    /// Kafka when brokers are configured, the PostgreSQL log otherwise.
    pub fn from_config(kafka: Option<KafkaConfig>, pool: &PgPool) -> Self {
        match kafka {
            Some(config) => Self::Kafka(config),
            None => Self::log(pool),
        }
    }

    /// The PostgreSQL log of `pool`'s database.
    pub fn log(pool: &PgPool) -> Self {
        Self::PgLog(PgLog::new(pool.clone()))
    }
}
