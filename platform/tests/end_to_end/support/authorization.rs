//! Authorization tables: every endpoint of a context called by every kind of caller.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{TestApp, accounts::Account};

/// An endpoint of a table: its route template (with `{...}` for the ids a test fills in)
/// and the body it is called with.
pub(crate) struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub body: Option<Value>,
}

impl Endpoint {
    pub(crate) fn new(method: Method, path: &'static str, body: Option<Value>) -> Self {
        Self { method, path, body }
    }
}

impl TestApp {
    /// Calls `endpoint` at `path` (its template filled in) as `account` (anonymous for
    /// None), once the read models reflect `at`. Describes the call when the status is not
    /// `want`; `caller` names the kind of caller in that description.
    pub(crate) async fn status_mismatch(
        &self,
        caller: impl std::fmt::Debug,
        account: Option<&Account>,
        endpoint: &Endpoint,
        path: &str,
        at: i64,
        want: u16,
    ) -> Option<String> {
        let request = self
            .as_user(account, endpoint.method.clone(), path)
            .header("x-min-position", at.to_string());
        let request = match &endpoint.body {
            Some(body) => request.json(body),
            None => request,
        };
        let got = request.send().await.unwrap().status();
        (got != StatusCode::from_u16(want).unwrap()).then(|| {
            format!(
                "{caller:?} {} {}: {got}, expected {want}",
                endpoint.method, endpoint.path
            )
        })
    }
}
