//! A query-api that restarts follows the log on from where its read models are, serves
//! live updates again, and (in Kafka mode) leaves no consumer group behind on the broker:
//! it follows without one.

use crate::support;

use std::{collections::BTreeSet, time::Duration};

use event_log::testing::{self, Transport};
use rdkafka::consumer::{BaseConsumer, Consumer};
use reqwest::StatusCode;
use support::{TestApp, id, item_path, json, position_of};

/// Every consumer group the test broker knows (none in embedded mode).
fn groups() -> BTreeSet<String> {
    if testing::transport() != Transport::Kafka {
        return BTreeSet::new();
    }
    let client: BaseConsumer = testing::kafka_config().client_config().create().unwrap();
    let list = client
        .fetch_group_list(None, Duration::from_secs(10))
        .unwrap();
    list.groups().iter().map(|g| g.name().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_query_api_leaves_no_consumer_group_and_serves_live_updates() {
    let app = TestApp::spawn().await;
    let lamp = app.create_item("Desk lamp").await;
    let before = groups();
    let first = app.second_query_api().await;
    let seen = read_at(&app, &first.base, id(&lamp), position_of(&lamp)).await;
    assert_eq!(
        json(seen, StatusCode::OK).await["data"]["name"],
        "Desk lamp"
    );
    first.stop().await;
    let again = app.second_query_api().await;
    let renamed = app.update_item(id(&lamp), "Floor lamp").await;
    let seen = read_at(&app, &again.base, id(&lamp), position_of(&renamed)).await;
    assert_eq!(
        json(seen, StatusCode::OK).await["data"]["name"],
        "Floor lamp",
        "the restarted instance follows live updates"
    );
    let left: Vec<String> = groups()
        .difference(&before)
        .filter(|g| g.starts_with("query-api") || g.contains("follower"))
        .cloned()
        .collect();
    assert!(left.is_empty(), "groups left on the broker: {left:?}");
    again.stop().await;
    app.stop().await;
}

/// An item as the query-api at `base` has it once it reflects `position`.
async fn read_at(app: &TestApp, base: &str, item: i64, position: i64) -> reqwest::Response {
    app.client
        .get(format!("{base}{}", item_path(item)))
        .header("x-min-position", position)
        .send()
        .await
        .unwrap()
}
