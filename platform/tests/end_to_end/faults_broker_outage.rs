//! The Kafka-protocol broker stops answering under write load, then answers again, on a
//! broker of the test's own (the shared test broker serves every other test). Commands
//! do not depend on the broker and are acknowledged throughout; the relay holds its
//! checkpoint until the broker acknowledges, and the consumers pick up where they were:
//! every acknowledged write is readable afterwards, once.
//!
//! The broker is frozen (`SIGSTOP`) and thawed (`SIGCONT`) rather than restarted: the
//! Tansu build the tests use keeps topics in memory only, so a restarted broker would
//! come back empty, a loss no client of it could repair.

use std::{path::PathBuf, process::Command, time::Duration};

use crate::support::{
    load::{self, Load},
    private_postgres::free_port,
    processes::Processes,
};

/// How long a step of the load may take, the outage included.
const STEP_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_broker_outage_under_writes_loses_and_doubles_nothing() {
    let broker = Broker::start();
    let processes = Processes::new().await.with_kafka(&broker.addr);
    let platform = processes.start(load::LOG, &[]).await;

    let target = load::target(&platform.base);
    let writes = Load::start(&target, 4, 40);
    writes.wait_for_acks(20, STEP_LIMIT).await;
    broker.signal("STOP");
    // Commands go on while the broker is gone: appends need PostgreSQL alone.
    writes.wait_for_acks(80, STEP_LIMIT).await;
    broker.signal("CONT");
    let tally = writes.finish().await;

    let created = load::created_in_log(&processes.db.pool).await;
    load::assert_all_readable_once(&tally, &platform.base, created).await;
    processes.stop(vec![platform]).await;
}

/// A Tansu broker of the test's own, started by `scripts/start-tansu`; killed on drop.
struct Broker {
    addr: String,
    pid: String,
    log: PathBuf,
}

impl Broker {
    fn start() -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("tansu-{}.log", uuid::Uuid::new_v4()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/start-tansu");
        let output = Command::new(script)
            .arg(port.to_string())
            .arg(&log)
            .output()
            .expect("scripts/start-tansu runs");
        assert!(
            output.status.success(),
            "the broker did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let pid = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        Self {
            addr: format!("127.0.0.1:{port}"),
            pid,
            log,
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(&self.pid)
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {} failed", self.pid);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // A frozen broker ignores SIGTERM until thawed; SIGKILL ends it either way.
        let _ = Command::new("kill").args(["-KILL", &self.pid]).status();
        let _ = std::fs::remove_file(&self.log);
    }
}
