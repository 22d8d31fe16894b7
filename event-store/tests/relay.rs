//! The outbox relay publishes the log to Kafka in order, resumes from its checkpoint and
//! never loses an event.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::{collections::BTreeSet, time::Duration};

use common::append_one;
use event_log::{
    kafka::KafkaConfig,
    testing::{self, TestDatabase},
};
use event_store::{EventStore, relay::Relay};
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
    message::Headers,
};
use schemas::RecordedEvent;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

async fn relay_checkpoint(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM relay_checkpoints")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_for_checkpoint(pool: &PgPool, position: i64) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while relay_checkpoint(pool).await < position {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the relay reached the head of the log");
}

fn start_relay(pool: &PgPool, kafka: &KafkaConfig) -> CancellationToken {
    let stop = CancellationToken::new();
    let relay = Relay::new(pool.clone(), kafka.clone()).unwrap();
    tokio::spawn(relay.run(stop.clone()));
    stop
}

/// Every message of a topic from the beginning, until `positions` have all been seen.
async fn read_topic(
    kafka: &KafkaConfig,
    context: &str,
    positions: i64,
) -> Vec<(RecordedEvent, String, Vec<(String, String)>)> {
    let consumer: StreamConsumer = kafka
        .client_config()
        .set(
            "group.id",
            format!("reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .set("fetch.wait.max.ms", "20")
        .create()
        .unwrap();
    consumer.subscribe(&[&kafka.topic(context)]).unwrap();
    let mut messages = Vec::new();
    let mut seen = BTreeSet::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while (seen.len() as i64) < positions {
            let message = consumer.recv().await.unwrap();
            let event: RecordedEvent = serde_json::from_slice(message.payload().unwrap()).unwrap();
            let key = String::from_utf8(message.key().unwrap().to_vec()).unwrap();
            let headers = message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|h| {
                            (
                                h.key.to_owned(),
                                String::from_utf8(h.value.unwrap().to_vec()).unwrap(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            seen.insert(event.position);
            messages.push((event, key, headers));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {positions} positions arrived", seen.len()));
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_publishes_every_event_keyed_by_stream_with_its_headers() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let kafka = testing::kafka_config();
    for n in 1..=50 {
        append_one(&store, &format!("item-{n}"), "items", n).await;
    }
    let stop = start_relay(&db.pool, &kafka);
    wait_for_checkpoint(&db.pool, 50).await;
    let messages = read_topic(&kafka, "items", 50).await;
    let positions: Vec<i64> = messages.iter().map(|(e, _, _)| e.position).collect();
    assert_eq!(positions, (1..=50).collect::<Vec<_>>());
    let (event, key, headers) = &messages[0];
    assert_eq!(key, &event.stream_id);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("event_type").as_deref(), Some("ItemCreated"));
    assert_eq!(header("schema_version").as_deref(), Some("1"));
    assert_eq!(header("event_id"), Some(event.event_id.to_string()));
    assert_eq!(header("correlation_id").as_deref(), Some("test"));
    stop.cancel();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_relay_resumes_from_its_checkpoint_without_losing_events() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let kafka = testing::kafka_config();
    for n in 1..=40 {
        append_one(&store, &format!("item-{n}"), "items", n).await;
    }
    let first = start_relay(&db.pool, &kafka);
    wait_for_checkpoint(&db.pool, 40).await;
    first.cancel();
    // Appended while no relay runs, then a new relay (and a rival for leadership) starts.
    for n in 41..=80 {
        append_one(&store, &format!("item-{n}"), "items", n).await;
    }
    let second = start_relay(&db.pool, &kafka);
    let rival = start_relay(&db.pool, &kafka);
    wait_for_checkpoint(&db.pool, 80).await;
    let messages = read_topic(&kafka, "items", 80).await;
    let positions: Vec<i64> = messages.iter().map(|(e, _, _)| e.position).collect();
    let distinct: BTreeSet<i64> = positions.iter().copied().collect();
    assert_eq!(distinct, (1..=80).collect(), "an event was lost");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "republished or out of order: {positions:?}"
    );
    second.cancel();
    rival.cancel();
    db.drop().await;
}
