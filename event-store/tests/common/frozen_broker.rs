//! A Kafka-protocol broker (Tansu) of the test's own, started by `scripts/start-tansu`,
//! which the test can freeze: to its clients it stops answering part-way through whatever
//! they were sending, and later comes back with everything it had acknowledged.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

use std::{net::TcpListener, path::PathBuf, process::Command};

pub(crate) struct FrozenBroker {
    /// The address clients bootstrap from.
    pub brokers: String,
    pid: String,
    log: PathBuf,
}

impl FrozenBroker {
    pub(crate) fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
        Self {
            brokers: format!("127.0.0.1:{port}"),
            pid: String::from_utf8(output.stdout).unwrap().trim().to_owned(),
            log,
        }
    }

    /// Stops the broker where it is (`SIGSTOP`): it reads, writes and acknowledges
    /// nothing more until thawed.
    pub(crate) fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets the broker go on (`SIGCONT`).
    pub(crate) fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {}: {status}", self.pid);
    }
}

impl Drop for FrozenBroker {
    fn drop(&mut self) {
        // A frozen broker ignores SIGTERM until thawed; SIGKILL ends it either way.
        let _ = Command::new("kill").args(["-KILL", &self.pid]).status();
        let _ = std::fs::remove_file(&self.log);
    }
}
