//! The SMTP test server itself (`support::smtp`): what it spools, how it defers, rejects
//! and slows down deliveries, and that a restart keeps its port and numbering. The client
//! here is a few SMTP lines over a plain TCP stream, enough to test the harness.

use crate::support::smtp::{SmtpBehaviour, SmtpServer};

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufStream},
    net::TcpStream,
};

const FROM: &str = "noreply@platform.test";
const TO: &str = "member@example.test";

#[tokio::test]
async fn an_accepted_message_is_spooled_with_its_envelope_and_decoded_headers() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;

    let mut session = Session::open(server.port()).await.unwrap();
    let reply = session.deliver("<first@platform.test>").await;
    session.quit().await;

    assert!(reply.starts_with("250 2.0.0 Ok: queued as 1"), "{reply}");
    let received = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1, "{received:?}");
    let message = &received[0];
    assert_eq!(message.n, 1);
    assert_eq!(message.mail_from, FROM);
    assert_eq!(message.rcpt_tos, [TO]);
    assert_eq!(message.message_id.as_deref(), Some("<first@platform.test>"));
    assert_eq!(message.subject.as_deref(), Some("Café ready"));
    let eml = String::from_utf8(server.eml(1)).unwrap();
    assert!(eml.ends_with("\r\nYour order is ready.\r\n"), "{eml}");
}

#[tokio::test]
async fn a_deferring_server_answers_451_then_accepts_the_retry() {
    let server = SmtpServer::start(SmtpBehaviour {
        defer_first: 1,
        ..SmtpBehaviour::default()
    })
    .await;

    let mut session = Session::open(server.port()).await.unwrap();
    let first = session.deliver("<retried@platform.test>").await;
    let second = session.deliver("<retried@platform.test>").await;
    session.quit().await;

    assert!(first.starts_with("451 4.3.0"), "{first}");
    assert!(second.starts_with("250 2.0.0 Ok: queued as 1"), "{second}");
    let refused = server.refused();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].code, 451);
    assert_eq!(
        refused[0].message_id.as_deref(),
        Some("<retried@platform.test>")
    );
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_rejecting_server_answers_550_and_keeps_nothing() {
    let server = SmtpServer::start(SmtpBehaviour {
        reject: true,
        ..SmtpBehaviour::default()
    })
    .await;

    let mut session = Session::open(server.port()).await.unwrap();
    let reply = session.deliver("<rejected@platform.test>").await;
    session.quit().await;

    assert!(reply.starts_with("550 5.1.1"), "{reply}");
    let refused = server.refused();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].code, 550);
    assert_eq!(refused[0].rcpt_tos, [TO]);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_restarted_server_keeps_its_port_and_numbers_on_with_its_new_behaviour() {
    let mut server = SmtpServer::start(SmtpBehaviour::default()).await;
    let mut session = Session::open(server.port()).await.unwrap();
    session.deliver("<before@platform.test>").await;
    session.quit().await;

    server.stop().await;
    assert!(Session::open(server.port()).await.is_err());

    server
        .restart(SmtpBehaviour {
            delay_ms: 300,
            ..SmtpBehaviour::default()
        })
        .await;
    let mut session = Session::open(server.port()).await.unwrap();
    let started = Instant::now();
    let reply = session.deliver("<after@platform.test>").await;
    let waited = started.elapsed();
    session.quit().await;

    assert!(reply.starts_with("250 2.0.0 Ok: queued as 2"), "{reply}");
    assert!(
        waited >= Duration::from_millis(300),
        "answered in {waited:?}"
    );
    let received = server.wait_for(2, Duration::from_secs(5)).await;
    let numbers: Vec<u64> = received.iter().map(|message| message.n).collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(server.url(), format!("smtp://127.0.0.1:{}", server.port()));
}

/// One SMTP connection, past the greeting and EHLO.
struct Session(BufStream<TcpStream>);

impl Session {
    async fn open(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let mut session = Self(BufStream::new(stream));
        let greeting = session.reply().await;
        assert!(greeting.starts_with("220"), "{greeting}");
        let ehlo = session.command("EHLO client.test").await;
        assert!(ehlo.starts_with("250"), "{ehlo}");
        Ok(session)
    }

    /// Sends one message from `FROM` to `TO` and returns the reply to its DATA.
    async fn deliver(&mut self, message_id: &str) -> String {
        for (line, code) in [
            (format!("MAIL FROM:<{FROM}>"), "250"),
            (format!("RCPT TO:<{TO}>"), "250"),
            ("DATA".to_owned(), "354"),
        ] {
            let reply = self.command(&line).await;
            assert!(reply.starts_with(code), "{line}: {reply}");
        }
        let message = format!(
            "From: <{FROM}>\r\nTo: <{TO}>\r\nMessage-ID: {message_id}\r\n\
             Subject: =?utf-8?q?Caf=C3=A9_ready?=\r\n\r\nYour order is ready.\r\n."
        );
        self.command(&message).await
    }

    async fn quit(mut self) {
        let reply = self.command("QUIT").await;
        assert!(reply.starts_with("221"), "{reply}");
    }

    /// Sends a line and returns the last line of the reply.
    async fn command(&mut self, line: &str) -> String {
        self.0
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.0.flush().await.unwrap();
        self.reply().await
    }

    /// Reads a reply, whose lines but the last have a `-` after the code.
    async fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            let read = self.0.read_line(&mut line).await.unwrap();
            assert!(read > 0, "the server closed the connection");
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_owned();
            }
        }
    }
}
