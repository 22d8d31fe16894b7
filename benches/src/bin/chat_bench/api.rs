//! The HTTP side of the setup: clients, users and their tokens, rooms, sending a message,
//! and the platform's count of open streams from `/metrics`.

use std::time::Duration;

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use reqwest::{
    Client, StatusCode, Url,
    header::{AUTHORIZATION, HeaderValue},
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Timeout of one request (not of a stream).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Meets the password rule: 8+ characters, an upper-case letter, a digit.
const PASSWORD: &str = "Benchmark1";
/// The platform's gauge of open chat streams.
const STREAMS_OPEN: &str = "chat_streams_open";

/// A client for requests, with one idle connection per request in flight (HTTP/1.1
/// carries one request per connection at a time).
pub fn client(max_in_flight: usize) -> anyhow::Result<Client> {
    Client::builder()
        .http1_only()
        .pool_max_idle_per_host(max_in_flight)
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client")
}

/// A client for the live streams: one connection each, held for the whole run, so no
/// overall timeout (the subscribers time out reads that stay silent).
pub fn stream_client() -> anyhow::Result<Client> {
    Client::builder()
        .http1_only()
        .pool_max_idle_per_host(0)
        .tcp_nodelay(true)
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the stream client")
}

/// `base` + `path`, with `base`'s trailing slash ignored.
pub fn endpoint(base: &Url, path: &str) -> anyhow::Result<Url> {
    let text = format!("{}{path}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).with_context(|| format!("bad URL {text}"))
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    /// `Bearer <access token>`, ready to send.
    pub auth: HeaderValue,
}

/// Registers and logs in `count` users, `chat-bench-<tag>-<k>@example.com`, `concurrency`
/// at a time; they come back in order.
pub async fn register_users(
    client: &Client,
    base: &Url,
    tag: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<User>> {
    let register = endpoint(base, "/api/v1/auth/register")?;
    let login = endpoint(base, "/api/v1/auth/login")?;
    futures::stream::iter(0..count)
        .map(|k| {
            let email = format!("chat-bench-{tag}-{k}@example.com");
            let (register, login) = (register.clone(), login.clone());
            async move {
                register_user(client, register, login, &email, k)
                    .await
                    .with_context(|| format!("user {email}"))
            }
        })
        .buffered(concurrency)
        .try_collect()
        .await
}

async fn register_user(
    client: &Client,
    register: Url,
    login: Url,
    email: &str,
    k: usize,
) -> anyhow::Result<User> {
    let body =
        json!({ "email": email, "password": PASSWORD, "name": format!("Chat bench user {k}") });
    let response = client.post(register).json(&body).send().await?;
    expect_status(response, StatusCode::CREATED, "register").await?;
    let body = json!({ "email": email, "password": PASSWORD });
    let response = client.post(login).json(&body).send().await?;
    let body = expect_status(response, StatusCode::OK, "login").await?;
    let data = &body["data"];
    let token = data["access_token"]
        .as_str()
        .context("the login answer has no data.access_token")?;
    let id = data["user"]["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .context("the login answer has no data.user.id")?;
    let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
        .context("the access token is not a valid header value")?;
    auth.set_sensitive(true);
    Ok(User { id, auth })
}

/// `POST /api/v1/chats`: a group room of `creator` and `others`; its id.
pub async fn create_room(
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
pub async fn send_message(
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
pub async fn streams_open(client: &Client, base: &Url) -> anyhow::Result<Option<u64>> {
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

/// The JSON body of a response with the expected status, or an error naming what came.
pub async fn expect_status(
    response: reqwest::Response,
    expected: StatusCode,
    what: &str,
) -> anyhow::Result<Value> {
    let status = response.status();
    let body = response.bytes().await?;
    if status != expected {
        bail!("{what}: status {status}: {}", snippet(&body));
    }
    serde_json::from_slice(&body)
        .with_context(|| format!("{what}: the {status} body is not JSON: {}", snippet(&body)))
}

/// The first 300 characters of a body.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut snippet: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        snippet.push('…');
    }
    snippet
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
