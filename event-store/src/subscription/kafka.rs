//! Following a context's Kafka topic as a member of a consumer group.

use async_trait::async_trait;
use futures::FutureExt;
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer, StreamConsumer},
};
use schemas::RecordedEvent;

use super::{Batch, Subscription};
use crate::{StoreError, kafka::KafkaConfig};

pub struct KafkaSubscription {
    consumer: StreamConsumer,
    topic: String,
    /// Events at or below this position are skipped (already applied by the consumer).
    after: i64,
    /// Next offset to commit per partition.
    uncommitted: Vec<(i32, i64)>,
}

impl KafkaSubscription {
    pub async fn start(
        config: &KafkaConfig,
        context: &str,
        group: &str,
        after: i64,
    ) -> Result<Self, StoreError> {
        // The broker would create a missing topic with its own defaults on first use.
        config.ensure_topics(&[context]).await?;
        let consumer: StreamConsumer = config
            .client_config()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("allow.auto.create.topics", "false")
            .set("session.timeout.ms", "6000")
            .set("fetch.wait.max.ms", "20")
            .create()?;
        let topic = config.topic(context);
        consumer.subscribe(&[&topic])?;
        Ok(Self {
            consumer,
            topic,
            after,
            uncommitted: Vec::new(),
        })
    }

    /// Decodes one message; a foreign or corrupt message is logged and skipped.
    fn accept(&mut self, message: &impl Message, batch: &mut Batch) {
        self.remember(message.partition(), message.offset());
        let event = match message
            .payload()
            .map(serde_json::from_slice::<RecordedEvent>)
        {
            Some(Ok(event)) => event,
            _ => {
                metrics::counter!("subscription_malformed_messages_total").increment(1);
                tracing::warn!(topic = %self.topic, offset = message.offset(), "skipping malformed message");
                return;
            }
        };
        if event.position > self.after {
            self.after = event.position;
            batch.through = event.position;
            batch.events.push(event);
        }
    }

    fn remember(&mut self, partition: i32, offset: i64) {
        match self.uncommitted.iter_mut().find(|(p, _)| *p == partition) {
            Some(entry) => entry.1 = offset + 1,
            None => self.uncommitted.push((partition, offset + 1)),
        }
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    fn source(&self) -> &str {
        &self.topic
    }

    async fn next_batch(&mut self, max: usize) -> Result<Batch, StoreError> {
        let mut batch = Batch {
            events: Vec::new(),
            through: self.after,
        };
        // Wait for one message, then take what is already buffered.
        let first = self.consumer.recv().await?.detach();
        self.accept(&first, &mut batch);
        while batch.events.len() < max {
            let Some(next) = self.consumer.recv().now_or_never() else {
                break;
            };
            let message = next?.detach();
            self.accept(&message, &mut batch);
        }
        Ok(batch)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.uncommitted.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in self.uncommitted.drain(..) {
            offsets.add_partition_offset(&self.topic, partition, Offset::Offset(offset))?;
        }
        self.consumer.commit(&offsets, CommitMode::Async)?;
        Ok(())
    }
}
