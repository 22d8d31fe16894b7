//! A projector killed at the points a crash can fall between neither loses nor doubles an
//! update: inside a batch's transaction, its rows written but not its checkpoint (the
//! rows must go with it), and after its commit, before the source was told (the batch is
//! delivered again and must be skipped). The process stops at each point by a failpoint
//! and is killed there. (The items projection refuses an event that does not follow its
//! row, so a doubled update would stall it and fail this test.)

use crate::common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Expected, checkpoint, head, read_model, write_histories};
use event_log::{
    kafka::KafkaConfig,
    testing::{self, TestDatabase, Transport},
};
use event_store::{EventStore, relay::Relay};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

struct Projector<'a> {
    db: &'a TestDatabase,
    kafka: Option<&'a KafkaConfig>,
    group: &'a str,
}

impl Projector<'_> {
    fn start(&self, failpoint: Option<&str>) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_projector"));
        command
            .env_clear()
            .env("DATABASE_URL", &self.db.url)
            .env("HTTP_ADDR", "127.0.0.1:0")
            .env("METRICS_ADDR", "127.0.0.1:0")
            .env("PROJECTOR_GROUP_ID", self.group)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(failpoint) = failpoint {
            // Held at the failpoint until killed: nothing is written to its stdin.
            command
                .env("PROJECTOR_FAILPOINT", failpoint)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
        }
        if let Some(kafka) = self.kafka {
            command
                .env("KAFKA_BROKERS", &kafka.brokers)
                .env("KAFKA_TOPIC_PREFIX", &kafka.topic_prefix);
        }
        command.spawn().expect("projector starts")
    }

    /// Runs the projector until it waits at `failpoint`, kills it there and returns the
    /// position its paused batch reached.
    async fn kill_at(&self, failpoint: &str) -> i64 {
        let mut projector = self.start(Some(failpoint));
        let stdout = projector.stdout.take().unwrap();
        let wanted = failpoint.split(':').next().unwrap().to_owned();
        let reached = tokio::task::spawn_blocking(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| {
                    let rest = line.strip_prefix(&format!("failpoint {wanted} items through "))?;
                    rest.parse::<i64>().ok()
                })
        });
        let through = tokio::time::timeout(Duration::from_secs(120), reached)
            .await
            .unwrap_or_else(|_| panic!("the projector never reached {failpoint}"))
            .unwrap();
        projector.kill().unwrap();
        projector.wait().unwrap();
        through.unwrap_or_else(|| panic!("the projector ended before {failpoint}"))
    }
}

/// What the items read model holds when exactly the events up to `position` are applied.
async fn state_at(pool: &PgPool, position: i64) -> Expected {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT (data->>'id')::bigint, data->>'name', stream_version FROM ( \
             SELECT DISTINCT ON (stream_id) data, stream_version, event_type FROM events \
             WHERE context = 'items' AND position <= $1 \
             ORDER BY stream_id, stream_version DESC) last \
         WHERE event_type <> 'ItemDeleted'",
    )
    .bind(position)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, name, version)| (id, (name, version)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_killed_inside_a_batch_or_after_its_commit_loses_and_doubles_nothing() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let expected = write_histories(&store, 1..4001, 3).await;
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
    let projector = Projector {
        db: &db,
        kafka: kafka.as_ref(),
        group: &group,
    };

    // Killed with its third batch's rows written and its checkpoint not: neither stays.
    let through = projector.kill_at("rows_written:items:3").await;
    let saved = checkpoint(&db.pool).await;
    assert!(
        0 < saved && saved < through,
        "checkpoint {saved}, paused batch through {through}"
    );
    assert_eq!(read_model(&db.pool).await, state_at(&db.pool, saved).await);

    // Killed after a commit, before the source was told: the batch comes again.
    let through = projector.kill_at("committed:items:3").await;
    assert_eq!(checkpoint(&db.pool).await, through);
    assert!(through < total, "it finished before it was killed");
    assert_eq!(
        read_model(&db.pool).await,
        state_at(&db.pool, through).await
    );

    let mut last = projector.start(None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint(&db.pool).await < total {
        assert!(
            Instant::now() < deadline,
            "the restarted projector did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last.kill().unwrap();
    last.wait().unwrap();
    stop_relay.cancel();

    assert_eq!(read_model(&db.pool).await, expected);
    db.drop().await;
}
