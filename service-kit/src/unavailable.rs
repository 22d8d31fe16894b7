//! Failures that mean the database is out of reach for a moment: it is restarting, the
//! connection was cut, or no pooled connection came free in time. A request that meets
//! one is answered `503` with `Retry-After` (see [`crate::ApiError::failure`]) rather than
//! `500`: nothing is wrong with the request, and a retry soon succeeds.

use std::error::Error;

use event_log::StoreError;
use event_store::AppendError;

/// What a `503` asks a client to wait before retrying: a fast restart takes about this.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// Whether `err`, or any error it was caused by, is the database out of reach.
pub fn is_unavailable(err: &(dyn Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        let unreachable = err
            .downcast_ref::<sqlx::Error>()
            .is_some_and(event_log::unreachable)
            || err
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_unreachable)
            // Transparent: its source is the store error's source, not the store error.
            || matches!(
                err.downcast_ref::<AppendError>(),
                Some(AppendError::Store(store)) if store.is_unreachable()
            );
        if unreachable {
            return true;
        }
        next = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_is_unavailable_however_deeply_wrapped() {
        let io = || sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(is_unavailable(&io()));
        assert!(is_unavailable(&StoreError::from(io())));
        assert!(is_unavailable(&AppendError::from(io())));
        let boxed: Box<dyn Error + Send + Sync> = anyhow::Error::from(io()).into();
        assert!(is_unavailable(boxed.as_ref()));
    }

    #[test]
    fn an_append_cut_off_mid_statement_is_unavailable() {
        let cut = AppendError::Store(StoreError::Unreachable("connection reset".into()));
        assert!(is_unavailable(&cut));
    }

    #[test]
    fn other_failures_are_not_unavailable() {
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&StoreError::Malformed("x".into())));
        let message: Box<dyn Error + Send + Sync> = "a moved order has no state".into();
        assert!(!is_unavailable(message.as_ref()));
    }
}
