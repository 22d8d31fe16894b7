//! Each project's quota of events a minute. Events are counted, not requests: an
//! envelope of three events spends three. Over the quota, the answer is Sentry's: `429`
//! with `Retry-After` and `X-Sentry-Rate-Limits`, which SDKs read to hold back that
//! category for that long instead of retrying at once.

use std::{num::NonZeroU32, time::Duration};

use axum::{
    http::{HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use moka::sync::Cache;
use service_kit::rate_limit::{KeyedRateLimit, OverLimit};

pub const X_SENTRY_RATE_LIMITS: HeaderName = HeaderName::from_static("x-sentry-rate-limits");

/// The limiters of the projects reporting lately. A limiter is keyed by the project and
/// its quota, so a changed quota starts a fresh one.
#[derive(Clone)]
pub struct Quotas {
    limiters: Cache<(i64, u32), KeyedRateLimit<()>>,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            // Idle longer than a minute, a limiter's budget is whole again anyway.
            limiters: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(120))
                .build(),
        }
    }
}

impl Quotas {
    /// Spends `events` of `project`'s quota of `per_minute`; refused when any of them is
    /// over it (those before it stay spent: the client sent them).
    pub fn spend(&self, project: i64, per_minute: i64, events: usize) -> Result<(), OverQuota> {
        let per_minute = u32::try_from(per_minute.max(1)).unwrap_or(u32::MAX);
        let limit = NonZeroU32::new(per_minute).expect("at least 1");
        let limiter = self.limiters.get_with((project, per_minute), || {
            KeyedRateLimit::per_minute(limit, "events reported to this project")
        });
        for _ in 0..events {
            limiter.check(&()).map_err(OverQuota)?;
        }
        Ok(())
    }
}

/// A report over its project's quota.
#[derive(Debug)]
pub struct OverQuota(OverLimit);

impl IntoResponse for OverQuota {
    fn into_response(self) -> Response {
        let seconds = self.0.retry_after_seconds;
        let mut response = self.0.into_response();
        let limits = format!("{seconds}:error:project");
        response.headers_mut().insert(
            X_SENTRY_RATE_LIMITS,
            HeaderValue::from_str(&limits).expect("digits and ascii"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{StatusCode, header};

    use super::*;

    #[test]
    fn events_past_the_quota_are_refused_the_sentry_way() {
        let quotas = Quotas::default();
        assert!(quotas.spend(1, 3, 2).is_ok());
        let over = quotas.spend(1, 3, 2).unwrap_err().into_response();
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry = over.headers()[header::RETRY_AFTER].to_str().unwrap();
        assert_eq!(
            over.headers()[X_SENTRY_RATE_LIMITS],
            format!("{retry}:error:project").as_str()
        );
        // Another project has its own budget.
        assert!(quotas.spend(2, 3, 3).is_ok());
    }

    #[test]
    fn a_changed_quota_starts_afresh() {
        let quotas = Quotas::default();
        assert!(quotas.spend(1, 1, 1).is_ok());
        assert!(quotas.spend(1, 1, 1).is_err());
        assert!(quotas.spend(1, 5, 5).is_ok());
    }
}
