//! What a connection may take, over raw TCP: a client that sends its headers a byte at a
//! time is cut off, an idle keep-alive connection is closed, and a live SSE stream lasts
//! past both.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use axum::{
    Router,
    response::sse::{Event, Sse},
    routing::get,
};
use service_kit::connections::{self, ConnectionLimits};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(300);
/// A bound on each test, far past the timeouts: reaching it means nothing was closed.
const PATIENCE: Duration = Duration::from_secs(20);

/// Events the stream sends, one every 100 ms: it lasts well past the header timeout.
const EVENTS: usize = 12;

fn router() -> Router {
    Router::new().route("/", get(|| async { "hello" })).route(
        "/stream",
        get(|| async {
            let events = futures::stream::unfold(0, |n| async move {
                if n == EVENTS {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let event = Event::default().data(format!("event {n}"));
                Some((Ok::<_, Infallible>(event), n + 1))
            });
            Sse::new(events)
        }),
    )
}

/// Serves [`router`] with the test's limits until the token is cancelled.
async fn serve() -> (SocketAddr, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port to listen on");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let stop = CancellationToken::new();
    let limits = ConnectionLimits {
        header_read_timeout: HEADER_READ_TIMEOUT,
    };
    let stopped = stop.clone();
    tokio::spawn(async move {
        connections::serve(listener, router(), limits, stopped.cancelled_owned()).await;
    });
    (addr, stop)
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_client_sending_its_headers_a_byte_at_a_time_is_cut_off() {
    let (addr, stop) = serve().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    // Two hundred bytes of one header, ten a second: the head would take 20 s to arrive.
    let (mut reader, mut writer) = stream.into_split();
    let trickle = async {
        writer.write_all(b"X-Slow: ").await?;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            writer.write_all(b"a").await?;
        }
        std::io::Result::Ok(())
    };
    let mut received = Vec::new();
    let closed = reader.read_to_end(&mut received);
    tokio::select! {
        // Writing fails once the server has closed the connection.
        sent = trickle => assert!(sent.is_err(), "the whole slow header was taken in"),
        _ = closed => {}
    }
    let answer = String::from_utf8_lossy(&received);
    assert!(!answer.contains("hello"), "no request was served: {answer}");
    stop.cancel();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (addr, stop) = serve().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // The answer, then nothing more is asked: the connection idles until closed.
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    stop.cancel();
}

#[tokio::test]
async fn a_connection_that_never_sends_is_closed() {
    let (addr, stop) = serve().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    assert_eq!(read_to_close(&mut stream).await, "");
    stop.cancel();
}

#[tokio::test]
async fn a_live_stream_outlives_the_header_timeout() {
    let (addr, stop) = serve().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /stream HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for n in 0..EVENTS {
        assert!(
            answer.contains(&format!("data: event {n}\n")),
            "event {n} missing from {answer}"
        );
    }
    stop.cancel();
}

#[tokio::test]
async fn stopping_does_not_wait_for_connections_that_sent_nothing_or_idle() {
    // A header timeout far longer than the test's patience: the drain must not wait it out.
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(600),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let server = tokio::spawn(async move {
        connections::serve(listener, router(), limits, stopped.cancelled_owned()).await;
    });
    let _silent = TcpStream::connect(addr).await.unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0; 12];
    idle.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    // Both connections are accepted and waiting before the stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();
    tokio::time::timeout(PATIENCE, server)
        .await
        .expect("the server stops without waiting for silent or idle connections")
        .unwrap();
}
