//! The HTTP side of the setup: clients, users and their tokens, rooms, sending a message,
//! and the platform's count of open streams from `/metrics`.

use anyhow::{Context, bail};
use reqwest::{
    Client, StatusCode, Url,
    header::{AUTHORIZATION, HeaderValue},
};
use serde_json::json;
use uuid::Uuid;

use benches::http::expect_status;
pub(crate) use benches::http::{REQUEST_TIMEOUT, User, client, endpoint, register_users, snippet};

/// The platform's gauge of open chat streams.
const STREAMS_OPEN: &str = "chat_streams_open";

/// A client for the live streams: one connection each, held for the whole run, so no
/// overall timeout (the subscribers time out reads that stay silent).
pub(crate) fn stream_client() -> anyhow::Result<Client> {
    Client::builder()
        .http1_only()
        .pool_max_idle_per_host(0)
        .tcp_nodelay(true)
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the stream client")
}

/// `POST /api/v1/chats`: a group room of `creator` and `others`; its id.
pub(crate) async fn create_room(
    client: &Client,
    base: &Url,
    creator: &User,
    others: &[Uuid],
    name: &str,
) -> anyhow::Result<i64> {
    let body = json!({ "type": "group", "name": name, "members": others });
    let response = client
        .post(endpoint(base, "/api/v1/chats")?)
        .header(AUTHORIZATION, creator.auth.clone())
        .json(&body)
        .send()
        .await?;
    let body = expect_status(response, StatusCode::CREATED, "POST /api/v1/chats").await?;
    body["data"]["id"].as_i64().with_context(|| {
        format!(
            "the 201 body has no data.id: {}",
            snippet(body.to_string().as_bytes())
        )
    })
}

/// `POST {url}` (a room's `/messages`) with `text`; anything but a 201 is an error.
pub(crate) async fn send_message(
    client: &Client,
    url: &Url,
    auth: &HeaderValue,
    text: String,
) -> anyhow::Result<()> {
    let response = client
        .post(url.clone())
        .header(AUTHORIZATION, auth.clone())
        .json(&json!({ "text": text }))
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != StatusCode::CREATED {
        bail!("POST {url}: status {status}: {}", snippet(&body));
    }
    Ok(())
}

/// The platform's `chat_streams_open` gauge from `{base}/metrics` (None when absent).
pub(crate) async fn streams_open(client: &Client, base: &Url) -> anyhow::Result<Option<u64>> {
    let url = endpoint(base, "/metrics")?;
    let response = client.get(url.clone()).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if status != StatusCode::OK {
        bail!("GET {url}: status {status}");
    }
    Ok(parse_gauge(&text, STREAMS_OPEN))
}

/// The value of an unlabelled sample `name` in Prometheus text.
fn parse_gauge(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        let value: f64 = value.split_whitespace().next()?.parse().ok()?;
        Some(value.max(0.0) as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_open_streams_gauge() {
        let text = "# TYPE chat_streams_open gauge\n\
            chat_streams_open_total 5\n\
            chat_streams_open 10000\n";
        assert_eq!(parse_gauge(text, STREAMS_OPEN), Some(10_000));
        assert_eq!(
            parse_gauge("chat_streams_open 3.0\n", STREAMS_OPEN),
            Some(3)
        );
        assert_eq!(parse_gauge("other 3\n", STREAMS_OPEN), None);
    }
}
