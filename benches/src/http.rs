//! What every benchmark does over HTTP: its client, URLs, users with their tokens, and
//! checking an answer's status.

use std::time::Duration;

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use reqwest::{Client, StatusCode, Url, header::HeaderValue};
use serde_json::{Value, json};
use uuid::Uuid;

/// Timeout of one request (not of a stream).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Meets the password rule: 8+ characters, an upper-case letter, a digit.
const PASSWORD: &str = "Benchmark1";

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

/// Registers and logs in `count` users, `<prefix>-<k>@example.com`, `concurrency` at a
/// time; they come back in order. Each registration and login costs the server an argon2
/// hash (~20 ms of CPU), so a few at a time is all a small machine gains from.
pub async fn register_users(
    client: &Client,
    base: &Url,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<User>> {
    let register = endpoint(base, "/api/v1/auth/register")?;
    let login = endpoint(base, "/api/v1/auth/login")?;
    futures::stream::iter(0..count)
        .map(|k| {
            let email = format!("{prefix}-{k}@example.com");
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
    let body = json!({ "email": email, "password": PASSWORD, "name": format!("Bench user {k}") });
    let response = client.post(register).json(&body).send().await?;
    expect_status(response, StatusCode::CREATED, "register").await?;
    log_in_at(client, login, email, PASSWORD).await
}

/// Logs `email` in with `password` at `base` (an admin an operator made, say).
pub async fn log_in(
    client: &Client,
    base: &Url,
    email: &str,
    password: &str,
) -> anyhow::Result<User> {
    let login = endpoint(base, "/api/v1/auth/login")?;
    log_in_at(client, login, email, password).await
}

async fn log_in_at(
    client: &Client,
    login: Url,
    email: &str,
    password: &str,
) -> anyhow::Result<User> {
    let body = json!({ "email": email, "password": password });
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
    fn a_snippet_keeps_300_characters_and_marks_the_cut() {
        assert_eq!(snippet("short".as_bytes()), "short");
        let long = "é".repeat(301);
        let cut = snippet(long.as_bytes());
        assert_eq!(cut.chars().count(), 301);
        assert!(cut.ends_with("é…"));
    }

    #[test]
    fn an_endpoint_ignores_the_base_trailing_slash() {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            endpoint(&base, "/api/v1/items").unwrap().as_str(),
            "http://127.0.0.1:8080/api/v1/items"
        );
    }
}
