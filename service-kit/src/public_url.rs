//! Where clients reach the platform from outside, for the addresses it hands out (a
//! project's DSN). Behind a proxy no request tells it reliably, so `PUBLIC_URL` says it;
//! without that setting, the host a request was addressed to is the best guess, and
//! the service's own address the last resort.

use std::net::SocketAddr;

use axum::http::{HeaderMap, Uri, header, uri::Authority};

/// An absolute http(s) URL without credentials, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    authority: String,
    /// The path prefix, without its trailing slash (empty at the root).
    path: String,
}

impl PublicUrl {
    /// Parses the `PUBLIC_URL` setting.
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: Uri = text
            .parse()
            .map_err(|err| format!("not a URL ({err}): {text:?}"))?;
        let scheme = match uri.scheme_str() {
            Some(scheme @ ("http" | "https")) => scheme.to_owned(),
            _ => return Err(format!("must start with http:// or https://: {text:?}")),
        };
        let authority = uri
            .authority()
            .filter(|authority| !authority.host().is_empty())
            .ok_or_else(|| format!("must name a host: {text:?}"))?;
        if authority.as_str().contains('@') || uri.query().is_some() || text.contains('#') {
            return Err(format!(
                "must hold no credentials, query or fragment: {text:?}"
            ));
        }
        Ok(Self {
            scheme,
            authority: authority.as_str().to_owned(),
            path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The Sentry DSN of a project's client key: `<scheme>://<key>@<host><path>/<project>`.
    pub fn dsn(&self, public_key: &str, project: i64) -> String {
        format!(
            "{}://{public_key}@{}{}/{project}",
            self.scheme, self.authority, self.path
        )
    }
}

/// `PUBLIC_URL` when set; otherwise, per request, `http://` and the request's `Host`.
#[derive(Debug, Clone)]
pub struct PublicAddress {
    configured: Option<PublicUrl>,
    /// The service's own address, for a request without a usable `Host`.
    fallback: SocketAddr,
}

impl PublicAddress {
    pub fn new(configured: Option<PublicUrl>, fallback: SocketAddr) -> Self {
        Self {
            configured,
            fallback,
        }
    }

    /// The URL clients reach the platform at, as far as a request with `headers` tells.
    pub fn for_request(&self, headers: &HeaderMap) -> PublicUrl {
        if let Some(url) = &self.configured {
            return url.clone();
        }
        let authority = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .and_then(|host| host.parse::<Authority>().ok())
            .filter(|authority| !authority.as_str().contains('@'))
            .map(|authority| authority.as_str().to_owned())
            .unwrap_or_else(|| self.fallback.to_string());
        PublicUrl {
            scheme: "http".into(),
            authority,
            path: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn fallback() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8081))
    }

    #[test]
    fn a_dsn_puts_the_key_before_the_host_and_the_project_after_the_path() {
        let url = PublicUrl::parse("https://errors.example.com/sentry/").unwrap();
        assert_eq!(url.dsn("abc", 7), "https://abc@errors.example.com/sentry/7");
        let root = PublicUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(root.dsn("abc", 7), "http://abc@127.0.0.1:8080/7");
    }

    #[test]
    fn a_public_url_is_absolute_http_without_credentials_or_query() {
        for bad in [
            "errors.example.com",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=b",
            "https://example.com/#top",
            "/relative",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_setting_wins_over_the_request_and_the_request_over_the_service_address() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("10.0.0.5:9000"));
        let configured = PublicUrl::parse("https://errors.example.com").unwrap();
        let set = PublicAddress::new(Some(configured.clone()), fallback());
        assert_eq!(set.for_request(&headers), configured);
        let unset = PublicAddress::new(None, fallback());
        assert_eq!(
            unset.for_request(&headers).dsn("k", 1),
            "http://k@10.0.0.5:9000/1"
        );
        assert_eq!(
            unset.for_request(&HeaderMap::new()).dsn("k", 1),
            "http://k@127.0.0.1:8081/1"
        );
    }
}
