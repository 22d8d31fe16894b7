//! Platform processes of their own on one fresh database, whose output a test reads: the
//! JSON log lines each writes on stdout, and whatever it prints on stderr. The in-process
//! [`super::TestApp`] installs no logging, so what a process logs, captures and applies
//! of the log levels is seen only this way.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use event_log::{
    kafka::KafkaConfig,
    testing::{self, TestDatabase, Transport},
};
use reqwest::Client;
use serde_json::Value;

use super::{accounts::ADMIN_FLAGS, instances::SHARED_SECRET};

/// How long a process may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A database, the transport, and the processes started on them.
pub(crate) struct Processes {
    pub db: TestDatabase,
    pub client: Client,
    /// The broker and topics events move through, in Kafka mode.
    pub kafka: Option<KafkaConfig>,
    transport_args: Vec<String>,
}

/// One `platform` process.
pub(crate) struct PlatformProcess {
    pub base: String,
    pub pid: u32,
    stdout: PathBuf,
    stderr: PathBuf,
    child: Child,
}

fn kafka_args(kafka: &KafkaConfig) -> Vec<String> {
    vec![
        format!("--kafka-brokers={}", kafka.brokers),
        format!("--kafka-topic-prefix={}", kafka.topic_prefix),
    ]
}

impl Processes {
    pub(crate) async fn new() -> Self {
        Self::on(TestDatabase::new().await)
    }

    /// Processes on `db`, wherever it lives.
    pub(crate) fn on(db: TestDatabase) -> Self {
        let kafka = (testing::transport() == Transport::Kafka).then(testing::kafka_config);
        let transport_args = kafka.as_ref().map(kafka_args).unwrap_or_default();
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            db,
            client,
            kafka,
            transport_args,
        }
    }

    /// The same, moving events through the broker at `brokers` (topics of their own).
    pub(crate) fn with_kafka(mut self, brokers: &str) -> Self {
        let kafka = KafkaConfig::new(brokers, format!("t{}.", uuid::Uuid::new_v4().simple()));
        self.transport_args = kafka_args(&kafka);
        self.kafka = Some(kafka);
        self
    }

    /// Starts a platform process (with the admin of [`ADMIN_FLAGS`], the shared token
    /// secret, JSON logs filtered by `rust_log`) and waits until it listens.
    pub(crate) async fn start(&self, rust_log: &str, extra: &[&str]) -> PlatformProcess {
        self.start_at("127.0.0.1:0", rust_log, extra).await
    }

    /// As [`Self::start`], listening on `addr` (a process restarted where clients know it).
    pub(crate) async fn start_at(
        &self,
        addr: &str,
        rust_log: &str,
        extra: &[&str],
    ) -> PlatformProcess {
        let mut args = vec![
            format!("--database-url={}", self.db.url),
            format!("--http-addr={addr}"),
            "--metrics-addr=127.0.0.1:0".to_owned(),
            "--log-format=json".to_owned(),
            "--db-pool-size=4".to_owned(),
            format!("--group-id=projector-{}", uuid::Uuid::new_v4().simple()),
            "--platform-mail-enabled=false".to_owned(),
            "--auth-rate-limit-per-minute=100000".to_owned(),
            "--anonymous-write-rate-limit-per-minute=0".to_owned(),
            SHARED_SECRET.to_owned(),
        ];
        args.extend(ADMIN_FLAGS.iter().map(|flag| flag.to_string()));
        args.extend(self.transport_args.iter().cloned());
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let name = format!(
            "platform-{}-{}",
            self.db.name,
            uuid::Uuid::new_v4().simple()
        );
        let stdout = std::env::temp_dir().join(format!("{name}.out"));
        let stderr = std::env::temp_dir().join(format!("{name}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_platform"))
            .args(&args)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("the platform binary starts");
        let mut process = PlatformProcess {
            base: String::new(),
            pid: child.id(),
            stdout,
            stderr,
            child,
        };
        let started = Instant::now();
        let addr = loop {
            let listening = process
                .lines()
                .into_iter()
                .find(|line| line["message"] == "listening");
            if let Some(line) = listening {
                break line["addr"].as_str().unwrap().to_owned();
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("the platform exited ({status}): {}", process.output());
            }
            assert!(
                started.elapsed() < START_LIMIT,
                "the platform did not start: {}",
                process.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        process.base = format!("http://{addr}");
        process
    }

    /// The events of one type, oldest first.
    pub(crate) async fn events(&self, event_type: &str) -> Vec<Value> {
        sqlx::query_scalar("SELECT data FROM events WHERE event_type = $1 ORDER BY position")
            .bind(event_type)
            .fetch_all(&self.db.pool)
            .await
            .unwrap()
    }

    /// Waits (at most `limit`) until `found` picks something out of the events of
    /// `event_type`.
    pub(crate) async fn wait_for_events<T>(
        &self,
        event_type: &str,
        limit: Duration,
        found: impl Fn(&[Value]) -> Option<T>,
    ) -> Option<T> {
        let started = Instant::now();
        loop {
            if let Some(value) = found(&self.events(event_type).await) {
                return Some(value);
            }
            if started.elapsed() >= limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops `processes` and drops the database.
    pub(crate) async fn stop(self, processes: Vec<PlatformProcess>) {
        drop(processes);
        self.db.drop().await;
    }
}

impl PlatformProcess {
    /// Every JSON line the process logged so far, in order.
    pub(crate) fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.stdout)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Everything the process wrote, stdout and stderr.
    pub(crate) fn output(&self) -> String {
        let stdout = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        format!("{stdout}{stderr}")
    }

    /// The pid's part of the instance name (`<host>:<pid>`) its records carry.
    pub(crate) fn instance_suffix(&self) -> String {
        format!(":{}", self.pid)
    }
}

impl Drop for PlatformProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
    }
}
