//! Email for tests: a platform that mails through a test SMTP server with short retry
//! delays, requests and status reads, more workers in this process, and a worker in a
//! process of its own that a test can kill.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{TestApp, accounts::Account, json, smtp::SmtpServer};

/// Retries come quickly in tests: a few hundred milliseconds, doubling up to a second.
pub(crate) const FAST_RETRIES: [&str; 3] = [
    "--email-retry-base-ms=200",
    "--email-retry-max-ms=1000",
    "--smtp-timeout-ms=3000",
];

/// The sender of every test email; its domain names the Message-IDs.
pub(crate) const MAIL_FROM: &str = "--mail-from=Platform <no-reply@platform.test>";

/// How long a test waits for mail to settle.
pub(crate) const SETTLE: Duration = Duration::from_secs(60);

/// The settings that send through `smtp` with fast retries.
pub(crate) fn mailing(smtp: &SmtpServer) -> Vec<String> {
    let mut args = vec![format!("--smtp-url={}", smtp.url()), MAIL_FROM.to_owned()];
    args.extend(FAST_RETRIES.iter().map(|arg| arg.to_string()));
    args
}

/// Sets `setting` (`--name=value`) in `args`, in place of any value given before: a
/// setting may appear only once.
pub(crate) fn set(args: &mut Vec<String>, setting: &str) {
    let name = setting.split('=').next().unwrap_or(setting);
    args.retain(|arg| arg.split('=').next() != Some(name));
    args.push(setting.to_owned());
}

impl TestApp {
    /// Spawns a platform that sends through `smtp`, with `extra` settings (which replace
    /// the fast retries' where they name the same).
    pub(crate) async fn spawn_mailing(smtp: &SmtpServer, extra: &[&str]) -> Self {
        let mut args = mailing(smtp);
        for setting in extra {
            set(&mut args, setting);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::spawn_with(&args).await
    }

    /// Requests an email to `to` as `account`, asserting `202`; returns the response data
    /// once the email can be read.
    pub(crate) async fn request_email(&self, account: &Account, to: &str, subject: &str) -> Value {
        let body = json!({ "to": [to], "subject": subject, "text": format!("{subject}\n") });
        let response = self.post_email(account, &body, None).await;
        self.accepted(account, response).await
    }

    /// The data of a `202` answer to a request of `account`'s, once the email can be read.
    pub(crate) async fn accepted(&self, account: &Account, response: Response) -> Value {
        let data = json(response, StatusCode::ACCEPTED).await["data"].clone();
        let path = format!("/api/v1/emails/{}", data["id"].as_str().unwrap());
        let readable = self
            .as_user(Some(account), Method::GET, &path)
            .header("X-Min-Position", data["position"].as_i64().unwrap())
            .send()
            .await
            .unwrap();
        json(readable, StatusCode::OK).await;
        data
    }

    /// `POST /api/v1/emails` with `body` as `account`, under an idempotency key if given.
    pub(crate) async fn post_email(
        &self,
        account: &Account,
        body: &Value,
        key: Option<&str>,
    ) -> Response {
        let request = self
            .as_user(Some(account), Method::POST, "/api/v1/emails")
            .json(body);
        let request = match key {
            Some(key) => request.header("Idempotency-Key", key),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// The email `id` as `account` sees it.
    pub(crate) async fn email(&self, account: &Account, id: &str) -> Value {
        let response = self
            .as_user(Some(account), Method::GET, &format!("/api/v1/emails/{id}"))
            .send()
            .await
            .unwrap();
        json(response, StatusCode::OK).await["data"].clone()
    }

    /// The email `id` once `settled` holds for it, polled for at most [`SETTLE`].
    pub(crate) async fn email_when(
        &self,
        account: &Account,
        id: &str,
        settled: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + SETTLE;
        loop {
            let email = self.email(account, id).await;
            if settled(&email) {
                return email;
            }
            assert!(
                Instant::now() < deadline,
                "email {id} did not settle within {SETTLE:?}: {email}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The email `id` once its status is `status`.
    pub(crate) async fn email_in(&self, account: &Account, id: &str, status: &str) -> Value {
        self.email_when(account, id, |email| email["status"] == status)
            .await
    }

    /// Another projector process's worth of tasks (projections, mail reactors and the
    /// email worker) on this platform's database and transport, in this process. The
    /// platform's own mail is off unless `extra` turns it on.
    pub(crate) async fn second_projector(&self, extra: &[String]) -> ProjectorInstance {
        let mut args = vec![
            "projector".to_owned(),
            format!("--database-url={}", self.db.url),
            "--db-pool-size=4".to_owned(),
            format!("--group-id=projector-{}", uuid::Uuid::new_v4().simple()),
        ];
        args.extend(self.transport_args.iter().cloned());
        if !extra
            .iter()
            .any(|arg| arg.starts_with("--platform-mail-enabled"))
        {
            args.push("--platform-mail-enabled=false".to_owned());
        }
        args.extend(extra.iter().cloned());
        let config = projector::Config::try_parse_from(args).expect("valid projector settings");
        let pool = event_log::database::connect(&config.common.database_url, 4)
            .await
            .unwrap();
        let source = projector::app::event_source(&config.common, &pool);
        let shutdown = CancellationToken::new();
        let tasks =
            projector::app::spawn_runners(&pool, &source, &config.settings, &shutdown).unwrap();
        ProjectorInstance { shutdown, tasks }
    }

    /// The whole platform as a process of its own (its email worker included) on this
    /// platform's database and transport, with `extra` settings.
    pub(crate) fn worker_process(&self, extra: &[String]) -> WorkerProcess {
        let mut args = vec![
            format!("--database-url={}", self.db.url),
            "--http-addr=127.0.0.1:0".to_owned(),
            "--metrics-addr=127.0.0.1:0".to_owned(),
            "--log-format=text".to_owned(),
            "--db-pool-size=4".to_owned(),
            format!("--group-id=projector-{}", uuid::Uuid::new_v4().simple()),
            "--platform-mail-enabled=false".to_owned(),
        ];
        args.extend(self.transport_args.iter().cloned());
        args.extend(extra.iter().cloned());
        let log = std::env::temp_dir().join(format!("platform-worker-{}.log", self.db.name));
        let child = WorkerProcess::spawn(&args, &log);
        WorkerProcess { args, log, child }
    }
}

/// A platform process a test can kill (`SIGKILL`) and start again; its logs go to a file
/// that is removed with it.
pub(crate) struct WorkerProcess {
    args: Vec<String>,
    log: PathBuf,
    child: Child,
}

impl WorkerProcess {
    fn spawn(args: &[String], log: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_platform"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the platform binary starts")
    }

    /// Kills the process outright, as a crash would.
    pub(crate) fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts the process again with the same settings.
    pub(crate) fn restart(&mut self) {
        self.child = Self::spawn(&self.args, &self.log);
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Projector tasks started by [`TestApp::second_projector`].
pub(crate) struct ProjectorInstance {
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl ProjectorInstance {
    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            super::stopped(task, "the second projector").await;
        }
    }
}

/// The ids of `emails` (response data), as strings.
pub(crate) fn ids(emails: &[Value]) -> Vec<String> {
    emails
        .iter()
        .map(|email| email["id"].as_str().unwrap().to_owned())
        .collect()
}
