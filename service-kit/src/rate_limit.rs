//! Per-client-address rate limits (GCRA, by `governor`), answered with `429`,
//! `Retry-After` and the `RateLimit-*` headers.

use std::{
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

type Limiter = DefaultKeyedRateLimiter<IpAddr, StateInformationMiddleware>;

/// At most `per_minute` requests a minute from one client address, in bursts of at most
/// that many.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<Limiter>,
    per_minute: u32,
    /// Whether to take the client address from `X-Real-IP` (set by the reverse proxy).
    trust_proxy: bool,
}

impl RateLimit {
    pub fn per_minute(per_minute: NonZeroU32, trust_proxy: bool) -> Self {
        let limiter = RateLimiter::keyed(Quota::per_minute(per_minute))
            .with_middleware::<StateInformationMiddleware>();
        Self {
            limiter: Arc::new(limiter),
            per_minute: per_minute.get(),
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
        forwarded.or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        })
    }

    fn headers(&self, remaining: u32, reset: Duration) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LIMIT, HeaderValue::from(self.per_minute));
        headers.insert(REMAINING, HeaderValue::from(remaining));
        headers.insert(RESET, HeaderValue::from(reset.as_secs_f64().ceil() as u64));
        let policy = format!("{};w=60", self.per_minute);
        headers.insert(POLICY, HeaderValue::from_str(&policy).expect("ascii"));
        headers
    }
}

/// Middleware: counts the request against its client address; over the limit, answers
/// 429 without running the handler.
pub async fn enforce(State(limit): State<RateLimit>, request: Request, next: Next) -> Response {
    let Some(client) = limit.client(&request) else {
        return next.run(request).await;
    };
    // Forget addresses whose budget has refilled, now and then, so memory stays bounded.
    if limit.limiter.len() > 10_000 {
        limit.limiter.retain_recent();
    }
    let per_request = Duration::from_secs(60) / limit.per_minute;
    match limit.limiter.check_key(&client) {
        Ok(state) => {
            let remaining = state.remaining_burst_capacity();
            let reset = per_request * (limit.per_minute - remaining);
            let mut response = next.run(request).await;
            response
                .headers_mut()
                .extend(limit.headers(remaining, reset));
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                format!("too many requests from this address; retry in {seconds} s"),
            )
            .with_details(
                json!({ "retry_after_seconds": seconds, "limit_per_minute": limit.per_minute }),
            );
            let mut response = error.into_response();
            let headers = response.headers_mut();
            headers.extend(limit.headers(0, Duration::from_secs(seconds)));
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
    }
}
