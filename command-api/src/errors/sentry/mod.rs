//! The Sentry ingestion protocol, as the SDKs speak it: an envelope of items, of which
//! only `event` items carry errors, authenticated by the project's public key.
//!
//! - [`envelope`]: an envelope's header and items, framed by length or by line.
//! - [`auth`]: the client key, from `X-Sentry-Auth`, the query string or the DSN.

pub mod auth;
pub mod envelope;
