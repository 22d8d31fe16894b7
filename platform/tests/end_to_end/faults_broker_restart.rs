//! The Kafka-protocol broker is stopped under write load and started again on the same
//! storage, twice. Commands need PostgreSQL alone and are acknowledged throughout; the relay
//! resends what the dead broker had not acknowledged and the consumers reconnect to the
//! new one: every acknowledged write is readable afterwards, once, and its event is in
//! the topic once, as an analyst reading the stream sees it.
//!
//! The broker keeps its topics in an S3 server of the test's own (`scripts/start-s3`),
//! which outlives the broker: a memory-only broker would come back empty. It is stopped
//! with `SIGTERM`: Tansu killed with `SIGKILL` loses messages it had acknowledged (seen
//! in 2 of 4 runs), a loss no client of the broker can repair.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use event_log::kafka::KafkaConfig;
use rdkafka::{
    Message,
    consumer::{BaseConsumer, Consumer},
};
use schemas::RecordedEvent;

use crate::support::{
    broker::Broker,
    load::{self, Load},
    processes::Processes,
};

/// How long a step of the load may take, the restart included.
const STEP_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_broker_restart_under_writes_loses_and_doubles_nothing() {
    let mut broker = Broker::start_durable();
    let processes = Processes::new().await.with_kafka(&broker.addr);
    let platform = processes.start(load::LOG, &[]).await;

    let target = load::target(&platform.base);
    let writes = Load::start(&target, 4, 40);
    writes.wait_for_acks(20, STEP_LIMIT).await;
    broker.restart();
    writes.wait_for_acks(60, STEP_LIMIT).await;
    broker.restart();
    writes.wait_for_acks(100, STEP_LIMIT).await;
    let tally = writes.finish().await;

    let created = load::created_in_log(&processes.db.pool).await;
    let logged: BTreeSet<i64> =
        sqlx::query_scalar("SELECT position FROM events WHERE event_type = 'ItemCreated'")
            .fetch_all(&processes.db.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let head: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&processes.db.pool)
        .await
        .unwrap();
    tokio::time::timeout(STEP_LIMIT, async {
        loop {
            let relayed: i64 =
                sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM relay_checkpoints")
                    .fetch_one(&processes.db.pool)
                    .await
                    .unwrap();
            if relayed >= head {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the relay published the whole log");
    let kafka = processes
        .kafka
        .clone()
        .expect("the processes use the broker");
    let published = tokio::task::spawn_blocking(move || item_creations_in_topic(&kafka))
        .await
        .unwrap();
    let doubled: Vec<_> = published.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubled.is_empty(),
        "events in the topic more than once: {doubled:?}"
    );
    let missing: Vec<_> = logged
        .iter()
        .filter(|p| !published.contains_key(p))
        .collect();
    assert!(missing.is_empty(), "events never published: {missing:?}");
    load::assert_all_readable_once(&tally, &platform.base, created).await;
    processes.stop(vec![platform]).await;
}

/// How many times each `ItemCreated` position is in the items topic, read from the start
/// of every partition to its end.
fn item_creations_in_topic(kafka: &KafkaConfig) -> BTreeMap<i64, usize> {
    let consumer: BaseConsumer = kafka
        .client_config()
        .set(
            "group.id",
            format!("reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let topic = kafka.topic("items");
    let metadata = consumer
        .fetch_metadata(Some(&topic), Duration::from_secs(10))
        .unwrap();
    let partitions = metadata.topics()[0].partitions().len();
    let mut assignment = rdkafka::TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        assignment
            .add_partition_offset(&topic, partition, rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();

    let mut counts = BTreeMap::new();
    let mut ended = BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while ended.len() < partitions && std::time::Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(message)) => {
                let event: RecordedEvent =
                    serde_json::from_slice(message.payload().unwrap()).unwrap();
                if event.event_type == "ItemCreated" {
                    *counts.entry(event.position).or_insert(0) += 1;
                }
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(partition))) => {
                ended.insert(partition);
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    assert_eq!(
        ended.len(),
        partitions,
        "{topic} read to its end within a minute"
    );
    counts
}
