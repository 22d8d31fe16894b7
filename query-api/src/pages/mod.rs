//! The pages query-api serves to browsers: the chat page and the errors dashboard, each one
//! static document, and the script both load for their session (logging in, API calls with
//! the access token and its refresh, logging out).
//!
//! Each is built into the binary and sent with an ETag of its content and
//! `Cache-Control: no-cache`: a browser asks again on every load and gets a `304` while
//! the file is unchanged, so a page and its script never come from different builds.

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{AppState, respond};

/// A file served as it is.
struct Asset {
    path: &'static str,
    body: &'static str,
    content_type: &'static str,
}

static ASSETS: [Asset; 3] = [
    Asset {
        path: "/chat",
        body: include_str!("chat.html"),
        content_type: "text/html; charset=utf-8",
    },
    Asset {
        path: "/errors",
        body: include_str!("errors.html"),
        content_type: "text/html; charset=utf-8",
    },
    Asset {
        path: "/assets/session.js",
        body: include_str!("session.js"),
        content_type: "text/javascript; charset=utf-8",
    },
];

/// Every path served here (for the deployment's routing).
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|asset| asset.path)
}

pub fn router() -> Router<AppState> {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        router.route(
            asset.path,
            get(move |headers: HeaderMap| serve(asset, headers)),
        )
    })
}

async fn serve(asset: &'static Asset, headers: HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", fnv1a(asset.body.as_bytes()));
    let cached = [
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex digits"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if respond::none_match(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cached).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    )];
    (content_type, cached, asset.body).into_response()
}

/// FNV-1a over the file: a tag that changes when the file does (no secret to guard).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(path: &str) -> &'static Asset {
        ASSETS.iter().find(|asset| asset.path == path).unwrap()
    }

    #[tokio::test]
    async fn the_script_is_javascript_that_browsers_revalidate_by_its_etag() {
        let script = asset("/assets/session.js");
        let first = serve(script, HeaderMap::new()).await;
        assert_eq!(first.status(), StatusCode::OK);
        let headers = first.headers();
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let etag = headers[header::ETAG].clone();
        let mut asking = HeaderMap::new();
        asking.insert(header::IF_NONE_MATCH, etag.clone());
        let again = serve(script, asking).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], etag);
        let page = serve(asset("/chat"), HeaderMap::new()).await;
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_ne!(page.headers()[header::ETAG], etag, "a tag per file");
    }

    #[test]
    fn both_pages_load_the_shared_session_script() {
        for page in &ASSETS[..2] {
            assert!(
                page.body
                    .contains(r#"<script src="/assets/session.js"></script>"#),
                "{} does not load the session script",
                page.path
            );
        }
    }
}
