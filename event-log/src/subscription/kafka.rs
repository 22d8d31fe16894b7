//! Following a context's Kafka topic: as a member of a consumer group, whose committed
//! offsets say where a restart resumes, or as a follower that keeps its position in
//! memory and joins no group, leaving nothing behind on the broker.

use std::{sync::LazyLock, time::Duration};

use async_trait::async_trait;
use futures::FutureExt;
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer, StreamConsumer},
    message::Headers,
};
use schemas::RecordedEvent;
use tokio::sync::watch;

use super::{Batch, Subscription};
use crate::{StoreError, kafka::KafkaConfig};

/// What is read of a message passed over: its position, not its payload's tree.
#[derive(serde::Deserialize)]
struct Positioned {
    position: i64,
}

pub struct KafkaSubscription {
    /// Taken only by `drop`, which closes it on a thread of its own.
    consumer: Option<StreamConsumer>,
    topic: String,
    /// Events at or below this position are skipped (already applied by the consumer).
    after: i64,
    /// The event types delivered (all when None); the others are passed over.
    event_types: Option<&'static [&'static str]>,
    /// Next offset to commit per partition.
    uncommitted: Vec<(i32, i64)>,
    /// Whether offsets are committed (a group member) or not (a follower).
    commits: bool,
}

/// The `group.id` followers give the client, which wants one: they never join it nor
/// commit to it, so the broker keeps nothing under it.
const FOLLOWERS: &str = "followers";
/// How long a follower waits for one message while it looks for where to start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

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
            consumer: Some(consumer),
            topic,
            after,
            event_types: None,
            uncommitted: Vec::new(),
            commits: true,
        })
    }

    /// Follows the topic without a consumer group, from a message at or below `after`
    /// (the topic's start when there is none), so every event after `after` is read and
    /// little before it.
    pub async fn follow(
        config: &KafkaConfig,
        context: &str,
        after: i64,
    ) -> Result<Self, StoreError> {
        config.ensure_topics(&[context]).await?;
        let consumer: StreamConsumer = config
            .client_config()
            .set("group.id", FOLLOWERS)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("allow.auto.create.topics", "false")
            .set("fetch.wait.max.ms", "20")
            .create()?;
        let topic = config.topic(context);
        let start = start_offset(&consumer, &topic, after).await?;
        assign(&consumer, &topic, start)?;
        Ok(Self {
            consumer: Some(consumer),
            topic,
            after,
            event_types: None,
            uncommitted: Vec::new(),
            commits: false,
        })
    }

    /// Delivers only events of `event_types` (all when None).
    pub fn only(mut self, event_types: Option<&'static [&'static str]>) -> Self {
        self.event_types = event_types;
        self
    }

    /// Whether the message's `event_type` header names a type this follower passes over.
    fn passed_over(&self, message: &impl Message) -> bool {
        let (Some(types), Some(headers)) = (self.event_types, message.headers()) else {
            return false;
        };
        headers
            .iter()
            .find(|header| header.key == "event_type")
            .and_then(|header| header.value)
            .is_some_and(|value| !types.iter().any(|t| t.as_bytes() == value))
    }

    /// Decodes one message; a foreign or corrupt message is logged and skipped. One of
    /// a type passed over is read for its position only.
    fn accept(&mut self, message: &impl Message, batch: &mut Batch) {
        self.remember(message.partition(), message.offset());
        let payload = message.payload();
        let decoded = if self.passed_over(message) {
            payload.map(|p| serde_json::from_slice::<Positioned>(p).map(|e| (e.position, None)))
        } else {
            payload
                .map(|p| serde_json::from_slice::<RecordedEvent>(p).map(|e| (e.position, Some(e))))
        };
        let (position, event) = match decoded {
            Some(Ok(decoded)) => decoded,
            _ => {
                metrics::counter!("subscription_malformed_messages_total").increment(1);
                tracing::warn!(topic = %self.topic, offset = message.offset(), "skipping malformed message");
                return;
            }
        };
        if position > self.after {
            self.after = position;
            batch.through = position;
            let wanted = |e: &RecordedEvent| {
                self.event_types
                    .is_none_or(|types| types.contains(&e.event_type.as_str()))
            };
            if let Some(event) = event.filter(wanted) {
                batch.events.push(event);
            }
        }
    }

    fn consumer(&self) -> &StreamConsumer {
        self.consumer
            .as_ref()
            .expect("the consumer is taken only on drop")
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
        let first = self.consumer().recv().await?.detach();
        self.accept(&first, &mut batch);
        while batch.events.len() < max {
            let Some(next) = self.consumer().recv().now_or_never() else {
                break;
            };
            let message = next?.detach();
            self.accept(&message, &mut batch);
        }
        Ok(batch)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        if !self.commits {
            self.uncommitted.clear();
        }
        if self.uncommitted.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in self.uncommitted.drain(..) {
            offsets.add_partition_offset(&self.topic, partition, Offset::Offset(offset))?;
        }
        self.consumer().commit(&offsets, CommitMode::Async)?;
        Ok(())
    }
}

/// Reads the topic's one partition from `offset` on.
fn assign(consumer: &StreamConsumer, topic: &str, offset: i64) -> Result<(), StoreError> {
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition_offset(topic, 0, Offset::Offset(offset))?;
    consumer.assign(&partitions)?;
    Ok(())
}

/// An offset of the topic from which every event after `after` is read: one holding a
/// position at or below `after`, or the first. Any such offset will do: the relay
/// publishes in position order, and when it publishes again after a crash it goes back to
/// an earlier position and goes on in order from there, so whatever follows a message
/// holds every later position. Most followers start near the end, which is looked at
/// first, then the start; otherwise a binary search, one message read per step.
async fn start_offset(
    consumer: &StreamConsumer,
    topic: &str,
    after: i64,
) -> Result<i64, StoreError> {
    let (low, high) = consumer.fetch_watermarks(topic, 0, PROBE_TIMEOUT)?;
    if high <= low {
        return Ok(low);
    }
    if position_at(consumer, topic, high - 1).await? <= after {
        return Ok(high);
    }
    // A follower with nothing yet reads it all.
    if position_at(consumer, topic, low).await? > after {
        return Ok(low);
    }
    // Invariant: the message at `found` holds a position at or below `after` (or `found`
    // is the first offset); the one at `beyond` holds a later position.
    let (mut found, mut beyond) = (low, high - 1);
    while beyond - found > 1 {
        let middle = found + (beyond - found) / 2;
        if position_at(consumer, topic, middle).await? <= after {
            found = middle;
        } else {
            beyond = middle;
        }
    }
    Ok(found)
}

/// The position of the event at `offset` (of the first message from there on, should it
/// be gone); a message that is not an event counts as the start.
async fn position_at(
    consumer: &StreamConsumer,
    topic: &str,
    offset: i64,
) -> Result<i64, StoreError> {
    assign(consumer, topic, offset)?;
    loop {
        let message = tokio::time::timeout(PROBE_TIMEOUT, consumer.recv())
            .await
            .map_err(|_| StoreError::Malformed(format!("no message at {topic}:{offset}")))??;
        // A message fetched for an earlier probe is passed over.
        if message.offset() < offset {
            continue;
        }
        let position = message
            .payload()
            .and_then(|p| serde_json::from_slice::<Positioned>(p).ok())
            .map_or(i64::MIN, |e| e.position);
        return Ok(position);
    }
}

/// How many dropped consumers are still leaving their groups.
static CLOSING: LazyLock<watch::Sender<usize>> = LazyLock::new(|| watch::Sender::new(0));

impl Drop for KafkaSubscription {
    /// Dropping an rdkafka consumer polls, with no time limit, until the consumer has left
    /// its group, which waits on the broker's answers (to the leave, to commits and
    /// fetches in flight) and has been seen to take minutes. Done in place it would hold
    /// an async worker thread (the only one on a current-thread runtime) and with it the
    /// shutdown that dropped the subscription, so it runs on a thread of its own.
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        CLOSING.send_modify(|n| *n += 1);
        let close = move || {
            drop(consumer);
            CLOSING.send_modify(|n| *n -= 1);
        };
        if let Err(err) = std::thread::Builder::new()
            .name("kafka-consumer-close".into())
            .spawn(close)
        {
            tracing::warn!(error = %err, "cannot start a thread to close a Kafka consumer; closed it in place");
            CLOSING.send_modify(|n| *n -= 1);
        }
    }
}

/// How long an exit waits for dropped consumers to leave their groups.
const CLOSE_LIMIT: Duration = Duration::from_secs(10);

/// Waits (a bounded time) for dropped subscriptions to leave their consumer groups, so the
/// next start's consumers need not wait for the broker to expire the old members. For a
/// process about to exit.
pub async fn consumers_closed() {
    let mut closing = CLOSING.subscribe();
    if tokio::time::timeout(CLOSE_LIMIT, closing.wait_for(|n| *n == 0))
        .await
        .is_err()
    {
        let left = *closing.borrow();
        tracing::warn!(
            consumers = left,
            "Kafka consumers still closing at exit; the broker will expire them"
        );
    }
}
