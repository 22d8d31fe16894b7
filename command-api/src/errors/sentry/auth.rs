//! The client key (a project's public key) that authenticates what an SDK sends. SDKs put
//! it in one of three places: the `X-Sentry-Auth` header (the Python and Rust SDKs), the
//! query string (the JavaScript SDKs, which cannot always set headers), or the `dsn` of
//! the envelope header.

/// The key of an `X-Sentry-Auth` header:
/// `Sentry sentry_key=<key>, sentry_version=7, sentry_client=sentry.python/2.76.0`.
pub fn from_header(value: &str) -> Option<String> {
    let value = value.trim();
    let pairs = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("sentry ") => &value[7..],
        _ => value,
    };
    pairs.split(',').find_map(|pair| key_of(pair.trim()))
}

/// The key of a query string: `sentry_version=7&sentry_key=<key>&sentry_client=...`.
pub fn from_query(query: &str) -> Option<String> {
    query.split('&').find_map(key_of)
}

/// The key of a DSN, `{scheme}://{key}[:secret]@{host}[:port]/{path/}{project id}`.
pub fn from_dsn(dsn: &str) -> Option<String> {
    let (_, rest) = dsn.split_once("://")?;
    let (credentials, _) = rest.split_once('@')?;
    let key = credentials.split(':').next()?;
    valid(key)
}

/// The value of a `sentry_key=<key>` pair.
fn key_of(pair: &str) -> Option<String> {
    let (name, value) = pair.split_once('=')?;
    (name.trim() == "sentry_key").then_some(())?;
    valid(value.trim())
}

/// Keys are hex digits (32, as the platform issues them); anything else is no key.
fn valid(key: &str) -> Option<String> {
    (!key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| key.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "8c2a6fb5e1a64d4c9e1e3e2f5b2d7a10";

    #[test]
    fn the_header_of_the_python_and_rust_sdks_gives_its_key() {
        let header = format!(
            "Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry.python/2.76.0"
        );
        assert_eq!(from_header(&header).as_deref(), Some(KEY));
        let reordered = format!("sentry sentry_version=7,sentry_key={KEY}");
        assert_eq!(from_header(&reordered).as_deref(), Some(KEY));
    }

    #[test]
    fn the_query_of_the_javascript_sdks_gives_its_key() {
        let query = format!(
            "sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.node%2F11.0.0"
        );
        assert_eq!(from_query(&query).as_deref(), Some(KEY));
        assert_eq!(from_query("sentry_version=7"), None);
    }

    #[test]
    fn a_dsn_gives_its_public_key_and_not_its_secret() {
        let dsn = format!("https://{KEY}:deadbeef@errors.example.com:8443/api/42");
        assert_eq!(from_dsn(&dsn).as_deref(), Some(KEY));
        assert_eq!(
            from_dsn(&format!("http://{KEY}@127.0.0.1/1")).as_deref(),
            Some(KEY)
        );
        assert_eq!(from_dsn("http://127.0.0.1/1"), None);
    }

    #[test]
    fn what_is_not_hex_is_no_key() {
        assert_eq!(from_header("Sentry sentry_key=not-a-key"), None);
        assert_eq!(from_header("Sentry sentry_key="), None);
        assert_eq!(from_query("sentry_key=%27%3B"), None);
    }
}
