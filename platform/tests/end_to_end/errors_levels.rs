//! Log levels changed at run time: an admin's setting for one service or for every
//! service is applied by every running instance within a second, read from their own log
//! lines; a filter that does not parse changes nothing; a capture level lowered to
//! `warning` makes warnings events too.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    json,
    processes::{PlatformProcess, Processes},
    unprocessable,
};

/// The promise: applied everywhere within a second.
const APPLIED_WITHIN: Duration = Duration::from_secs(1);

async fn admin_token(processes: &Processes, platform: &PlatformProcess) -> String {
    let body = json!({ "email": "root@example.com", "password": "Rootpass1" });
    let response = processes
        .client
        .post(format!("{}/api/v1/auth/login", platform.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    json(response, StatusCode::OK).await["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_levels(
    processes: &Processes,
    platform: &PlatformProcess,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    processes
        .client
        .put(format!("{}/api/v1/errors/log-levels", platform.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Whether a log line is a debug line of `target`.
fn debug_of(line: &Value, target: &str) -> bool {
    line["level"] == "DEBUG"
        && line["target"]
            .as_str()
            .is_some_and(|t| t.starts_with(target))
}

/// The lines each process logged after its mark.
fn since(platforms: &[&PlatformProcess], marks: &[usize]) -> Vec<Vec<Value>> {
    platforms
        .iter()
        .zip(marks)
        .map(|(platform, mark)| {
            platform
                .lines()
                .split_off(*mark.min(&platform.lines().len()))
        })
        .collect()
}

fn marks(platforms: &[&PlatformProcess]) -> Vec<usize> {
    platforms.iter().map(|p| p.lines().len()).collect()
}

/// Waits until every process logged a line `wanted` after its mark, asking `poke` to make
/// it log meanwhile; returns how long that took.
async fn all_log(
    platforms: &[&PlatformProcess],
    marks: &[usize],
    wanted: impl Fn(&Value) -> bool,
    poke: impl AsyncFn(&PlatformProcess),
) -> Duration {
    let started = Instant::now();
    loop {
        let lines = since(platforms, marks);
        if lines.iter().all(|lines| lines.iter().any(&wanted)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not every process logged the line wanted"
        );
        for platform in platforms {
            poke(platform).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn notify_a_malformed_revocation(processes: &Processes) {
    sqlx::query("SELECT pg_notify('revocations', 'not-a-session')")
        .execute(&processes.db.pool)
        .await
        .unwrap();
}

fn revocation_warnings(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["level"] == "warning" && e["message"] == "malformed revocation")
        .cloned()
        .collect()
}

#[tokio::test]
async fn levels_set_for_one_service_or_for_all_are_applied_by_every_instance_within_a_second() {
    let processes = Processes::new().await;
    let a = processes.start("info", &[]).await;
    let b = processes.start("info", &[]).await;
    let both = [&a, &b];
    let token = admin_token(&processes, &a).await;
    let quiet = async |_: &PlatformProcess| {};

    // A filter that does not parse is refused and recorded nowhere.
    let bad = json!({ "service": null, "filter": "info,[=", "capture": "error" });
    let refused = unprocessable(set_levels(&processes, &a, &token, &bad).await, "filter").await;
    assert!(
        refused["details"]["fields"]["filter"].is_string(),
        "{refused}"
    );
    assert!(processes.events("LogLevelsChanged").await.is_empty());

    // At the default capture level a warning is logged, not recorded.
    let mark = marks(&both);
    notify_a_malformed_revocation(&processes).await;
    let is_warning =
        |line: &Value| line["level"] == "WARN" && line["message"] == "malformed revocation";
    all_log(&both, &mark, is_warning, quiet).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(revocation_warnings(&processes.events("ErrorLogged").await).is_empty());

    // A setting for another service changes nothing here.
    let mark = marks(&both);
    let other =
        json!({ "service": "command-api", "filter": "info,sqlx::query=debug", "capture": "error" });
    json(
        set_levels(&processes, &a, &token, &other).await,
        StatusCode::OK,
    )
    .await;
    tokio::time::sleep(APPLIED_WITHIN + Duration::from_millis(250)).await;
    for lines in since(&both, &mark) {
        assert!(!lines.iter().any(|line| debug_of(line, "sqlx::query")));
    }
    let shown = levels(&processes, &a, &token).await;
    assert_eq!(
        shown["command-api"]["filter"], "info,sqlx::query=debug",
        "{shown:?}"
    );
    assert_eq!(shown["command-api"]["set_for"], "command-api");
    assert_eq!(shown["platform"]["filter"], Value::Null);

    // A setting for this service: both instances log the statements they run (the
    // follower's own reads, every 250 ms).
    let mark = marks(&both);
    let this =
        json!({ "service": "platform", "filter": "info,sqlx::query=debug", "capture": "error" });
    let set = json(
        set_levels(&processes, &a, &token, &this).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["data"]["filter"], "info,sqlx::query=debug", "{set}");
    let took = all_log(&both, &mark, |line| debug_of(line, "sqlx::query"), quiet).await;
    assert!(took <= APPLIED_WITHIN, "applied after {took:?}");

    // A setting for every service, which also lowers the capture level: the statements
    // stop, requests are logged from their start, and warnings become events.
    let mark = marks(&both);
    let all = json!({ "service": null, "filter": "warn,tower_http=debug", "capture": "warning" });
    json(
        set_levels(&processes, &a, &token, &all).await,
        StatusCode::OK,
    )
    .await;
    let client = processes.client.clone();
    let health = async |platform: &PlatformProcess| {
        let _ = client
            .get(format!("{}/healthz", platform.base))
            .send()
            .await;
    };
    let took = all_log(&both, &mark, |line| debug_of(line, "tower_http"), health).await;
    assert!(took <= APPLIED_WITHIN, "applied after {took:?}");
    let mark = marks(&both);
    tokio::time::sleep(Duration::from_millis(600)).await;
    for lines in since(&both, &mark) {
        let statements = lines.iter().filter(|l| debug_of(l, "sqlx::query")).count();
        assert_eq!(statements, 0, "statements are still logged");
    }
    notify_a_malformed_revocation(&processes).await;
    let instances = processes
        .wait_for_events("ErrorLogged", Duration::from_secs(10), |events| {
            let warnings = revocation_warnings(events);
            let from = |p: &PlatformProcess| {
                warnings.iter().any(|w| {
                    w["origin"]["instance"]
                        .as_str()
                        .is_some_and(|i| i.ends_with(&p.instance_suffix()))
                })
            };
            (from(&a) && from(&b)).then_some(warnings.len())
        })
        .await;
    assert!(
        instances.is_some(),
        "warnings of both instances were not recorded: {:?}\n{}\n{}",
        processes.events("ErrorLogged").await,
        a.output(),
        b.output()
    );

    let shown = levels(&processes, &b, &token).await;
    for service in ["command-api", "query-api", "projector", "platform"] {
        assert_eq!(
            shown[service]["filter"], "warn,tower_http=debug",
            "{shown:?}"
        );
        assert_eq!(shown[service]["capture"], "warning");
        assert_eq!(shown[service]["set_for"], "all");
    }
    processes.stop(vec![a, b]).await;
}

/// `GET /errors/log-levels`, by service.
async fn levels(
    processes: &Processes,
    platform: &PlatformProcess,
    token: &str,
) -> std::collections::HashMap<String, Value> {
    let response = processes
        .client
        .get(format!("{}/api/v1/errors/log-levels", platform.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let data = json(response, StatusCode::OK).await["data"].clone();
    data["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["service"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

#[tokio::test]
async fn only_admins_change_or_read_the_log_levels() {
    let processes = Processes::new().await;
    let platform = processes.start("info", &[]).await;
    let body = json!({ "email": "ada@example.com", "password": "Analytical1" });
    let url = |path: &str| format!("{}{path}", platform.base);
    let mut registration = body.clone();
    registration["name"] = json!("Ada");
    let registered = processes
        .client
        .post(url("/api/v1/auth/register"))
        .json(&registration)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login = processes
        .client
        .post(url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let token = json(login, StatusCode::OK).await["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let setting = json!({ "filter": "debug", "capture": "error" });
    let response = set_levels(&processes, &platform, &token, &setting).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = processes
        .client
        .get(url("/api/v1/errors/log-levels"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let anonymous = processes
        .client
        .put(url("/api/v1/errors/log-levels"))
        .json(&setting)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(processes.events("LogLevelsChanged").await.is_empty());
    processes.stop(vec![platform]).await;
}
