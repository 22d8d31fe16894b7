//! nginx's split of the API by method, checked by real requests: every operation an
//! OpenAPI document lists, sent to nginx, is counted by the service whose document lists
//! it and by no other; and reads are spread over both query-api instances.

use std::collections::BTreeMap;

use reqwest::Method;

use super::requests;
use crate::{deployment::operations, support::stack::Stack};

/// The request counts of command-api and of both query-apis together.
async fn counts(stack: &Stack) -> [BTreeMap<(String, String), u64>; 2] {
    let command = requests(&stack.metrics("command-api").await);
    let mut query = requests(&stack.metrics("query-api-1").await);
    for (key, count) in requests(&stack.metrics("query-api-2").await) {
        *query.entry(key).or_default() += count;
    }
    [command, query]
}

/// A path template with each `{parameter}` filled in (numbers suit every id here).
fn example(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) async fn every_documented_operation_reaches_the_service_that_documents_it(
    stack: &Stack,
) {
    let documents = [
        ("command-api", command_api::docs::openapi()),
        ("query-api", query_api::docs::openapi()),
    ];
    let before = counts(stack).await;
    let mut sent = Vec::new();
    for (service, document) in documents {
        for (method, path) in operations(serde_json::to_value(document).unwrap()) {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // Anonymous and without a body: refused mostly, but by the service it reached.
            // (A 404 may be the service's: no such resource. The counts below tell.)
            stack
                .app
                .request(method.clone(), &example(&path))
                .send()
                .await
                .unwrap_or_else(|err| panic!("{method} {path}: {err}"));
            sent.push((service, method.to_string(), path));
        }
    }
    let after = counts(stack).await;
    let grew = |side: usize, key: &(String, String)| {
        after[side].get(key).copied().unwrap_or(0) > before[side].get(key).copied().unwrap_or(0)
    };
    for (service, method, path) in sent {
        let key = (method.clone(), path.clone());
        let (own, other) = if service == "command-api" {
            (0, 1)
        } else {
            (1, 0)
        };
        assert!(
            grew(own, &key),
            "{method} {path} did not reach {service}, which documents it"
        );
        assert!(
            !grew(other, &key),
            "{method} {path} reached the other API as well"
        );
    }
}

pub(super) async fn reads_are_spread_over_both_query_apis(stack: &Stack) {
    let key = ("GET".to_owned(), "/api/v1/items".to_owned());
    let count = |metrics: &str| requests(metrics).get(&key).copied().unwrap_or(0);
    let before = [
        count(&stack.metrics("query-api-1").await),
        count(&stack.metrics("query-api-2").await),
    ];
    const READS: u64 = 40;
    for _ in 0..READS {
        let response = stack.app.get("/api/v1/items").await;
        assert_eq!(response.status(), 200);
    }
    let served = [
        count(&stack.metrics("query-api-1").await) - before[0],
        count(&stack.metrics("query-api-2").await) - before[1],
    ];
    assert_eq!(
        served[0] + served[1],
        READS,
        "every read reached a query-api"
    );
    assert!(
        served.iter().all(|&n| n >= READS / 4),
        "reads are not spread over both query-api instances: {served:?}"
    );
}
