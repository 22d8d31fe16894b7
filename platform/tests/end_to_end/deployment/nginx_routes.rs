//! nginx.conf against the services' routes: every documented route and every page reaches
//! the service that serves it, Sentry SDKs reach the ingestion endpoints with bodies as
//! large as Sentry takes, a body over a limit is told that limit, and no access token is
//! logged.

use serde_json::Value;

use super::{
    nginx_conf::{Nginx, mib, named},
    nginx_rendered, operations,
};

fn nginx() -> Nginx {
    Nginx::new(&nginx_rendered())
}

/// A path template with each `{parameter}` filled in (numbers suit every id here).
fn example(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What the Sentry SDKs post to, per their DSN: `/api/<project id>/envelope/` and the
/// older `/store/`, with or without the trailing slash.
const INGESTION: &[&str] = &[
    "/api/1/envelope/",
    "/api/1/store/",
    "/api/4507/envelope",
    "/api/4507/store",
];

#[test]
fn nginx_sends_every_documented_route_to_the_service_that_serves_it() {
    let nginx = nginx();
    let apis = [
        ("command_api", command_api::docs::openapi()),
        ("query_api", query_api::docs::openapi()),
    ];
    for (upstream, document) in apis {
        let routes = operations(serde_json::to_value(document).unwrap());
        assert!(!routes.is_empty(), "{upstream} documents its routes");
        for (method, path) in routes {
            let route = nginx.route(&method, &example(&path));
            assert_eq!(
                route.upstream().as_deref(),
                Some(upstream),
                "nginx sends {method} {path} (location {}) elsewhere than {upstream}, which serves it",
                route.location
            );
        }
    }
}

#[test]
fn nginx_sends_the_pages_and_their_script_to_query_api() {
    let nginx = nginx();
    for path in query_api::pages::paths() {
        let route = nginx.route("GET", path);
        assert_eq!(
            route.upstream().as_deref(),
            Some("query_api"),
            "nginx sends GET {path} (location {}) elsewhere than query-api, which serves it",
            route.location
        );
    }
}

#[test]
fn sentry_sdks_reach_command_api_with_bodies_up_to_20_mib_as_sent() {
    let nginx = nginx();
    for path in INGESTION {
        let route = nginx.route("POST", path);
        assert_eq!(
            route.upstream().as_deref(),
            Some("command_api"),
            "POST {path} reaches command-api"
        );
        assert!(
            route.body_limit() >= mib(20),
            "POST {path} takes envelopes of 20 MiB, not only {} bytes",
            route.body_limit()
        );
        // Compressed bodies are command-api's to decode: nothing may rewrite them on the way.
        for level in [route.directives(), nginx.server(), nginx.http()] {
            for name in ["proxy_set_body", "proxy_pass_request_body", "gunzip"] {
                assert!(
                    named(level, name).next().is_none(),
                    "{name} would alter what the SDKs send to {path}"
                );
            }
            for header in named(level, "proxy_set_header") {
                assert!(
                    !header.args[0].eq_ignore_ascii_case("content-encoding"),
                    "nginx rewrites Content-Encoding"
                );
            }
        }
    }
    let other = nginx.route("POST", "/api/v1/items");
    assert!(
        other.body_limit() < mib(20),
        "the larger limit is for ingestion only"
    );
    let not_a_project = nginx.route("POST", "/api/latest/envelope/");
    assert_eq!(not_a_project.upstream(), None, "a project id is a number");
}

#[test]
fn a_body_over_the_limit_is_answered_with_that_limit_in_the_envelope() {
    let nginx = nginx();
    for path in INGESTION.iter().copied().chain(["/api/v1/items"]) {
        let route = nginx.route("POST", path);
        let answer: Value = serde_json::from_str(route.too_large_answer().trim())
            .unwrap_or_else(|err| panic!("the 413 for {path} is not JSON: {err}"));
        assert_eq!(answer["status"], "error");
        assert_eq!(answer["error"]["code"], "INVALID_INPUT");
        let message = answer["error"]["message"].as_str().unwrap();
        let limit = route.body_limit() / mib(1);
        assert!(
            message.contains(&format!("larger than {limit} MiB")),
            "POST {path} takes {limit} MiB, its 413 says {message:?}"
        );
    }
}

#[test]
fn nginx_access_log_keeps_no_access_token() {
    let nginx = nginx();
    let format = named(nginx.http(), "log_format")
        .find(|d| d.args[0] == "json")
        .expect("nginx.conf has a json log_format");
    let line = format.args[2..].concat();
    for raw in ["$request_uri", "$args", "$query_string", "$request\""] {
        assert!(
            !line.contains(raw),
            "the access log writes {raw}, tokens included"
        );
    }
    let uri_field = line
        .split("\"uri\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the access log has a uri field");
    let variable = uri_field.strip_prefix('$').expect("uri is a variable");
    for uri in [
        "/api/v1/chats/7/stream?access_token=eyJ.secret.sig",
        "/api/v1/chats/7/stream?since=4&access_token=eyJ.secret.sig&x=1",
    ] {
        let logged = nginx.map(&format!("${variable}"), uri);
        assert!(!logged.contains("secret"), "{uri} is logged as {logged}");
        assert!(
            logged.starts_with("/api/v1/chats/7/stream?"),
            "{logged} still says what was asked"
        );
    }
    let plain = "/api/v1/items?page=2";
    assert_eq!(nginx.map(&format!("${variable}"), plain), plain);
}
