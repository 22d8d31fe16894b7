//! The HTTP side: clients, members and their tokens, placing orders, reading listing totals
//! and the cache counters of `/metrics`.

use anyhow::{Context, bail, ensure};
use reqwest::{Client, StatusCode, Url, header::AUTHORIZATION};
use serde_json::{Value, json};

pub(crate) use benches::http::{User as Member, client, endpoint, snippet};
use benches::http::{expect_status, register_users};

/// Registrations and logins in flight at once: each costs ~20 ms of argon2 CPU, so more
/// would only queue on the server's two cores.
const REGISTER_CONCURRENCY: usize = 4;
/// The cache whose hit ratio is reported.
const ORDER_PAGES: &str = "cache=\"order_pages\"";

/// Registers and logs in `count` members, `orders-bench-<tag>-<k>@example.com`, in order.
pub(crate) async fn register_members(
    client: &Client,
    base: &Url,
    tag: &str,
    count: u32,
) -> anyhow::Result<Vec<Member>> {
    let prefix = format!("orders-bench-{tag}");
    register_users(client, base, &prefix, count as usize, REGISTER_CONCURRENCY).await
}

/// An order placed through the API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub number: i64,
    pub position: i64,
}

/// `POST /api/v1/orders` as `member`; anything but a 201 with a number and a position is
/// an error.
pub(crate) async fn place_order(
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
pub(crate) async fn listing_total(
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
pub(crate) struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    /// Whether `/metrics` had any sample of the order page cache.
    pub present: bool,
}

/// Reads `cache_requests_total{cache="order_pages",outcome=...}` from `{base}/metrics`.
pub(crate) async fn cache_counts(client: &Client, base: &Url) -> anyhow::Result<CacheCounts> {
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
