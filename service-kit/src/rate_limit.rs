//! Rate limits (GCRA, by `governor`) keyed by whatever a limit counts per: a client
//! address for endpoints anyone may call ([`RateLimit`] and its [`enforce`] middleware),
//! a user for endpoints that need a login ([`KeyedRateLimit`], checked in the handler
//! once it knows what must not count, such as a retried request). Over the limit, the
//! answer is `429` with `Retry-After` and the `RateLimit-*` headers; under it, the
//! `RateLimit-*` headers tell what is left.

use std::{
    hash::Hash,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
};
use serde_json::json;

use crate::{ApiError, ErrorCode};

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Keys tracked before those whose budget has refilled are forgotten.
const TRACKED_KEYS: usize = 10_000;
/// Forgetting scans every key: at most this often, however many keys are recent.
const PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// At most `per_minute` requests a minute for one key, in bursts of at most that many.
#[derive(Clone)]
pub struct KeyedRateLimit<K: Hash + Eq + Clone> {
    limiter: Arc<DefaultKeyedRateLimiter<K, StateInformationMiddleware>>,
    /// When the keys were last pruned.
    pruned: Arc<std::sync::Mutex<std::time::Instant>>,
    per_minute: u32,
    /// What the limit counts, for the refusal's message (e.g. "requests from this
    /// address").
    counted: &'static str,
}

impl<K: Hash + Eq + Clone> KeyedRateLimit<K> {
    pub fn per_minute(per_minute: NonZeroU32, counted: &'static str) -> Self {
        let limiter = RateLimiter::keyed(Quota::per_minute(per_minute))
            .with_middleware::<StateInformationMiddleware>();
        Self {
            limiter: Arc::new(limiter),
            pruned: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
            per_minute: per_minute.get(),
            counted,
        }
    }

    /// Counts one request against `key`: the `RateLimit-*` headers its answer carries, or
    /// the refusal when `key` has no budget left.
    pub fn check(&self, key: &K) -> Result<HeaderMap, OverLimit> {
        // Now and then, so memory stays bounded; never on every request, which would scan
        // every key each time while more than TRACKED_KEYS are recent.
        if self.limiter.len() > TRACKED_KEYS {
            self.prune();
        }
        match self.limiter.check_key(key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let per_request = Duration::from_secs(60) / self.per_minute;
                let reset = per_request * (self.per_minute - remaining);
                Ok(quota_headers(self.per_minute, remaining, reset))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(OverLimit {
                    retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
                    per_minute: self.per_minute,
                    counted: self.counted,
                })
            }
        }
    }
}

impl<K: Hash + Eq + Clone> KeyedRateLimit<K> {
    fn prune(&self) {
        let Ok(mut pruned) = self.pruned.try_lock() else {
            return; // Another request is pruning.
        };
        if pruned.elapsed() >= PRUNE_INTERVAL {
            self.limiter.retain_recent();
            *pruned = std::time::Instant::now();
        }
    }
}

/// A request over its limit, answered `429` with `Retry-After` and the `RateLimit-*`
/// headers (which an [`ApiError`] alone cannot carry).
#[derive(Debug, Clone, Copy)]
pub struct OverLimit {
    pub retry_after_seconds: u64,
    per_minute: u32,
    counted: &'static str,
}

impl IntoResponse for OverLimit {
    fn into_response(self) -> Response {
        let seconds = self.retry_after_seconds;
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many {}; retry in {seconds} s", self.counted),
        )
        .with_details(json!({
            "retry_after_seconds": seconds,
            "limit_per_minute": self.per_minute,
        }));
        let mut response = error.into_response();
        let headers = response.headers_mut();
        headers.extend(quota_headers(
            self.per_minute,
            0,
            Duration::from_secs(seconds),
        ));
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }
}

/// The `RateLimit-*` headers: the limit, what is left of it, and when it is whole again.
fn quota_headers(per_minute: u32, remaining: u32, reset: Duration) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(LIMIT, HeaderValue::from(per_minute));
    headers.insert(REMAINING, HeaderValue::from(remaining));
    headers.insert(RESET, HeaderValue::from(reset.as_secs_f64().ceil() as u64));
    let policy = format!("{per_minute};w=60");
    headers.insert(POLICY, HeaderValue::from_str(&policy).expect("ascii"));
    headers
}

/// At most `per_minute` requests a minute from one client address.
#[derive(Clone)]
pub struct RateLimit {
    limit: KeyedRateLimit<IpAddr>,
    /// Whether to take the client address from `X-Real-IP` (set by the reverse proxy).
    trust_proxy: bool,
}

impl RateLimit {
    pub fn per_minute(per_minute: NonZeroU32, trust_proxy: bool) -> Self {
        Self {
            limit: KeyedRateLimit::per_minute(per_minute, "requests from this address"),
            trust_proxy,
        }
    }

    fn client(&self, request: &Request) -> Option<IpAddr> {
        let forwarded = self
            .trust_proxy
            .then(|| request.headers().get("x-real-ip"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        forwarded
            .or_else(|| {
                request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(addr)| addr.ip())
            })
            .map(client_key)
    }
}

/// What one client's budget is kept under: an IPv4 address, or an IPv6 address's /64
/// (one host holds a whole /64 and could otherwise draw a fresh budget per address).
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// Middleware: counts the request against its client address; over the limit, answers
/// 429 without running the handler.
pub async fn enforce(State(limit): State<RateLimit>, request: Request, next: Next) -> Response {
    let Some(client) = limit.client(&request) else {
        return next.run(request).await;
    };
    match limit.limit.check(&client) {
        Ok(headers) => {
            let mut response = next.run(request).await;
            response.headers_mut().extend(headers);
            response
        }
        Err(over) => over.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_a_minute() -> KeyedRateLimit<u32> {
        KeyedRateLimit::per_minute(NonZeroU32::new(3).unwrap(), "tries")
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_its_address() {
        let key = |text: &str| client_key(text.parse().unwrap());
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(
            key("2001:db8:1:2::7"),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn each_key_spends_a_budget_of_its_own() {
        let limit = three_a_minute();
        for remaining in ["2", "1", "0"] {
            let headers = limit.check(&1).unwrap();
            assert_eq!(headers[REMAINING], remaining);
            assert_eq!(headers[POLICY], "3;w=60");
        }
        assert!(limit.check(&1).is_err());
        assert_eq!(limit.check(&2).unwrap()[REMAINING], "2");
    }

    #[test]
    fn a_refusal_says_when_to_come_back() {
        let limit = three_a_minute();
        for _ in 0..3 {
            limit.check(&1).unwrap();
        }
        let over = limit.check(&1).unwrap_err();
        assert!((1..=20).contains(&over.retry_after_seconds), "{over:?}");
        let response = over.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let headers = response.headers();
        assert_eq!(
            headers[header::RETRY_AFTER],
            over.retry_after_seconds.to_string()
        );
        assert_eq!(headers[REMAINING], "0");
        let error = response.extensions().get::<ApiError>().unwrap();
        assert_eq!(error.code, ErrorCode::RateLimited);
        assert!(error.message.starts_with("too many tries; retry in"));
    }
}
