//! A chat stream whose client reads nothing while its room is busy. The server holds a
//! bounded buffer for it, then drops it (it does not buffer the room's whole traffic for
//! one client), and the other streams of the room get every message meanwhile. The slow
//! client, once it reads again, finds its stream ended after part of the messages and
//! resumes the rest from history with `Last-Event-ID`: none lost, none twice.

use std::time::Duration;

use crate::support::{
    TestApp,
    accounts::Account,
    chat::{PATIENCE, room_id},
};

use futures::future::join_all;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

/// Messages sent while the slow client reads nothing, about 7 MB of frames: well over
/// what a stream's buffer (512 frames), its response channel, the HTTP server's write
/// buffer and the sending socket's buffer hold together (about 4.3 MB here: the kernel
/// grows a loopback socket's send buffer up to its 4 MB maximum).
const MESSAGES: usize = 2400;
/// Messages sent at once.
const SENDERS: usize = 8;

#[tokio::test]
async fn a_stream_whose_client_reads_nothing_is_dropped_without_stalling_the_room() {
    let app = TestApp::spawn().await;
    let alice = app.sign_up("alice@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let room = app
        .create_group(&alice, "busy", std::slice::from_ref(&bob.id))
        .await;
    let (room, created) = (room_id(&room), room["position"].as_i64().unwrap());
    let path = format!("/api/v1/chats/{room}/stream");
    let mut fast = app.events_at(&app.base, &bob, &path, None, created).await;
    let slow = SlowClient::open(&app.base, &alice, &path, created).await;

    let texts: Vec<String> = (0..MESSAGES).map(text).collect();
    let (sender, as_bob) = (&app, &bob);
    let sending = join_all(
        texts
            .chunks(MESSAGES.div_ceil(SENDERS))
            .map(|chunk| async move {
                for text in chunk {
                    sender.say(as_bob, room, text).await;
                }
            }),
    );
    // The other stream is read as the messages come, as a live client does.
    let (_, mut delivered) = tokio::join!(sending, fast.texts(MESSAGES));
    delivered.sort();
    let mut expected = texts.clone();
    expected.sort();
    assert_eq!(
        numbers(&delivered),
        numbers(&expected),
        "the reading stream missed or doubled messages"
    );

    let (ids, frames) = slow.read_to_end().await;
    assert!(
        !ids.is_empty() && ids.len() < MESSAGES,
        "the slow stream held {} of {MESSAGES} messages: it was not dropped",
        ids.len()
    );
    eprintln!(
        "the slow stream held {} of {MESSAGES} messages before it ended",
        ids.len()
    );
    let last = ids.last().unwrap().to_string();
    let mut resumed = app.events(&app.base, &alice, &path, Some(&last)).await;
    let mut all = frames;
    all.extend(resumed.texts(MESSAGES - ids.len()).await);
    all.sort();
    assert_eq!(
        numbers(&all),
        numbers(&expected),
        "held and resumed messages are not the room's, once each"
    );
    while let Some(event) = resumed.next_within(Duration::from_millis(300)).await {
        assert_ne!(
            event.kind, "message",
            "the resumed stream repeats a message"
        );
    }
    app.stop().await;
}

/// The numbers of messages (their first five characters), in order.
fn numbers(texts: &[String]) -> Vec<&str> {
    texts.iter().map(|text| &text[..5]).collect()
}

/// The `n`th message, long (as a busy room's can be: 990 characters of three bytes
/// each), named so it is told apart.
fn text(n: usize) -> String {
    format!("{n:05} {}", "한".repeat(990))
}

/// A stream client over a socket with a small receive buffer, which stops reading after
/// the response head. HTTP/1.0, so the body is the bytes up to the close, unchunked.
struct SlowClient {
    socket: TcpStream,
    head: Vec<u8>,
}

impl SlowClient {
    async fn open(base: &str, account: &Account, path: &str, position: i64) -> Self {
        let addr = base.trim_start_matches("http://").parse().unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut socket = socket.connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Accept: text/event-stream\r\nX-Min-Position: {position}\r\n\r\n",
            account.token
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        // Up to the end of the head: the stream is registered once it is answered.
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut byte = [0; 1];
            let read = tokio::time::timeout(PATIENCE, socket.read(&mut byte))
                .await
                .expect("the stream answers")
                .unwrap();
            assert_eq!(read, 1, "the stream closed before its head");
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.0 200") || head.starts_with(b"HTTP/1.1 200"),
            "stream refused: {}",
            String::from_utf8_lossy(&head)
        );
        Self { socket, head }
    }

    /// Reads what the server still sends until it closes the stream: the ids and texts
    /// of the messages in it.
    async fn read_to_end(mut self) -> (Vec<i64>, Vec<String>) {
        let mut body = Vec::new();
        tokio::time::timeout(PATIENCE, self.socket.read_to_end(&mut body))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the slow stream did not end ({} bytes after {})",
                    body.len(),
                    String::from_utf8_lossy(&self.head)
                )
            })
            .unwrap();
        let body = String::from_utf8(body).unwrap();
        let mut ids = Vec::new();
        let mut texts = Vec::new();
        for frame in body.split("\n\n") {
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|line| line.strip_prefix(name).map(str::to_owned))
            };
            if field("event: ").as_deref() != Some("message") {
                continue;
            }
            ids.push(field("id: ").unwrap().parse().unwrap());
            let data: serde_json::Value = serde_json::from_str(&field("data: ").unwrap()).unwrap();
            texts.push(data["text"].as_str().unwrap().to_owned());
        }
        (ids, texts)
    }
}
