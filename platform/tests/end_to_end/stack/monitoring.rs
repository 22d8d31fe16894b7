//! Prometheus scrapes every service of the stack, and Alertmanager delivers to the webhook.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::stack::Stack;

/// The services Prometheus must scrape, one target each.
const SERVICES: [&str; 5] = [
    "command-api",
    "query-api-1",
    "query-api-2",
    "projector-1",
    "projector-2",
];

pub(super) async fn prometheus_sees_every_target_up(stack: &Stack) {
    let url = format!("{}/api/v1/targets", stack.env["PROMETHEUS_URL"]);
    let expected: Vec<String> = SERVICES
        .iter()
        .map(|name| {
            stack
                .metrics_of(name)
                .trim_start_matches("http://")
                .to_owned()
        })
        .collect();
    // The first scrapes come within one interval (5 s) of the start.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: Value = stack
            .app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let targets = body["data"]["activeTargets"].as_array().unwrap().clone();
        let up: Vec<String> = targets
            .iter()
            .filter(|target| target["health"] == "up")
            .map(|target| target["labels"]["instance"].as_str().unwrap().to_owned())
            .collect();
        if expected.iter().all(|instance| up.contains(instance)) {
            assert_eq!(
                targets.len(),
                expected.len(),
                "one target per service: {targets:?}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus does not see every target up: expected {expected:?}, up {up:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// An alert posted to Alertmanager reaches the webhook, grouped as its route says.
pub(super) async fn alertmanager_notifies_the_webhook(stack: &Stack) {
    let url = format!("{}/api/v2/alerts", stack.env["ALERTMANAGER_URL"]);
    let alert = json!([{ "labels": { "alertname": "StackTestAlert", "severity": "info" } }]);
    let response = stack
        .app
        .client
        .post(&url)
        .json(&alert)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "Alertmanager refused: {}",
        response.status()
    );
    let log = std::path::PathBuf::from(&stack.env["ALERT_LOG"]);
    // group_wait is 10 s.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let notified = text
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .any(|note| note["groupLabels"]["alertname"] == "StackTestAlert");
        if notified {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the webhook got no notification of StackTestAlert: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
