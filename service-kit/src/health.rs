//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use std::{sync::Arc, time::Duration};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use futures::future::{BoxFuture, join_all};
use serde_json::{Map, Value, json};

use crate::{ApiError, ok};

/// A named readiness check.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Routes for `/healthz` and `/readyz`.
pub fn routes(checks: Vec<(&'static str, Check)>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { ok(json!({"alive": true})) }))
        .route("/readyz", get(ready))
        .with_state(Arc::new(checks))
}

async fn ready(State(checks): State<Arc<Vec<(&'static str, Check)>>>) -> impl IntoResponse {
    let results = join_all(checks.iter().map(|(name, check)| async move {
        let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err),
            Err(_) => Err("timed out".to_owned()),
        };
        (*name, outcome)
    }))
    .await;
    let mut report = Map::new();
    let mut healthy = true;
    for (name, outcome) in results {
        // The cause goes to the logs only: a database's error names hosts, users and
        // settings that anyone who can reach `/readyz` need not learn.
        let text = match outcome {
            Ok(()) => "ok",
            Err(err) => {
                healthy = false;
                tracing::warn!(check = name, error = %err, "readiness check failed");
                "unavailable"
            }
        };
        report.insert(name.to_owned(), Value::String(text.to_owned()));
    }
    if healthy {
        (StatusCode::OK, ok(Value::Object(report))).into_response()
    } else {
        ApiError::unavailable("a dependency is unreachable")
            .with_details(Value::Object(report))
            .into_response()
    }
}

/// A check that PostgreSQL answers.
pub fn postgres(pool: sqlx::PgPool) -> Check {
    Arc::new(move || {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&pool)
                .await
                .map(|_| ())
                .map_err(|err| err.to_string())
        })
    })
}

/// A check from an async function.
pub fn check<F, Fut>(f: F) -> Check
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(f()))
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    #[tokio::test]
    async fn a_failed_check_is_reported_without_its_cause() {
        let failing = check(|| async {
            Err("password authentication failed for user \"postgres\" at 10.1.2.3".to_owned())
        });
        let passing = check(|| async { Ok(()) });
        let checks = Arc::new(vec![("postgres", failing), ("kafka", passing)]);
        let response = ready(State(checks)).await.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["error"]["details"]["postgres"], "unavailable",
            "{body}"
        );
        assert_eq!(body["error"]["details"]["kafka"], "ok", "{body}");
        assert!(!body.to_string().contains("10.1.2.3"), "{body}");
    }
}
