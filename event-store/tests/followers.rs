//! Followers: readers that keep their position in memory (query-api's caches and live
//! streams) follow Kafka without a consumer group, from where their position lies, and
//! leave nothing on the broker however often they restart.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::{collections::BTreeSet, time::Duration};

use common::append_one;
use event_log::{
    kafka::KafkaConfig,
    subscription::{EventSource, Subscription},
    testing::{self, TestDatabase},
};
use event_store::{EventStore, relay::Relay};
use rdkafka::{
    consumer::{BaseConsumer, Consumer},
    producer::{FutureProducer, FutureRecord},
};
use schemas::RecordedEvent;
use tokio_util::sync::CancellationToken;

/// Every consumer group the broker knows.
fn groups(kafka: &KafkaConfig) -> BTreeSet<String> {
    let client: BaseConsumer = kafka.client_config().create().unwrap();
    let list = client
        .fetch_group_list(None, Duration::from_secs(10))
        .unwrap();
    list.groups().iter().map(|g| g.name().to_owned()).collect()
}

/// The positions of the next `count` events, checking none comes twice.
async fn positions(subscription: &mut Box<dyn Subscription>, count: usize) -> Vec<i64> {
    let mut positions = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while positions.len() < count {
            let batch = subscription.next_batch(100).await.unwrap();
            positions.extend(batch.events.iter().map(|e| e.position));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {count} events arrived", positions.len()));
    positions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_restarted_joins_no_group_and_reads_on_from_its_position() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let kafka = testing::kafka_config();
    let relay = CancellationToken::new();
    tokio::spawn(
        Relay::new(db.pool.clone(), kafka.clone())
            .unwrap()
            .run(relay.clone()),
    );
    for n in 1..=30 {
        append_one(&store, &format!("s-{n}"), "items", n).await;
    }
    let source = EventSource::Kafka(kafka.clone());
    let before = groups(&kafka);
    let mut first = source.follow_types("items", None, 20).await.unwrap();
    assert_eq!(
        positions(&mut first, 10).await,
        (21..=30).collect::<Vec<_>>()
    );
    first.commit().await.unwrap();
    drop(first);
    // Restarted where it was; what is appended meanwhile and later arrives live.
    append_one(&store, "s-31", "items", 31).await;
    let mut second = source.follow_types("items", None, 30).await.unwrap();
    append_one(&store, "s-32", "items", 32).await;
    assert_eq!(positions(&mut second, 2).await, [31, 32]);
    second.commit().await.unwrap();
    let after = groups(&kafka);
    let created: Vec<&String> = after.difference(&before).collect();
    assert!(
        !created.iter().any(|g| g.contains("follower")),
        "groups left behind: {created:?}"
    );
    drop(second);
    relay.cancel();
    db.drop().await;
}

/// A relay that crashed between publishing and checkpointing published a run again, from
/// an earlier position: a follower starting anywhere still reads every later event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_finds_its_start_in_a_topic_with_republished_runs() {
    let kafka = testing::kafka_config();
    kafka.ensure_topics(&["items"]).await.unwrap();
    let producer: FutureProducer = kafka.client_config().create().unwrap();
    // 1..=10, then 5..=15 again.
    for position in (1..=10).chain(5..=15) {
        let event = RecordedEvent {
            event_id: uuid::Uuid::now_v7(),
            stream_id: format!("s-{position}"),
            stream_version: 1,
            position,
            context: "items".into(),
            event_type: "ItemCreated".into(),
            schema_version: 1,
            occurred_at: time::OffsetDateTime::now_utc(),
            correlation_id: "test".into(),
            actor: None,
            data: serde_json::json!({}).into(),
        };
        let payload = serde_json::to_string(&event).unwrap();
        let topic = kafka.topic("items");
        let record = FutureRecord::to(&topic)
            .key(&event.stream_id)
            .payload(&payload);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .unwrap();
    }
    let source = EventSource::Kafka(kafka);
    for after in [0, 3, 7, 12, 14] {
        let mut follower = source.follow_types("items", None, after).await.unwrap();
        let expected: Vec<i64> = (after + 1..=15).collect();
        assert_eq!(
            positions(&mut follower, expected.len()).await,
            expected,
            "after {after}"
        );
    }
}
