//! The item endpoints the commands and lag phases call, and what a call must answer.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use benches::http::snippet;
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::args::Args;

/// An item the command API created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Created {
    pub id: i64,
    pub position: i64,
}

/// The URLs of the item endpoints.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub create: Url,
    pub query_base: String,
}

impl Endpoints {
    pub(crate) fn new(args: &Args) -> anyhow::Result<Self> {
        let create = format!("{}/api/v1/items", base(&args.command_url));
        Ok(Self {
            create: Url::parse(&create).with_context(|| format!("bad URL {create}"))?,
            query_base: format!("{}/api/v1/items", base(args.query_url())),
        })
    }

    pub(crate) fn item(&self, id: i64) -> String {
        format!("{}/{id}", self.query_base)
    }
}

fn base(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// `POST /api/v1/items`; anything but a 201 with matching `X-Position` and body is an error.
pub(crate) async fn create_item(client: &Client, url: &Url, name: &str) -> anyhow::Result<Created> {
    let response = client
        .post(url.clone())
        .json(&json!({ "name": name, "description": "created by append-bench" }))
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
pub(crate) async fn read_item(
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
pub(crate) async fn wait_readable(
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
