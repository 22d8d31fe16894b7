//! The platform closes connections that send no request within the header timeout
//! (`HTTP_HEADER_READ_TIMEOUT_MS`), and keeps live streams open well past it.

use std::time::Duration;

use crate::support;

use support::{TestApp, chat::room_id, position_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HEADER_TIMEOUT: &str = "--http-header-read-timeout-ms=300";

/// What the platform sends on a raw connection before closing it (bounded, far past the
/// timeout: reaching the bound means it was never closed).
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received))
        .await
        .expect("the platform closes the connection")
        .ok();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(&[HEADER_TIMEOUT]).await;
    let addr = app.base.trim_start_matches("http://");
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(read_to_close(&mut silent).await, "");

    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: platform\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn a_live_chat_stream_outlives_the_header_timeout() {
    let mut app = TestApp::spawn_with(&[HEADER_TIMEOUT]).await;
    // The platform closes a pooled connection once it idles past the timeout, and a request
    // sent on it just then is lost with it: a client keeping connections longer than the
    // server does meets that race (a real one retries), so this one keeps none.
    app.client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let created = app
        .create_group(&ada, "team", std::slice::from_ref(&bob.id))
        .await;
    let room = room_id(&created);
    let path = format!("/api/v1/chats/{room}/stream");
    let mut stream = app
        .events_at(&app.base, &ada, &path, None, position_of(&created))
        .await;
    app.say(&bob, room, "before").await;
    assert_eq!(stream.texts(1).await, ["before"]);
    // Three header timeouts with nothing sent on the stream.
    tokio::time::sleep(Duration::from_millis(900)).await;
    app.say(&bob, room, "after").await;
    assert_eq!(stream.texts(1).await, ["after"]);
    app.stop().await;
}
