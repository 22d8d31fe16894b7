//! The relay with a broker that stops answering part-way through a batch: the checkpoint
//! never passes what Kafka acknowledged, so a relay that takes over after the failure
//! publishes every event the broker did not get. (A relay that moved its checkpoint when
//! it sent, before the acknowledgements, loses the rest of the batch here.) A relay whose
//! batch fails, the broker having acknowledged nothing within the delivery timeout,
//! starts again from its checkpoint and sends the batch again.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::{collections::BTreeSet, time::Duration};

use common::{event, frozen_broker::FrozenBroker, request};
use event_log::{kafka::KafkaConfig, testing::TestDatabase};
use event_store::{EventStore, ExpectedVersion, relay::Relay};
use futures::{StreamExt, stream};
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
};
use schemas::{NewEvent, RecordedEvent};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const EVENTS: i64 = 3000;
/// Bytes of incompressible text per event: a batch of 1000 then outgrows what the
/// sockets between relay and broker can hold, so a batch is never wholly on its way when
/// the broker stops.
const PADDING: usize = 16 * 1024;
/// The delivery timeout of the relay that outlives the broker's absence: long enough for
/// a batch of [`SMALL_PADDING`] events, far shorter than the absence.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Its events' padding: a batch of them the broker takes well within the timeout.
const SMALL_PADDING: usize = 2 * 1024;

/// An event carrying `padding` pseudo-random hexadecimal digits.
fn padded_event(n: i64, padding: usize) -> NewEvent {
    let mut state = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let padding: String = (0..padding)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from_digit((state >> 60) as u32, 16).unwrap()
        })
        .collect();
    let mut event = event("items", n);
    event.data["description"] = padding.into();
    event
}

async fn relay_checkpoint(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM relay_checkpoints")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The positions of the topic's events, read from the beginning until all `count` have
/// come or a minute has passed.
async fn positions_in_topic(kafka: &KafkaConfig, context: &str, count: usize) -> BTreeSet<i64> {
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
    let mut seen = BTreeSet::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while seen.len() < count {
            let message = consumer.recv().await.unwrap();
            let event: RecordedEvent = serde_json::from_slice(message.payload().unwrap()).unwrap();
            seen.insert(event.position);
        }
    })
    .await;
    seen
}

/// A database whose log holds [`EVENTS`] item events carrying `padding` digits each.
async fn log_of_padded_events(padding: usize) -> TestDatabase {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    stream::iter(1..=EVENTS)
        .map(|n| {
            let store = store.clone();
            async move {
                let events = vec![padded_event(n, padding)];
                let appended = request(&format!("item-{n}"), ExpectedVersion::NoStream, events);
                store.append(appended).await.unwrap();
            }
        })
        .buffer_unordered(64)
        .collect::<()>()
        .await;
    db
}

/// Topics of their own on `broker`.
fn topics_on(broker: &FrozenBroker) -> KafkaConfig {
    KafkaConfig::new(
        broker.brokers.clone(),
        format!("t{}.", uuid::Uuid::new_v4().simple()),
    )
}

/// Waits until the relay's checkpoint has moved: a first batch was acknowledged.
async fn first_batch_published(pool: &PgPool) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while relay_checkpoint(pool).await == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the relay published a first batch");
}

/// Every position of the log is in the items topic.
async fn assert_topic_holds_the_log(kafka: &KafkaConfig) {
    let published = positions_in_topic(kafka, "items", EVENTS as usize).await;
    let missing: Vec<i64> = (1..=EVENTS).filter(|p| !published.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "{} events lost, from position {:?}",
        missing.len(),
        missing.first()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_failing_mid_batch_loses_no_event_of_the_relay() {
    let db = log_of_padded_events(PADDING).await;
    let broker = FrozenBroker::start();
    let kafka = topics_on(&broker);
    let relay = tokio::spawn(
        Relay::new(db.pool.clone(), kafka.clone())
            .unwrap()
            .run(CancellationToken::new()),
    );

    // A first batch acknowledged; the broker fails while the relay sends the next one.
    first_batch_published(&db.pool).await;
    broker.freeze();
    let at_failure = relay_checkpoint(&db.pool).await;
    assert!(
        at_failure < EVENTS,
        "the checkpoint passed events the broker had not acknowledged: {at_failure}"
    );
    // The relay's process dies while the broker is away; another relay takes over.
    relay.abort();
    let _ = relay.await;
    broker.thaw();
    let stop = CancellationToken::new();
    tokio::spawn(
        Relay::new(db.pool.clone(), kafka.clone())
            .unwrap()
            .run(stop.clone()),
    );
    tokio::time::timeout(Duration::from_secs(120), async {
        while relay_checkpoint(&db.pool).await < EVENTS {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the relay that took over reached the head of the log");
    assert_topic_holds_the_log(&kafka).await;
    stop.cancel();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_away_past_the_delivery_timeout_fails_the_batch_and_the_relay_resends_it() {
    let db = log_of_padded_events(SMALL_PADDING).await;
    let broker = FrozenBroker::start();
    let kafka = topics_on(&broker);
    let stop = CancellationToken::new();
    let relay = tokio::spawn(
        Relay::with_delivery_timeout(db.pool.clone(), kafka.clone(), DELIVERY_TIMEOUT)
            .unwrap()
            .run(stop.clone()),
    );

    first_batch_published(&db.pool).await;
    // Away for several delivery timeouts: the batch in flight fails, and so do the
    // relay's tries to start again while the broker is gone.
    broker.freeze();
    let at_failure = relay_checkpoint(&db.pool).await;
    tokio::time::sleep(DELIVERY_TIMEOUT * 4).await;
    assert_eq!(
        relay_checkpoint(&db.pool).await,
        at_failure,
        "the checkpoint moved while the broker acknowledged nothing"
    );
    assert!(
        at_failure < EVENTS,
        "the whole log went out before the broker froze"
    );
    broker.thaw();

    tokio::time::timeout(Duration::from_secs(120), async {
        while relay_checkpoint(&db.pool).await < EVENTS {
            assert!(
                !relay.is_finished(),
                "the relay gave up after a failed batch"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the same relay reached the head of the log");
    assert_topic_holds_the_log(&kafka).await;
    stop.cancel();
    db.drop().await;
}
