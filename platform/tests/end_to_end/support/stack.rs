//! The native stack (`scripts/run-stack --debug`) on a fresh database, for tests that drive
//! it as a client would: [`Stack::app`] speaks to nginx only. The script's `stack.env`
//! says where everything listens and which process is which, so a test can read each
//! service's metrics and kill one.

use std::{
    collections::BTreeMap,
    fs,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use event_log::testing::TestDatabase;
use tokio::sync::oneshot;

use super::{TestApp, accounts::ADMIN_FLAGS};

/// Set by `scripts/test` for the one run that starts the stack; without it the stack test
/// has nothing to drive.
pub(crate) const GATE: &str = "TEST_STACK";

/// How long the script may take: a build that is up to date, then every server started.
const START_LIMIT: Duration = Duration::from_secs(300);
/// How long the script may take to stop everything after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(30);

pub(crate) struct Stack {
    /// The API through nginx; its metrics base is command-api's listener.
    pub app: TestApp,
    /// `stack.env`: addresses (`NGINX_URL`, `QUERY_API_1_METRICS`, ...) and process ids
    /// (`PROJECTOR_1_PID`, ...).
    pub env: BTreeMap<String, String>,
    pub dir: PathBuf,
    script: Script,
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the platform crate sits in the workspace")
        .to_path_buf()
}

/// `kill -<signal> <pid>`.
pub(crate) fn signal(pid: &str, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid)
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

impl Stack {
    pub(crate) async fn start() -> Self {
        let db = TestDatabase::new().await;
        let dir = std::env::temp_dir().join(format!("platform-stack-{}", db.name));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let output = fs::File::create(dir.join("run-stack.log")).unwrap();
        let admin: Vec<(&str, &str)> = ADMIN_FLAGS
            .iter()
            .map(|flag| {
                let (name, value) = flag.trim_start_matches("--").split_once('=').unwrap();
                (name, value)
            })
            .collect();
        let mut command = Command::new(repository().join("scripts/run-stack"));
        command
            .arg("--debug")
            .env("STACK_DIR", &dir)
            .env("STACK_PORT", "0")
            .env("DATABASE_URL", &db.url)
            // Tests log in and write often from one address; the limits have their tests.
            .env("AUTH_RATE_LIMIT_PER_MINUTE", "100000")
            .env("ANONYMOUS_WRITE_RATE_LIMIT_PER_MINUTE", "0")
            .env("EMAIL_RATE_LIMIT_PER_MINUTE", "100000")
            .env("PLATFORM_MAIL_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        for (name, value) in admin {
            command.env(name.replace('-', "_").to_uppercase(), value);
        }
        let mut script = command.spawn().expect("scripts/run-stack starts");
        let env = ready(&dir, &mut script).await;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = stopped.await;
        });
        let app = TestApp::elsewhere(
            env["NGINX_URL"].clone(),
            env["COMMAND_API_METRICS"].clone(),
            db,
            PathBuf::from(&env["MAIL_DIR"]),
            stop,
            server,
        );
        Self {
            app,
            env,
            dir,
            script: Script(script),
        }
    }

    /// The pid of service `name` (`query-api-1`, `projector-2`, ...).
    pub(crate) fn pid(&self, name: &str) -> &str {
        &self.env[&format!("{}_PID", key(name))]
    }

    /// Where service `name` serves `/metrics`.
    pub(crate) fn metrics_of(&self, name: &str) -> &str {
        &self.env[&format!("{}_METRICS", key(name))]
    }

    /// The text of service `name`'s `/metrics`.
    pub(crate) async fn metrics(&self, name: &str) -> String {
        let response = self
            .app
            .client
            .get(format!("{}/metrics", self.metrics_of(name)))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{name}'s metrics: {err}"));
        response.text().await.unwrap()
    }

    /// Kills service `name` with SIGKILL.
    pub(crate) fn kill(&self, name: &str) {
        signal(self.pid(name), "KILL");
    }

    /// Stops every process of the stack, then drops the database.
    pub(crate) async fn stop(self) {
        let Self {
            app,
            dir,
            mut script,
            ..
        } = self;
        tokio::task::spawn_blocking(move || script.terminate())
            .await
            .unwrap();
        let _ = fs::remove_dir_all(&dir);
        app.stop().await;
    }
}

/// The running script; dropping it (a failed test too) stops the stack.
struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        self.terminate();
    }
}

impl Script {
    /// SIGTERM to the script, which stops what it started; SIGKILL after [`STOP_LIMIT`].
    fn terminate(&mut self) {
        let script = &mut self.0;
        if script.try_wait().ok().flatten().is_some() {
            return;
        }
        signal(&script.id().to_string(), "TERM");
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            if script.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = script.kill();
        let _ = script.wait();
        eprintln!("scripts/run-stack did not stop within {STOP_LIMIT:?}: killed");
    }
}

fn key(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

/// Waits for `stack.env`, failing if the script exits first or takes too long.
async fn ready(dir: &std::path::Path, script: &mut Child) -> BTreeMap<String, String> {
    let deadline = Instant::now() + START_LIMIT;
    let file = dir.join("stack.env");
    loop {
        if let Ok(text) = fs::read_to_string(&file) {
            return text
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        }
        if let Some(status) = script.try_wait().unwrap() {
            let log = fs::read_to_string(dir.join("run-stack.log")).unwrap_or_default();
            panic!("scripts/run-stack exited ({status}) before it was ready:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "scripts/run-stack was not ready within {START_LIMIT:?}; see {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
