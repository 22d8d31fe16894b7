//! The HTTP side: clients, members and their tokens, placing orders, reading listing totals
//! and the cache counters of `/metrics`.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use reqwest::{
    Client, StatusCode, Url,
    header::{AUTHORIZATION, HeaderValue},
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Timeout of one HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Registrations and logins in flight at once: each costs ~20 ms of argon2 CPU, so more
/// would only queue on the server's two cores.
const REGISTER_CONCURRENCY: usize = 4;
/// Meets the password rule: 8+ characters, an upper-case letter, a digit.
const PASSWORD: &str = "Benchmark1";
/// The cache whose hit ratio is reported.
const ORDER_PAGES: &str = "cache=\"order_pages\"";

/// A client with one idle connection per request in flight (HTTP/1.1 carries one request
/// per connection at a time).
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

/// A logged-in member.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    /// `Bearer <access token>`, ready to send.
    pub auth: HeaderValue,
}

/// Registers and logs in `count` members, `orders-bench-<tag>-<k>@example.com`, in order.
pub async fn register_members(
    client: &Client,
    base: &Url,
    tag: &str,
    count: u32,
) -> anyhow::Result<Vec<Member>> {
    let register = endpoint(base, "/api/v1/auth/register")?;
    let login = endpoint(base, "/api/v1/auth/login")?;
    futures::stream::iter(0..count)
        .map(|k| {
            let email = format!("orders-bench-{tag}-{k}@example.com");
            let (register, login) = (register.clone(), login.clone());
            async move {
                register_member(client, register, login, &email, k)
                    .await
                    .with_context(|| format!("member {email}"))
            }
        })
        .buffered(REGISTER_CONCURRENCY)
        .try_collect()
        .await
}

async fn register_member(
    client: &Client,
    register: Url,
    login: Url,
    email: &str,
    k: u32,
) -> anyhow::Result<Member> {
    let body = json!({ "email": email, "password": PASSWORD, "name": format!("Bench member {k}") });
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
    Ok(Member { id, auth })
}

/// An order placed through the API.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub number: i64,
    pub position: i64,
}

/// `POST /api/v1/orders` as `member`; anything but a 201 with a number and a position is
/// an error.
pub async fn place_order(
    client: &Client,
    base: &Url,
    member: &Member,
    k: u32,
) -> anyhow::Result<Placed> {
    let body = json!({
        "product_name": format!("Sanity check {k}"),
        "quantity": 1 + k,
        "unit_price": 250,
        "note": "placed by orders-bench",
    });
    let response = client
        .post(endpoint(base, "/api/v1/orders")?)
        .header(AUTHORIZATION, member.auth.clone())
        .json(&body)
        .send()
        .await?;
    let body = expect_status(response, StatusCode::CREATED, "POST /api/v1/orders").await?;
    let data = &body["data"];
    match (data["number"].as_i64(), data["position"].as_i64()) {
        (Some(number), Some(position)) => Ok(Placed { number, position }),
        _ => bail!("the 201 body has no data.number or data.position: {body}"),
    }
}

/// `data.total` and the length of `data.items` of `GET /api/v1/orders?<query>`.
pub async fn listing_total(
    client: &Client,
    base: &Url,
    member: &Member,
    query: &str,
) -> anyhow::Result<(i64, usize)> {
    let url = endpoint(base, &format!("/api/v1/orders?{query}"))?;
    let response = client
        .get(url.clone())
        .header(AUTHORIZATION, member.auth.clone())
        .send()
        .await?;
    let body = expect_status(response, StatusCode::OK, url.as_str()).await?;
    let data = &body["data"];
    let total = data["total"]
        .as_i64()
        .with_context(|| format!("GET {url}: no data.total in {}", snippet_value(&body)))?;
    let items = data["items"]
        .as_array()
        .with_context(|| format!("GET {url}: data.items is not an array"))?;
    Ok((total, items.len()))
}

/// Order page cache lookups so far, from `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    /// Whether `/metrics` had any sample of the order page cache.
    pub present: bool,
}

/// Reads `cache_requests_total{cache="order_pages",outcome=...}` from `{base}/metrics`.
pub async fn cache_counts(client: &Client, base: &Url) -> anyhow::Result<CacheCounts> {
    let url = endpoint(base, "/metrics")?;
    let response = client.get(url.clone()).send().await?;
    let status = response.status();
    let text = response.text().await?;
    ensure!(status == StatusCode::OK, "GET {url}: status {status}");
    Ok(parse_cache_counts(&text))
}

fn parse_cache_counts(text: &str) -> CacheCounts {
    let mut counts = CacheCounts::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cache_requests_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once('}') else {
            continue;
        };
        if !labels.split(',').any(|label| label == ORDER_PAGES) {
            continue;
        }
        // The value may be printed as a float; a timestamp may follow it.
        let Some(value) = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        counts.present = true;
        if labels.contains("outcome=\"hit\"") {
            counts.hits += value as u64;
        } else if labels.contains("outcome=\"miss\"") {
            counts.misses += value as u64;
        }
    }
    counts
}

/// The JSON body of a response with the expected status, or an error naming what came.
async fn expect_status(
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

fn snippet_value(value: &Value) -> String {
    snippet(value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_order_page_cache_counters() {
        let text = "# TYPE cache_requests_total counter\n\
            cache_requests_total{cache=\"items\",outcome=\"hit\"} 7\n\
            cache_requests_total{cache=\"order_pages\",outcome=\"hit\"} 1234\n\
            cache_requests_total{outcome=\"miss\",cache=\"order_pages\"} 56.0\n";
        let counts = parse_cache_counts(text);
        assert_eq!(
            counts,
            CacheCounts {
                hits: 1234,
                misses: 56,
                present: true
            }
        );
        assert!(
            !parse_cache_counts("cache_requests_total{cache=\"items\",outcome=\"hit\"} 7").present
        );
    }
}
