//! A projector killed mid-stream and restarted neither loses nor doubles an update: the
//! rows and the checkpoint commit together. (The items projection refuses an event that
//! does not follow its row, so a doubled update would stall it and fail this test.)

use crate::common;

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{checkpoint, head, read_model, write_histories};
use event_log::testing::{self, TestDatabase, Transport};
use event_store::{EventStore, relay::Relay};
use tokio_util::sync::CancellationToken;

fn start_projector(
    db: &TestDatabase,
    kafka: Option<&event_log::kafka::KafkaConfig>,
    group: &str,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_projector"));
    command
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("PROJECTOR_GROUP_ID", group)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(kafka) = kafka {
        command
            .env("KAFKA_BROKERS", &kafka.brokers)
            .env("KAFKA_TOPIC_PREFIX", &kafka.topic_prefix);
    }
    command.spawn().expect("projector starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_killed_mid_stream_resumes_without_losing_or_doubling_updates() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let expected = write_histories(&store, 1..8001, 3).await;
    let total = head(&db.pool).await;
    let stop_relay = CancellationToken::new();
    let kafka = (testing::transport() == Transport::Kafka).then(testing::kafka_config);
    if let Some(kafka) = &kafka {
        tokio::spawn(
            Relay::new(db.pool.clone(), kafka.clone())
                .unwrap()
                .run(stop_relay.clone()),
        );
    }
    let group = format!("crash-{}", uuid::Uuid::new_v4().simple());

    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut projector = start_projector(&db, kafka.as_ref(), &group);
    // Kill it twice while it is part-way through, then let a third run finish.
    while kills < 2 {
        assert!(
            Instant::now() < deadline,
            "the projector never got part-way"
        );
        let applied = checkpoint(&db.pool).await;
        if applied > total * (kills + 1) / 4 && applied < total {
            projector.kill().unwrap();
            projector.wait().unwrap();
            kills += 1;
            assert!(
                checkpoint(&db.pool).await < total,
                "it finished before it was killed"
            );
            projector = start_projector(&db, kafka.as_ref(), &group);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    while checkpoint(&db.pool).await < total {
        assert!(
            Instant::now() < deadline,
            "the restarted projector did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    projector.kill().unwrap();
    projector.wait().unwrap();
    stop_relay.cancel();

    assert_eq!(read_model(&db.pool).await, expected);
    db.drop().await;
}
