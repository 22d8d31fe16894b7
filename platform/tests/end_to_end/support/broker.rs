//! A Tansu broker of a fault test's own (the shared test broker serves every other test),
//! started by `scripts/start-tansu`; killed on drop. A durable one keeps its topics in an
//! S3 server of its own (`scripts/start-s3`), so it can be stopped and started again.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use super::private_postgres::free_port;

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts");

pub(crate) struct Broker {
    pub addr: String,
    port: u16,
    pid: String,
    log: PathBuf,
    store: Option<Store>,
}

/// The S3 server a durable broker keeps its topics in.
struct Store {
    port: u16,
    pid: String,
    log: PathBuf,
}

impl Broker {
    /// A broker keeping its topics in memory: a restart would lose them.
    pub(crate) fn start() -> Self {
        Self::launch(free_port(), None)
    }

    /// A broker keeping its topics in an S3 server: [`Broker::restart`] finds them again.
    pub(crate) fn start_durable() -> Self {
        let port = free_port();
        let log = temp_log("s3");
        let pid = run_script("start-s3", &[&port.to_string(), path_arg(&log)]);
        Self::launch(free_port(), Some(Store { port, pid, log }))
    }

    fn launch(port: u16, store: Option<Store>) -> Self {
        let log = temp_log("tansu");
        let mut args = vec![port.to_string(), path_arg(&log).to_owned()];
        if let Some(store) = &store {
            args.push(store.port.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let pid = run_script("start-tansu", &args);
        Self {
            addr: format!("127.0.0.1:{port}"),
            port,
            pid,
            log,
            store,
        }
    }

    pub(crate) fn signal(&self, signal: &str) {
        signal_pid(signal, &self.pid);
    }

    /// Stops the broker (`SIGTERM`) and starts a new one on the same port and the same
    /// storage.
    pub(crate) fn restart(&mut self) {
        assert!(
            self.store.is_some(),
            "a memory-only broker would come back empty"
        );
        self.signal("TERM");
        let mut args = vec![self.port.to_string(), path_arg(&self.log).to_owned()];
        args.extend(self.store.as_ref().map(|store| store.port.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // The port is free once the killed process's sockets are closed.
        for _ in 0..250 {
            if std::net::TcpStream::connect(&self.addr).is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.pid = run_script("start-tansu", &args);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // A frozen broker ignores SIGTERM until thawed; SIGKILL ends it either way.
        let _ = Command::new("kill").args(["-KILL", &self.pid]).status();
        let _ = std::fs::remove_file(&self.log);
        if let Some(store) = &self.store {
            let _ = Command::new("kill").arg(&store.pid).status();
            let _ = std::fs::remove_file(&store.log);
        }
    }
}

fn temp_log(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{name}-{}.log", uuid::Uuid::new_v4()))
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Runs one of the project's start scripts, which prints the PID of what it started.
fn run_script(script: &str, args: &[&str]) -> String {
    let output = Command::new(format!("{SCRIPTS}/{script}"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("scripts/{script} runs: {e}"));
    assert!(
        output.status.success(),
        "scripts/{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn signal_pid(signal: &str, pid: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid)
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}
