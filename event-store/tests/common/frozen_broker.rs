//! A Kafka-protocol broker (Tansu) of the test's own, which the test can freeze: to its
//! clients it stops answering part-way through whatever they were sending, and later
//! comes back with everything it had acknowledged.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub(crate) struct FrozenBroker {
    /// The address clients bootstrap from.
    pub brokers: String,
    broker: Child,
}

impl FrozenBroker {
    /// Starts the broker, the Tansu binary `TEST_TANSU` names.
    pub(crate) fn start() -> Self {
        let tansu = std::env::var("TEST_TANSU")
            .expect("TEST_TANSU names the Tansu binary (scripts/install-tansu prints it)");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let broker = Command::new(tansu)
            .arg("broker")
            .arg(format!("--listener-url={url}"))
            .arg(format!("--advertised-listener-url={url}"))
            .arg("--storage-engine=memory://tansu/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the Tansu broker starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the broker listens within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            brokers: format!("127.0.0.1:{port}"),
            broker,
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
            .args([signal, &self.broker.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal}: {status}");
    }
}

impl Drop for FrozenBroker {
    fn drop(&mut self) {
        let _ = self.broker.kill();
        let _ = self.broker.wait();
    }
}
