//! What operators and API browsers rely on: health and readiness, Prometheus metrics on a
//! listener of their own, the OpenAPI documents with Swagger UI, and request ids.

use crate::support;

use event_log::testing::{self, Transport};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, header, item_path, json, position_of};

#[tokio::test]
async fn healthz_answers_that_the_process_is_alive() {
    let app = TestApp::spawn().await;
    let body = json(app.get("/healthz").await, StatusCode::OK).await;
    assert_eq!(body, json!({"status": "ok", "data": {"alive": true}}));
    app.stop().await;
}

#[tokio::test]
async fn readyz_reports_every_dependency_as_ok() {
    let app = TestApp::spawn().await;
    let body = json(app.get("/readyz").await, StatusCode::OK).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["data"]["postgres"], "ok");
    if testing::transport() == Transport::Kafka {
        assert_eq!(body["data"]["kafka"], "ok", "{body}");
    }
    app.stop().await;
}

/// The text of `/metrics`.
async fn metrics(app: &TestApp) -> String {
    app.metrics().await
}

/// Whether a sample line of `metric` carries every one of `labels`.
fn has_sample(text: &str, metric: &str, labels: &[&str]) -> bool {
    text.lines().any(|line| {
        line.starts_with(&format!("{metric}{{")) && labels.iter().all(|l| line.contains(l))
    })
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_api_port() {
    let app = TestApp::spawn().await;
    assert_ne!(app.base, app.metrics_base);
    let public = app.get("/metrics").await;
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    assert!(metrics(&app).await.contains("http_requests_total"));
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_method_route_template_and_status() {
    let app = TestApp::spawn().await;
    app.create_item("lamp").await;
    app.get(&item_path(987_654)).await;
    let text = metrics(&app).await;
    let created = [
        r#"method="POST""#,
        r#"route="/api/v1/items""#,
        r#"status="201""#,
    ];
    assert!(has_sample(&text, "http_requests_total", &created), "{text}");
    let missing = [
        r#"method="GET""#,
        r#"route="/api/v1/items/{id}""#,
        r#"status="404""#,
    ];
    assert!(has_sample(&text, "http_requests_total", &missing), "{text}");
    assert!(!text.contains("987654"), "raw paths must not become labels");
    app.stop().await;
}

#[tokio::test]
async fn metrics_expose_latency_buckets_appends_projection_lag_and_cache_use() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let at = position_of(&created);
    json(app.get_at(&item_path(1), at).await, StatusCode::OK).await;
    let text = metrics(&app).await;
    let created = [r#"route="/api/v1/items""#, r#"le="0.005""#];
    assert!(
        has_sample(&text, "http_request_duration_seconds_bucket", &created),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("events_appended_total ")),
        "{text}"
    );
    // The lag gauges are sampled every two seconds, the first time as the projector starts.
    let items = [r#"projection="items""#];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut text = text;
    while !has_sample(&text, "projection_lag_events", &items) {
        assert!(
            std::time::Instant::now() < deadline,
            "no projection lag: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        text = metrics(&app).await;
    }
    let cache = [r#"cache="items""#, r#"outcome="miss""#];
    assert!(has_sample(&text, "cache_requests_total", &cache), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn swagger_ui_is_served_with_its_assets_built_in() {
    let app = TestApp::spawn().await;
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let response = app.get(&format!("/docs/{asset}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 1000, "{asset}");
    }
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/api-docs/command.json"),
        "{initializer}"
    );
    assert!(
        initializer.contains("/api-docs/query.json"),
        "{initializer}"
    );
    app.stop().await;
}

/// The operations of `path` in an OpenAPI document, e.g. `["get", "post"]`.
fn operations(document: &Value, path: &str) -> Vec<String> {
    let mut methods: Vec<String> = document["paths"][path]
        .as_object()
        .unwrap_or_else(|| panic!("{path} is not documented"))
        .keys()
        .filter(|key| ["get", "post", "put", "delete", "patch"].contains(&key.as_str()))
        .cloned()
        .collect();
    methods.sort();
    methods
}

#[tokio::test]
async fn the_openapi_documents_list_the_item_commands_and_queries() {
    let app = TestApp::spawn().await;
    let command: Value = app
        .get("/api-docs/command.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        command["openapi"].as_str().unwrap().starts_with("3."),
        "{command}"
    );
    assert_eq!(operations(&command, "/api/v1/items"), ["post"]);
    assert_eq!(
        operations(&command, "/api/v1/items/{id}"),
        ["delete", "put"]
    );
    let query: Value = app.get("/api-docs/query.json").await.json().await.unwrap();
    assert!(
        query["openapi"].as_str().unwrap().starts_with("3."),
        "{query}"
    );
    assert_eq!(operations(&query, "/api/v1/items"), ["get"]);
    assert_eq!(operations(&query, "/api/v1/items/{id}"), ["get"]);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_documents_describe_the_bearer_scheme_and_the_identity_endpoints() {
    let app = TestApp::spawn().await;
    let (command, query) = documents(&app).await;
    for document in [&command, &query] {
        let scheme = &document["components"]["securitySchemes"]["bearer"];
        assert_eq!(scheme["scheme"], "bearer", "{scheme}");
        assert_eq!(scheme["bearerFormat"], "JWT", "{scheme}");
    }
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
    ] {
        assert_eq!(operations(&command, path), ["post"], "{path}");
    }
    // PUT is the GPT supporter's (seed 004) path, kept as a deprecated alias of PATCH.
    assert_eq!(operations(&command, "/api/v1/users/me"), ["patch", "put"]);
    let put_me = &command["paths"]["/api/v1/users/me"]["put"];
    assert_eq!(put_me["deprecated"], true, "{put_me}");
    assert_eq!(operations(&command, "/api/v1/members/{id}"), ["delete"]);
    assert_eq!(operations(&query, "/api/v1/users/me"), ["get"]);
    assert_eq!(operations(&query, "/api/v1/members"), ["get"]);
    let logout = &command["paths"]["/api/v1/auth/logout"]["post"];
    assert_eq!(logout["security"][0]["bearer"], json!([]), "{logout}");
    let me = &query["paths"]["/api/v1/users/me"]["get"];
    assert!(me["responses"]["401"].is_object(), "{me}");
    let login = &command["paths"]["/api/v1/auth/login"]["post"];
    assert!(login.get("security").is_none(), "{login}");
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_documents_list_the_order_and_board_endpoints() {
    let app = TestApp::spawn().await;
    let (command, query) = documents(&app).await;
    for (path, methods) in [
        ("/api/v1/orders", vec!["post"]),
        ("/api/v1/orders/{number}/{action}", vec!["post"]),
        ("/api/v1/posts", vec!["post"]),
        ("/api/v1/posts/{id}", vec!["delete", "patch", "put"]),
        ("/api/v1/posts/{id}/comments", vec!["post"]),
        ("/api/v1/posts/{id}/comments/{comment_id}", vec!["delete"]),
    ] {
        assert_eq!(operations(&command, path), methods, "{path}");
    }
    for path in [
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/posts",
        "/api/v1/posts/{id}",
        "/api/v1/posts/{id}/comments",
    ] {
        assert_eq!(operations(&query, path), ["get"], "{path}");
    }
    let listing = &query["paths"]["/api/v1/orders"]["get"];
    let params: Vec<&str> = listing["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "page",
        "size",
        "cursor",
        "status",
        "member_id",
        "from",
        "to",
        "sort",
    ] {
        assert!(
            params.contains(&name),
            "{name} is not documented: {params:?}"
        );
    }
    let place = &command["paths"]["/api/v1/orders"]["post"];
    assert_eq!(place["security"][0]["bearer"], json!([]), "{place}");
    let posts = &query["paths"]["/api/v1/posts"]["get"];
    assert!(
        posts.get("security").is_none(),
        "reading the board needs no token"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = TestApp::spawn().await;
    let created = app.post("/api/v1/items", &json!({"name": "lamp"})).await;
    let mut ids = vec![header(&created, "x-request-id")];
    for (method, path) in [
        (Method::GET, "/api/v1/items/1"),
        (Method::GET, "/api/v1/nothing"),
        (Method::PATCH, "/api/v1/items/1"),
        (Method::GET, "/healthz"),
        (Method::GET, "/docs/"),
        (Method::DELETE, "/api/v1/items/1"),
    ] {
        let response = app.request(method, path).send().await.unwrap();
        ids.push(header(&response, "x-request-id"));
    }
    for id in &ids {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id} is not a UUID");
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_kept() {
    let app = TestApp::spawn().await;
    let created = app
        .request(Method::POST, "/api/v1/items")
        .header("X-Request-ID", "order-7-attempt-1")
        .json(&json!({"name": "lamp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&created, "x-request-id"), "order-7-attempt-1");
    let missing = app
        .request(Method::GET, "/api/v1/items/99")
        .header("X-Request-ID", "lookup-99")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&missing, "x-request-id"), "lookup-99");
    let body = json(missing, StatusCode::NOT_FOUND).await;
    assert_eq!(body["error"]["trace_id"], "lookup-99");
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_documents_list_the_chat_endpoints() {
    let app = TestApp::spawn().await;
    let (command, query) = documents(&app).await;
    for (path, methods) in [
        ("/api/v1/chats", vec!["post"]),
        ("/api/v1/chats/{id}/members", vec!["post"]),
        ("/api/v1/chats/{id}/members/{user_id}", vec!["delete"]),
        ("/api/v1/chats/{id}/messages", vec!["post"]),
        ("/api/v1/chats/{id}/read", vec!["post"]),
    ] {
        assert_eq!(operations(&command, path), methods, "{path}");
    }
    for path in [
        "/api/v1/chats",
        "/api/v1/chats/stream",
        "/api/v1/chats/{id}",
        "/api/v1/chats/{id}/stream",
        "/api/v1/chats/{id}/messages",
        "/api/v1/chats/{id}/messages/{seq}",
        "/api/v1/users",
        "/api/v1/users/search",
        "/api/v1/users/{id}/chats",
    ] {
        assert_eq!(operations(&query, path), ["get"], "{path}");
    }
    let stream = &query["paths"]["/api/v1/chats/stream"]["get"];
    assert!(
        stream["responses"]["200"]["content"]["text/event-stream"].is_object(),
        "{stream}"
    );
    app.stop().await;
}

/// The command and query OpenAPI documents.
async fn documents(app: &TestApp) -> (Value, Value) {
    let command = app
        .get("/api-docs/command.json")
        .await
        .json()
        .await
        .unwrap();
    let query = app.get("/api-docs/query.json").await.json().await.unwrap();
    (command, query)
}

#[tokio::test]
async fn the_openapi_documents_list_the_prompts_endpoints() {
    let app = TestApp::spawn().await;
    let (command, query) = documents(&app).await;
    for (path, methods) in [
        ("/api/v1/profiles", vec!["post"]),
        ("/api/v1/profiles/{id}", vec!["delete", "put"]),
        ("/api/v1/ref-books", vec!["post"]),
        ("/api/v1/ref-books/{id}", vec!["delete", "put"]),
        ("/api/v1/ref-data", vec!["post"]),
        ("/api/v1/ref-data/{id}", vec!["delete", "put"]),
        ("/api/v1/public-scripts", vec!["post"]),
        ("/api/v1/public-scripts/{id}", vec!["delete", "put"]),
        ("/api/v1/public-scripts/{id}/order", vec!["put"]),
    ] {
        assert_eq!(operations(&command, path), methods, "{path}");
    }
    for path in [
        "/api/v1/profiles",
        "/api/v1/profiles/{id}",
        "/api/v1/profiles/{id}/dialogues",
        "/api/v1/profiles/{id}/history",
        "/api/v1/ref-books",
        "/api/v1/ref-books/{id}",
        "/api/v1/ref-data",
        "/api/v1/ref-data/{id}",
        "/api/v1/public-scripts",
        "/api/v1/public-scripts/{id}",
    ] {
        assert_eq!(operations(&query, path), ["get"], "{path}");
        let get = &query["paths"][path]["get"];
        assert_eq!(
            get["security"][0]["bearer"],
            json!([]),
            "{path} needs a token"
        );
    }
    for path in ["/api/v1/profiles/{id}", "/api/v1/profiles/{id}/dialogues"] {
        let params = query["paths"][path]["get"]["parameters"].to_string();
        assert!(
            params.contains("\"as_of\""),
            "{path} documents as_of: {params}"
        );
    }
    app.stop().await;
}

/// The value of the sample of `metric` whose labels contain every one of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .find(|line| labels.iter().all(|l| line.contains(l)))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_report_the_process_cpu_and_memory_and_database_connections_in_use() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    json(
        app.get_at(&item_path(1), position_of(&created)).await,
        StatusCode::OK,
    )
    .await;
    let text = metrics(&app).await;
    let memory = sample(&text, "process_resident_memory_bytes", &[]).expect("memory");
    assert!(memory > 1_048_576.0, "{memory} bytes resident");
    let cpu = sample(&text, "process_cpu_seconds_total", &[]).expect("CPU time");
    assert!(cpu > 0.0, "{cpu} s of CPU");
    let main = [r#"pool="main""#];
    assert_eq!(sample(&text, "db_pool_connections_max", &main), Some(8.0));
    // Exported before the first hit, so a rate over it counts that hit.
    assert_eq!(
        sample(
            &text,
            "cache_requests_total",
            &[r#"cache="order_pages""#, r#"outcome="hit""#]
        ),
        Some(0.0),
        "{text}"
    );
    // Exported before the first drop, so an alert on its increase sees that drop.
    assert_eq!(
        sample(&text, "chat_streams_dropped_total", &[r#"reason="slow""#]),
        Some(0.0),
        "{text}"
    );

    // Reads waiting on a lock each hold a connection of the pool until it is released.
    let mut lock = app.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let waiting: Vec<_> = (1..=3)
        .map(|size| {
            let read = app
                .client
                .get(format!("{}/api/v1/items?page=1&size={size}", app.base));
            tokio::spawn(async move { read.send().await.unwrap() })
        })
        .collect();
    let in_use = || async { sample(&metrics(&app).await, "db_pool_connections_in_use", &main) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while in_use().await.is_none_or(|n| n < 3.0) {
        assert!(
            std::time::Instant::now() < deadline,
            "three blocked reads, {:?} connections in use",
            in_use().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    lock.rollback().await.unwrap();
    for read in waiting {
        assert_eq!(read.await.unwrap().status(), StatusCode::OK);
    }
    let text = metrics(&app).await;
    let (in_use, idle) = (
        sample(&text, "db_pool_connections_in_use", &main).unwrap(),
        sample(&text, "db_pool_connections_idle", &main).unwrap(),
    );
    assert!(
        in_use < 3.0 && in_use + idle <= 8.0,
        "{in_use} in use, {idle} idle"
    );
    app.stop().await;
}
