//! The outbox relay publishes the log to Kafka in order, resumes from its checkpoint and
//! never loses an event, and only the relay holding the leadership lock publishes.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::{collections::BTreeSet, time::Duration};

use common::append_one;
use event_log::{
    kafka::KafkaConfig,
    testing::{self, TestDatabase},
};
use event_store::{
    EventStore,
    relay::{LEADER_LOCK, Relay},
};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
    message::Headers,
    producer::{FutureProducer, FutureRecord},
};
use schemas::RecordedEvent;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
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

/// Every position published to a context's topic, in order, duplicates included: read up
/// to a mark the test adds after everything the relays published.
async fn published_positions(kafka: &KafkaConfig, context: &str) -> Vec<i64> {
    let topic = kafka.topic(context);
    let producer: FutureProducer = kafka.client_config().create().unwrap();
    producer
        .send(
            FutureRecord::<str, str>::to(&topic).payload(END),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let consumer: StreamConsumer = kafka
        .client_config()
        .set(
            "group.id",
            format!("count-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "20")
        .create()
        .unwrap();
    let mut partitions = TopicPartitionList::new();
    partitions
        .add_partition_offset(&topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&partitions).unwrap();
    let mut positions = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let message = consumer.recv().await.unwrap();
            let payload = message.payload().unwrap();
            if payload == END.as_bytes() {
                return;
            }
            let event: RecordedEvent = serde_json::from_slice(payload).unwrap();
            positions.push(event.position);
        }
    })
    .await
    .expect("the topic was read to the mark");
    positions
}

/// The mark [`published_positions`] reads up to.
const END: &str = "end of the test";

/// The backend holding the relay's leadership lock in this database, if one holds it.
async fn leader_backend(pool: &PgPool) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND (classid::bigint << 32) | objid::bigint = $1",
    )
    .bind(LEADER_LOCK)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// Waits until a backend other than `old` holds the leadership lock and a relay listens
/// for appends on a connection made since `since`: the new leader, which leads from then.
async fn new_leader(pool: &PgPool, old: i32, since: OffsetDateTime) {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if leader_backend(pool).await.is_some_and(|pid| pid != old)
                && listens_since(pool, since).await
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("another relay took the lead")
}

/// Whether a listener for appends connected since `since`.
async fn listens_since(pool: &PgPool, since: OffsetDateTime) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                         WHERE datname = current_database() AND query ILIKE 'LISTEN%'
                           AND backend_start > $1)",
    )
    .bind(since)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_whose_lock_connection_dies_stops_publishing_and_nothing_is_doubled() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let kafka = testing::kafka_config();
    for n in 1..=20 {
        append_one(&store, &format!("item-{n}"), "items", n).await;
    }
    let (first, first_task) = start_relay_task(&db.pool, &kafka);
    wait_for_checkpoint(&db.pool, 20).await;
    let leader = leader_backend(&db.pool).await.expect("the relay leads");
    let (second, second_task) = start_relay_task(&db.pool, &kafka);
    // Only the lock's connection dies; the leader's pool and listener live on.
    let (terminated, at): (bool, OffsetDateTime) =
        sqlx::query_as("SELECT pg_terminate_backend($1), now()")
            .bind(leader)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(terminated);
    new_leader(&db.pool, leader, at).await;
    // Appended once the lock has a new holder: only that leader may publish them.
    for n in 21..=40 {
        append_one(&store, &format!("item-{n}"), "items", n).await;
    }
    wait_for_checkpoint(&db.pool, 40).await;
    first.cancel();
    second.cancel();
    // Whatever either relay was publishing is in the topic once both have stopped.
    first_task.await.unwrap();
    second_task.await.unwrap();
    let positions = published_positions(&kafka, "items").await;
    assert_eq!(
        positions,
        (1..=40).collect::<Vec<_>>(),
        "every event published once, in order"
    );
    db.drop().await;
}

fn start_relay_task(pool: &PgPool, kafka: &KafkaConfig) -> (CancellationToken, JoinHandle<()>) {
    let stop = CancellationToken::new();
    let relay = Relay::new(pool.clone(), kafka.clone()).unwrap();
    (stop.clone(), tokio::spawn(relay.run(stop)))
}
