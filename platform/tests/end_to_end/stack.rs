//! The scaled-out topology of docker-compose.yml run natively (`scripts/run-stack`): a
//! broker, command-api, two projectors, two query-apis, nginx, Prometheus and
//! Alertmanager, driven through nginx only, as a client would. One stack for all the
//! steps (it takes a while to start); the steps that kill processes come last.
//!
//! It runs where `TEST_STACK` is set (`scripts/test` sets it once, in its Kafka phase);
//! there, anything the stack needs and cannot start fails the test.

mod flows;
mod monitoring;
mod routes;
mod streams;
mod takeover;

use std::collections::BTreeMap;

use crate::support::stack::{GATE, Stack};

/// `http_requests_total` of a metrics text, summed over statuses: by (method, route).
pub(crate) fn requests(metrics: &str) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("http_requests_total{") else {
            continue;
        };
        let (labels, value) = rest.rsplit_once("} ").expect("a sample line");
        let label = |name: &str| {
            labels
                .split(&format!("{name}=\""))
                .nth(1)
                .and_then(|text| text.split('"').next())
                .unwrap_or_default()
                .to_owned()
        };
        *counts.entry((label("method"), label("route"))).or_default() +=
            value.parse::<f64>().expect("a count") as u64;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_stack_serves_every_capability_through_nginx_and_outlives_lost_instances() {
    if std::env::var_os(GATE).is_none() {
        eprintln!("{GATE} is not set: the native stack is tested where scripts/test sets it");
        return;
    }
    let stack = Stack::start().await;
    monitoring::prometheus_sees_every_target_up(&stack).await;
    monitoring::alertmanager_notifies_the_webhook(&stack).await;
    routes::every_documented_operation_reaches_the_service_that_documents_it(&stack).await;
    flows::every_capability_works_through_nginx(&stack).await;
    routes::reads_are_spread_over_both_query_apis(&stack).await;
    takeover::a_projector_killed_under_writes_is_taken_over_without_loss_or_repeat(&stack).await;
    streams::a_chat_stream_resumes_on_the_other_query_api_after_its_own_is_killed(&stack).await;
    stack.stop().await;
}
