//! Failures that mean the database is out of reach for a moment: it is restarting, the
//! connection was cut, no pooled connection came free in time, or a statement ran past
//! `statement_timeout` and was cancelled (the database is busy; its connection is free
//! again). A request that meets
//! one is answered `503` with `Retry-After` (see [`crate::ApiError::failure`]) rather than
//! `500`: nothing is wrong with the request, and a retry soon succeeds.

use std::error::Error;

use event_log::StoreError;
use event_store::AppendError;

/// What a `503` asks a client to wait before retrying: a fast restart takes about this.
pub const RETRY_AFTER_SECONDS: u16 = 1;

/// PostgreSQL's `query_canceled`: what a statement over `statement_timeout` fails with.
const QUERY_CANCELED: &str = "57014";

/// Whether `err`, or any error it was caused by, is the database out of reach or busy.
pub fn is_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|err| unreachable(err) || timed_out(err))
}

/// A statement cancelled by its timeout (a store or append error's cause is in the chain
/// too).
fn timed_out(err: &(dyn Error + 'static)) -> bool {
    matches!(
        err.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if db.code().as_deref() == Some(QUERY_CANCELED)
    )
}

fn unreachable(err: &(dyn Error + 'static)) -> bool {
    err.downcast_ref::<sqlx::Error>()
        .is_some_and(event_log::unreachable)
        || err
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unreachable)
        // Transparent: its source is the store error's source, not the store error.
        || matches!(
            err.downcast_ref::<AppendError>(),
            Some(AppendError::Store(store)) if store.is_unreachable()
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_is_unavailable_however_deeply_wrapped() {
        let io = || sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(is_unavailable(&io().into()));
        assert!(is_unavailable(&StoreError::from(io()).into()));
        assert!(is_unavailable(&AppendError::from(io()).into()));
        let context = anyhow::Error::from(io()).context("loading the page");
        assert!(is_unavailable(&context));
    }

    #[test]
    fn an_append_cut_off_mid_statement_is_unavailable() {
        let cut = AppendError::Store(StoreError::Unreachable("connection reset".into()));
        assert!(is_unavailable(&cut.into()));
    }

    #[test]
    fn an_unreachable_database_is_a_503_to_retry_and_anything_else_a_500() {
        use axum::{http::StatusCode, response::IntoResponse};

        let busy = crate::ApiError::failure(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()["retry-after"], "1");
        let broken = crate::ApiError::failure(sqlx::Error::RowNotFound).into_response();
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!broken.headers().contains_key("retry-after"));
    }

    #[test]
    fn other_failures_are_not_unavailable() {
        assert!(!is_unavailable(&sqlx::Error::RowNotFound.into()));
        assert!(!is_unavailable(&StoreError::Malformed("x".into()).into()));
        assert!(!is_unavailable(&anyhow::anyhow!(
            "a moved order has no state"
        )));
    }
}
