//! A real SMTP server (aiosmtpd, `scripts/smtp/server.py`) on a free loopback port, with
//! a spool folder the tests read what it received from. It runs as a child process of the
//! test: `TEST_SMTP_PYTHON` is the python that `scripts/install-aiosmtpd` prints and
//! `TEST_SMTP_SERVER` the script's path (`scripts/test` sets both). Without them a test
//! that needs the server fails; it never skips.

use std::{
    fs::OpenOptions,
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde::{Deserialize, de::DeserializeOwned};

/// How long the server gets to print `ready`: a cold Python start takes a fraction of it.
const START_LIMIT: Duration = Duration::from_secs(20);

/// How the server answers DATA. The default accepts everything at once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SmtpBehaviour {
    /// Answer `451 4.3.0` to this many deliveries first (counted from each start).
    pub(crate) defer_first: u32,
    /// Answer `550 5.1.1` to every delivery.
    pub(crate) reject: bool,
    /// Wait this long before answering, as a slow server does.
    pub(crate) delay_ms: u64,
    /// Keep an accepted message, then wait this long before answering `250`: a client
    /// that dies meanwhile has delivered it without knowing.
    pub(crate) reply_delay_ms: u64,
}

/// A message the server accepted (a line of `received.jsonl`); its bytes are `<n>.eml`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Received {
    /// Counts from 1 across restarts on the same spool.
    pub(crate) n: u64,
    pub(crate) mail_from: String,
    pub(crate) rcpt_tos: Vec<String>,
    pub(crate) message_id: Option<String>,
    /// Decoded from its RFC 2047 form.
    pub(crate) subject: Option<String>,
}

/// A delivery the server refused (a line of `refused.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Refused {
    /// 451 (deferred) or 550 (rejected).
    pub(crate) code: u16,
    pub(crate) rcpt_tos: Vec<String>,
    pub(crate) message_id: Option<String>,
}

/// The server process, killed (and its folder removed) when dropped.
pub(crate) struct SmtpServer {
    port: u16,
    /// Holds `spool/` and `server.log`.
    scratch: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub(crate) async fn start(behaviour: SmtpBehaviour) -> Self {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().unwrap().port()
        };
        let scratch = std::env::temp_dir().join(format!("smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(scratch.join("spool")).expect("a spool folder");
        let mut server = Self {
            port,
            scratch,
            child: None,
        };
        server.launch(behaviour).await;
        server
    }

    /// The URL the platform's mail settings take.
    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, in the order they were.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.lines("received.jsonl")
    }

    /// Every delivery refused so far, in the order they were.
    pub(crate) fn refused(&self) -> Vec<Refused> {
        self.lines("refused.jsonl")
    }

    /// The bytes of an accepted message as the server received them.
    pub(crate) fn eml(&self, n: u64) -> Vec<u8> {
        let path = self.spool().join(format!("{n}.eml"));
        std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    /// Waits until at least `count` messages were accepted and returns them all. The
    /// deadline is in real time, as the server's clock is, even under a paused test clock.
    pub(crate) async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server received {} of {count} messages within {timeout:?}: \
                 {received:#?}; refused: {:#?}; {}",
                received.len(),
                self.refused(),
                self.log(),
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server; connecting then fails until `restart`.
    pub(crate) async fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            tokio::task::spawn_blocking(move || end(child))
                .await
                .unwrap();
        }
    }

    /// Starts the server again on the same port and spool (numbering goes on from the
    /// messages already there) with a new behaviour.
    pub(crate) async fn restart(&mut self, behaviour: SmtpBehaviour) {
        self.stop().await;
        self.launch(behaviour).await;
    }

    async fn launch(&mut self, behaviour: SmtpBehaviour) {
        let mut child = self.command(behaviour).spawn().unwrap_or_else(|err| {
            panic!("the SMTP server does not start: {err}; {}", setup_hint())
        });
        let stdout = child.stdout.take().unwrap();
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let ready = format!("ready {}", self.port);
        let failure = match tokio::time::timeout(START_LIMIT, first_line).await {
            Ok(Ok(Ok(line))) if line.trim_end() == ready => {
                self.child = Some(child);
                return;
            }
            Ok(Ok(Ok(line))) if line.is_empty() => "exited before it was ready".to_owned(),
            Ok(Ok(Ok(line))) => format!("printed {line:?} instead of {ready:?}"),
            Ok(Ok(Err(err))) => format!("output is unreadable: {err}"),
            Ok(Err(err)) => format!("output is unreadable: {err}"),
            Err(_) => format!("did not print {ready:?} within {START_LIMIT:?}"),
        };
        // Killing it also ends a read still waiting for the line.
        end(child);
        panic!("the SMTP server {failure}; {}", self.log());
    }

    fn command(&self, behaviour: SmtpBehaviour) -> Command {
        let python = required_env("TEST_SMTP_PYTHON");
        let script = required_env("TEST_SMTP_SERVER");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the SMTP server's log file");
        let mut command = Command::new(python);
        command
            .arg(script)
            .arg(format!("--port={}", self.port))
            .arg(format!("--spool={}", self.spool().display()))
            .arg(format!("--defer-first={}", behaviour.defer_first))
            .arg(format!("--delay-ms={}", behaviour.delay_ms))
            .arg(format!("--reply-delay-ms={}", behaviour.reply_delay_ms))
            // Its stdin is a pipe this process holds: if the test dies, so does the server.
            .arg("--exit-on-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log);
        if behaviour.reject {
            command.arg("--reject");
        }
        command
    }

    fn spool(&self) -> PathBuf {
        self.scratch.join("spool")
    }

    fn log_path(&self) -> PathBuf {
        self.scratch.join("server.log")
    }

    /// The server's stderr, for failure messages.
    fn log(&self) -> String {
        let path = self.log_path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        format!("server log {}:\n{text}", path.display())
    }

    /// The complete lines of a JSON-lines file of the spool (a line being written is left
    /// for later).
    fn lines<T: DeserializeOwned>(&self, name: &str) -> Vec<T> {
        let path = self.spool().join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Vec::new();
        };
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|err| panic!("{}: {err}: {line}", path.display()))
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            end(child);
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn end(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set; {}", setup_hint()))
}

fn setup_hint() -> &'static str {
    "scripts/test sets TEST_SMTP_PYTHON and TEST_SMTP_SERVER; by hand: \
     export TEST_SMTP_PYTHON=\"$(scripts/install-aiosmtpd)\" \
     TEST_SMTP_SERVER=\"$PWD/scripts/smtp/server.py\""
}
