//! The image's final stage, read from the Dockerfile as Docker reads it: it runs as an
//! unprivileged user the stage creates, and its `HEALTHCHECK` asks `/readyz` with a
//! program the stage installs. The healthcheck's command is then run for real, as Docker
//! would (`/bin/sh -c`), against a running platform and against failing ones.

use std::process::Command;

use axum::{Router, http::StatusCode, routing::get};
use tokio::net::TcpListener;

use super::read;
use crate::support::TestApp;

/// One instruction: its keyword, upper-cased, and its arguments with continuation lines
/// joined.
struct Instruction {
    keyword: String,
    arguments: String,
}

/// The instructions of the Dockerfile's last stage, from its `FROM` on.
fn final_stage() -> Vec<Instruction> {
    let text = read("Dockerfile");
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(trimmed);
                let (keyword, arguments) = current.split_once(char::is_whitespace).unwrap();
                instructions.push(Instruction {
                    keyword: keyword.to_uppercase(),
                    arguments: arguments.trim().to_owned(),
                });
                current.clear();
            }
        }
    }
    let last_from = instructions
        .iter()
        .rposition(|i| i.keyword == "FROM")
        .expect("the Dockerfile has a FROM");
    instructions.split_off(last_from)
}

fn all<'a>(stage: &'a [Instruction], keyword: &str) -> Vec<&'a str> {
    stage
        .iter()
        .filter(|i| i.keyword == keyword)
        .map(|i| i.arguments.as_str())
        .collect()
}

/// The accounts `useradd` creates in the stage's `RUN`s: (name, uid if given).
fn created_users(stage: &[Instruction]) -> Vec<(String, Option<String>)> {
    all(stage, "RUN")
        .into_iter()
        .flat_map(|run| run.split("&&"))
        .filter_map(|command| {
            let words: Vec<&str> = command.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "useradd")?;
            let words = &words[at + 1..];
            let uid = words
                .iter()
                .position(|w| *w == "--uid" || *w == "-u")
                .map(|i| words[i + 1].to_owned());
            Some((words.last()?.to_string(), uid))
        })
        .collect()
}

/// The healthcheck's shell command (`HEALTHCHECK [options] CMD <command>`).
fn healthcheck(stage: &[Instruction]) -> String {
    let checks = all(stage, "HEALTHCHECK");
    assert_eq!(checks.len(), 1, "the final stage has one HEALTHCHECK");
    let (_, command) = checks[0]
        .split_once("CMD ")
        .expect("the HEALTHCHECK runs a command (CMD), it is not NONE");
    command.trim().to_owned()
}

#[test]
fn the_image_runs_as_a_non_root_user_the_stage_creates() {
    let stage = final_stage();
    let users = all(&stage, "USER");
    let user = *users.last().expect("the final stage sets USER");
    let name = user.split(':').next().unwrap();
    assert!(
        name != "root" && name != "0",
        "the image runs as {user}, which is root"
    );
    let created = created_users(&stage);
    let (_, uid) = created
        .iter()
        .find(|(created, _)| created == name)
        .unwrap_or_else(|| panic!("USER {name} is not created in the final stage: {created:?}"));
    assert!(
        uid.as_deref().is_some_and(|uid| uid != "0"),
        "{name} is created without a non-zero uid: {uid:?}"
    );
    // Nothing after USER runs as root again or starts elsewhere than as that user.
    let at = stage.iter().rposition(|i| i.keyword == "USER").unwrap();
    assert!(
        stage[at..].iter().all(|i| i.keyword != "RUN"),
        "a RUN after USER"
    );
}

#[test]
fn the_healthcheck_asks_readiness_with_a_program_the_image_installs() {
    let stage = final_stage();
    let command = healthcheck(&stage);
    assert!(command.contains("/readyz"), "{command}");
    let program = command.split_whitespace().next().unwrap();
    let installed = all(&stage, "RUN").into_iter().any(|run| {
        run.contains("apt-get install") && run.split_whitespace().any(|word| word == program)
    });
    assert!(installed, "{program} is not installed in the final stage");
}

/// What the healthcheck's command exits with when `HTTP_ADDR` is `addr`, run as Docker
/// runs a shell-form command.
fn check_exit_code(command: &str, addr: &str) -> i32 {
    Command::new("/bin/sh")
        .args(["-c", command])
        .env("HTTP_ADDR", addr)
        .status()
        .expect("/bin/sh runs")
        .code()
        .expect("the check exits")
}

#[tokio::test]
async fn the_healthcheck_passes_on_a_ready_platform_and_fails_otherwise() {
    let command = healthcheck(&final_stage());
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let passed = {
        let command = command.clone();
        tokio::task::spawn_blocking(move || check_exit_code(&command, &addr))
            .await
            .unwrap()
    };
    app.stop().await;
    assert_eq!(passed, 0, "the healthcheck fails on a ready platform");

    // A service answering 503 on /readyz (a dependency out of reach), and a port where
    // nothing listens: unhealthy, with the exit status Docker reads as that (1).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let unready = listener.local_addr().unwrap().to_string();
    let router = Router::new().route("/readyz", get(|| async { StatusCode::SERVICE_UNAVAILABLE }));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let failed = tokio::task::spawn_blocking(move || {
        [unready, closed].map(|addr| check_exit_code(&command, &addr))
    })
    .await
    .unwrap();
    server.abort();
    assert_eq!(
        failed,
        [1, 1],
        "503 and a closed port must both be unhealthy"
    );
}
