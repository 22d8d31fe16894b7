//! The platform's own errors become `ErrorLogged` events of project 0, with the service,
//! the instance and the request they happened in; a storm of one error is summarised.
//!
//! The error is provoked as operators meet one: a dependency fails under a running
//! platform. The items read model's table is renamed away, so reading an item fails in
//! PostgreSQL and the request is answered `500` (the cause logged at ERROR in the request's
//! span). No endpoint panics on any input, so no panic can be provoked through the API;
//! a panic in a request is covered by service-kit's tests.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{
    error, header,
    processes::{PlatformProcess, Processes},
};

/// How long a captured error may take to be recorded.
const RECORDED_WITHIN: Duration = Duration::from_secs(15);

/// Renames the items table: every read of an item now fails.
async fn break_the_items_table(processes: &Processes) {
    sqlx::query("ALTER TABLE items RENAME TO items_gone")
        .execute(&processes.db.pool)
        .await
        .unwrap();
}

async fn read_an_item(processes: &Processes, platform: &PlatformProcess) -> reqwest::Response {
    processes
        .client
        .get(format!("{}/api/v1/items/1", platform.base))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_error_in_a_request_becomes_an_event_with_its_service_instance_and_request_id() {
    let processes = Processes::new().await;
    let platform = processes.start("info", &[]).await;
    break_the_items_table(&processes).await;

    let response = read_an_item(&processes, &platform).await;
    let request_id = header(&response, "x-request-id");
    let failure = error(
        response,
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
    .await;
    assert!(!failure.to_string().contains("items"), "{failure}");

    let logged = processes
        .wait_for_events("ErrorLogged", RECORDED_WITHIN, |events| {
            events
                .iter()
                .find(|event| event["request_id"] == request_id.as_str())
                .cloned()
        })
        .await
        .unwrap_or_else(|| panic!("no ErrorLogged for {request_id}: {}", platform.output()));
    assert_eq!(logged["project"], 0, "{logged}");
    assert_eq!(logged["level"], "error", "{logged}");
    assert_eq!(logged["count"], 1, "{logged}");
    let origin = &logged["origin"];
    assert_eq!(origin["kind"], "platform", "{logged}");
    assert_eq!(origin["service"], "platform", "{logged}");
    assert_eq!(origin["target"], "service_kit::error", "{logged}");
    let instance = origin["instance"].as_str().unwrap();
    assert!(
        instance.ends_with(&platform.instance_suffix()),
        "{instance}"
    );
    let message = logged["message"].as_str().unwrap();
    assert!(message.starts_with("internal error: "), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(logged["extra"]["request"]["method"], "GET", "{logged}");
    assert_eq!(
        logged["extra"]["request"]["uri"], "/api/v1/items/1",
        "{logged}"
    );

    // The first error of its kind opened an issue.
    let issue = processes
        .wait_for_events("IssueOpened", RECORDED_WITHIN, |events| {
            events
                .iter()
                .find(|opened| opened["issue_id"] == logged["issue_id"])
                .cloned()
        })
        .await
        .expect("the error's issue was opened");
    assert_eq!(issue["project"], 0);
    processes.stop(vec![platform]).await;
}

#[tokio::test]
async fn a_storm_of_one_error_is_recorded_as_a_few_events_that_count_every_error() {
    let processes = Processes::new().await;
    let platform = processes
        .start(
            "info",
            &[
                "--capture-storm-threshold=3",
                "--capture-storm-window-seconds=3",
            ],
        )
        .await;
    break_the_items_table(&processes).await;

    let failures = 12;
    let responses = join_all((0..failures).map(|_| read_an_item(&processes, &platform))).await;
    assert!(
        responses
            .iter()
            .all(|r| r.status() == StatusCode::INTERNAL_SERVER_ERROR)
    );

    let storm = |events: &[Value]| {
        let ours: Vec<Value> = events
            .iter()
            .filter(|event| event["origin"]["target"] == "service_kit::error")
            .cloned()
            .collect();
        let counted: i64 = ours.iter().map(|e| e["count"].as_i64().unwrap()).sum();
        (counted == failures).then_some(ours)
    };
    let events = processes
        .wait_for_events("ErrorLogged", RECORDED_WITHIN, storm)
        .await
        .unwrap_or_else(|| panic!("the storm's errors were not all counted"));
    // Three pass one by one in each window; the rest of a window becomes one summary.
    assert!(events.len() < 8, "{} events for one storm", events.len());
    let summaries: Vec<&Value> = events.iter().filter(|e| e["count"] != 1).collect();
    assert!(!summaries.is_empty(), "nothing was summarised");
    let issues: std::collections::HashSet<String> =
        events.iter().map(|e| e["issue_id"].to_string()).collect();
    assert_eq!(issues.len(), 1, "one error, one issue: {issues:?}");
    processes.stop(vec![platform]).await;
}
