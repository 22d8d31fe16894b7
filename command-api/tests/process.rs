//! The binary as operators run it: JSON logs carrying the request id, and a graceful
//! stop on SIGTERM; and the refusal to start with a token secret others could know.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use event_log::testing::TestDatabase;

/// What the binary printed when it stopped by itself within 20 s (it is killed otherwise).
fn refusal(secret: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_command-api"));
    // No database is reached: the secret is checked before anything starts.
    command
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env_remove("KAFKA_BROKERS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match secret {
        Some(secret) => command.env("JWT_SECRET", secret),
        None => command.env_remove("JWT_SECRET"),
    };
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("command-api started with JWT_SECRET {secret:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!exit.success(), "exit status {exit}");
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut printed).unwrap();
    printed
}

#[test]
fn refuses_to_start_without_a_strong_shared_token_secret() {
    assert!(refusal(None).contains("JWT_SECRET is not set"));
    assert!(refusal(Some("change-me-outside-development")).contains("at least 32"));
    assert!(refusal(Some("change-me-outside-development-0123456789")).contains("placeholder"));
}

#[tokio::test]
async fn sigterm_drains_a_request_in_flight_and_stops_and_logs_are_json_with_the_request_id() {
    let db = TestDatabase::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_command-api"))
        .env("DATABASE_URL", &db.url)
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("JWT_SECRET", "9f2c4e1ab07d6e35c8f14a92b3d0e7c6")
        .env_remove("KAFKA_BROKERS")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "command-api did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = client
        .post(format!("{base}/api/v1/items"))
        .header("x-request-id", "req-under-test")
        .json(&serde_json::json!({ "name": "lamp" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "req-under-test");

    // A request in flight when SIGTERM comes: its headers are read and its handler waits
    // for the body (the server asked for it with `100 Continue`).
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).unwrap();
    in_flight
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = r#"{"name":"sent after SIGTERM"}"#;
    write!(
        in_flight,
        "POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nX-Request-ID: req-in-flight\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(in_flight.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 100"), "{line:?}");
    reader.read_line(&mut line).unwrap();

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopping = Instant::now();
    // Draining: no new connection is taken...
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "still accepting after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and the request in flight completes with its answer.
    in_flight.write_all(body.as_bytes()).unwrap();
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    assert!(status_line.starts_with("HTTP/1.1 201"), "{status_line:?}");
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit status {exit}");

    let lines: Vec<serde_json::Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|line| serde_json::from_str(&line.unwrap()).expect("every log line is JSON"))
        .collect();
    for request_id in ["req-under-test", "req-in-flight"] {
        let logged = lines
            .iter()
            .any(|line| line["span"]["request_id"] == request_id && line["status"] == 201);
        assert!(
            logged,
            "no log line with the request id {request_id} and status: {lines:#?}"
        );
    }
    db.drop().await;
}
