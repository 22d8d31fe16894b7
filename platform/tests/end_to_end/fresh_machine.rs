//! The README's run command on a machine where no PostgreSQL answers and none is
//! installed: `scripts/run` gets a private server from `scripts/ensure-postgres` (the
//! wheel of `scripts/install-postgres`, a cluster initialised in a directory of this
//! test's own, a free port) and the platform serves its main flow on it.
//!
//! The machine's own server is hidden, not stopped: the configured address is a port
//! where nothing listens, and the folder where installed clusters are looked for is empty,
//! so ensure-postgres takes its real "not reachable, not installed" path. `RUN_BINARY`
//! runs this build's binary, as a release build would take many minutes.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::private_postgres::free_port;

/// How long scripts/run may take to serve: a first initdb, the migrations, the start.
const START_LIMIT: Duration = Duration::from_secs(120);

/// The test's directories and what it started in them, stopped when dropped.
struct FreshMachine {
    dir: PathBuf,
    /// The address scripts/run is told, where nothing listens.
    configured: String,
    run: Option<Child>,
}

impl FreshMachine {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("fresh-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("no-clusters")).unwrap();
        let configured = format!("postgres://postgres@127.0.0.1:{}", free_port());
        Self {
            dir,
            configured,
            run: None,
        }
    }

    /// A script of the repository with the environment of a machine without PostgreSQL.
    fn script(&self, name: &str) -> Command {
        let mut command = Command::new(repository().join("scripts").join(name));
        command
            .env("POSTGRES_SERVER", &self.configured)
            .env("POSTGRES_SYSTEM_CLUSTERS", self.dir.join("no-clusters"))
            .env("PRIVATE_POSTGRES_DIR", self.dir.join("postgres"))
            .env_remove("DATABASE_URL");
        command
    }

    /// What `scripts/ensure-postgres` prints now: the server it provides.
    fn ensure_postgres(&self) -> String {
        let output = self.script("ensure-postgres").output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("run.log")).unwrap_or_default()
    }
}

impl Drop for FreshMachine {
    fn drop(&mut self) {
        if let Some(mut run) = self.run.take() {
            let _ = run.kill();
            let _ = run.wait();
        }
        let _ = self.script("ensure-postgres").arg("--stop").output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn scripts_run_serves_the_main_flow_on_a_private_server_when_none_is_installed() {
    let mut machine = FreshMachine::new();
    let addr = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(machine.dir.join("run.log")).unwrap();
    machine.run = Some(
        machine
            .script("run")
            .env("RUN_BINARY", env!("CARGO_BIN_EXE_platform"))
            .env("HTTP_ADDR", &addr)
            .env("METRICS_ADDR", "127.0.0.1:0")
            .env("MAIL_DIR", machine.dir.join("mail"))
            .env("PLATFORM_MAIL_ENABLED", "false")
            .env_remove("KAFKA_BROKERS")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{addr}");
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|response| response.status() == StatusCode::OK) {
            break;
        }
        if let Ok(Some(status)) = machine.run.as_mut().unwrap().try_wait() {
            panic!("scripts/run exited ({status}): {}", machine.log());
        }
        assert!(
            started.elapsed() < START_LIMIT,
            "scripts/run did not serve within {START_LIMIT:?}: {}",
            machine.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The main flow, as a client would: register, log in, create an item, read it back.
    let email = format!("fresh-{}@example.com", uuid::Uuid::new_v4().simple());
    let registered = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({ "email": email, "password": "Analytical1", "name": "Fresh" }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": "Analytical1" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["access_token"].as_str().unwrap().to_owned();
    let name = format!("lamp {}", uuid::Uuid::new_v4().simple());
    let created = client
        .post(format!("{base}/api/v1/items"))
        .bearer_auth(&token)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["data"]["id"].as_i64().unwrap();
    let position = created["data"]["position"].as_i64().unwrap();
    let read = client
        .get(format!("{base}/api/v1/items/{id}"))
        .bearer_auth(&token)
        .header("X-Min-Position", position)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["data"]["name"], name.as_str());

    // The platform ran on the private server: a port of its own, the item in its database.
    let server = machine.ensure_postgres();
    assert_ne!(server, machine.configured);
    assert!(
        machine
            .log()
            .contains(&format!("database {server}/platform")),
        "scripts/run used another database: {}",
        machine.log()
    );
    let pool = sqlx::PgPool::connect(&format!("{server}/platform"))
        .await
        .expect("the platform's database is on the private server");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE data->>'name' = $1")
        .bind(&name)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the item's event is not in the private server");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(version.starts_with("18."), "server {version}");
    pool.close().await;
}

/// The repository's root (this crate is one of its members).
fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
