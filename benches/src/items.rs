//! The item endpoints, the platform's plainest append path: creating items through
//! command-api, reading them back through query-api, and a closed loop of creations that
//! the benchmarks compare other paths with.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{
    http::{endpoint, snippet},
    load::{self, Limits, Measured},
};

/// An item the command API created.
#[derive(Debug, Clone, Copy)]
pub struct Created {
    pub id: i64,
    pub position: i64,
}

/// The URLs of the item endpoints.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub create: Url,
    pub query_base: String,
}

impl Endpoints {
    pub fn new(command_url: &Url, query_url: &Url) -> anyhow::Result<Self> {
        Ok(Self {
            create: endpoint(command_url, "/api/v1/items")?,
            query_base: endpoint(query_url, "/api/v1/items")?.to_string(),
        })
    }

    pub fn item(&self, id: i64) -> String {
        format!("{}/{id}", self.query_base)
    }
}

/// `POST /api/v1/items`; anything but a 201 with matching `X-Position` and body is an error.
pub async fn create_item(client: &Client, url: &Url, name: &str) -> anyhow::Result<Created> {
    let response = client
        .post(url.clone())
        .json(&json!({ "name": name, "description": "created by a benchmark" }))
        .send()
        .await?;
    let status = response.status();
    let header_position = response
        .headers()
        .get("x-position")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i64>().ok());
    let body = response.bytes().await?;
    if status != StatusCode::CREATED {
        bail!("status {status}: {}", snippet(&body));
    }
    let body: Value = serde_json::from_slice(&body).context("the 201 body is not JSON")?;
    let data = &body["data"];
    let (Some(id), Some(position)) = (data["id"].as_i64(), data["position"].as_i64()) else {
        bail!("the 201 body has no data.id or data.position: {body}");
    };
    let header_position = header_position.context("the 201 has no X-Position header")?;
    ensure!(
        header_position == position,
        "X-Position {header_position} differs from data.position {position}"
    );
    Ok(Created { id, position })
}

/// `GET /api/v1/items/{id}` with `X-Min-Position`: 200 with the item, or an error (a 504
/// means the read model did not reach the position within the server's bound).
pub async fn read_item(
    client: &Client,
    endpoints: &Endpoints,
    item: Created,
) -> anyhow::Result<()> {
    let response = client
        .get(endpoints.item(item.id))
        .header("X-Min-Position", item.position)
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    match status {
        StatusCode::OK => {}
        StatusCode::GATEWAY_TIMEOUT => bail!(
            "504: the read model did not reach position {} in time",
            item.position
        ),
        _ => bail!("GET item {}: status {status}: {}", item.id, snippet(&body)),
    }
    let body: Value = serde_json::from_slice(&body).context("the 200 body is not JSON")?;
    ensure!(
        body["data"]["id"].as_i64() == Some(item.id),
        "GET item {} answered another item: {body}",
        item.id
    );
    Ok(())
}

/// Reads `item` with `X-Min-Position`, asking again after each 504 until `deadline`.
pub async fn wait_readable(
    client: &Client,
    endpoints: &Endpoints,
    item: Created,
    deadline: Instant,
) -> anyhow::Result<()> {
    loop {
        match read_item(client, endpoints, item).await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// `concurrency` clients each creating items in a loop, after a probe that must succeed.
/// Every id and every position must differ: a repeated one counts as an error. Returns the
/// measurement and the item with the highest position.
pub async fn create_items(
    client: &Client,
    create: &Url,
    concurrency: usize,
    limits: Limits,
) -> anyhow::Result<(Measured, Option<Created>)> {
    create_item(client, create, "bench item probe")
        .await
        .with_context(|| format!("probe POST {create}"))?;
    let (op_client, url) = (client.clone(), create.clone());
    let report = load::closed_loop(concurrency, limits, move |n| {
        let (client, url) = (op_client.clone(), url.clone());
        async move { create_item(&client, &url, &format!("bench item {n}")).await }
    })
    .await;

    let mut throughput = Measured::from(&report);
    for (what, mut values) in [
        ("id", report.values.iter().map(|c| c.id).collect::<Vec<_>>()),
        (
            "position",
            report.values.iter().map(|c| c.position).collect::<Vec<_>>(),
        ),
    ] {
        values.sort_unstable();
        values.dedup();
        let duplicates = report.values.len() - values.len();
        if duplicates > 0 {
            throughput.errors += duplicates as u64;
            throughput
                .error_samples
                .push(format!("{duplicates} responses repeated an {what}"));
        }
    }
    let last = report.values.iter().max_by_key(|c| c.position).copied();
    Ok((throughput, last))
}
