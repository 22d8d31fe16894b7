//! Email delivery through a real SMTP server: accepted, deferred, refused, a server that
//! is down for a while, attempts spent and an operator's retry.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{
    TestApp,
    accounts::ADMIN_FLAGS,
    email::ids,
    json,
    smtp::{SmtpBehaviour, SmtpServer},
};

/// Long enough for a retry the fast test settings would make to have happened.
const QUIET: Duration = Duration::from_millis(1500);

fn outcomes(email: &Value) -> Vec<String> {
    email["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["outcome"].as_str().unwrap_or("none").to_owned())
        .collect()
}

#[tokio::test]
async fn a_requested_email_is_delivered_once_with_what_its_status_shows() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let ada = app.sign_up("ada@example.com").await;

    let requested = app
        .request_email(&ada, "bob@example.com", "Hello Bob")
        .await;
    assert_eq!(requested["status"], "queued");
    let id = requested["id"].as_str().unwrap();
    let email = app.email_in(&ada, id, "sent").await;

    let received = smtp.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(smtp.received().len(), 1, "{received:?}");
    let message = &received[0];
    assert_eq!(
        message.message_id.as_ref(),
        email["message_id"].as_str().map(str::to_owned).as_ref()
    );
    assert_eq!(message.subject.as_deref(), Some("Hello Bob"));
    assert_eq!(message.rcpt_tos, ["bob@example.com"]);
    assert_eq!(message.mail_from, "no-reply@platform.test");
    assert_eq!(outcomes(&email), ["sent"]);
    let reply = email["attempts"][0]["reply"].as_str().unwrap();
    assert!(reply.starts_with("250"), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn a_server_that_defers_twice_gets_the_message_on_the_third_attempt() {
    let smtp = SmtpServer::start(SmtpBehaviour {
        defer_first: 2,
        ..Default::default()
    })
    .await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let ada = app.sign_up("ada@example.com").await;

    let id = app
        .request_email(&ada, "bob@example.com", "Third time")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let email = app.email_in(&ada, &id, "sent").await;

    assert_eq!(outcomes(&email), ["deferred", "deferred", "sent"]);
    for attempt in &email["attempts"].as_array().unwrap()[..2] {
        let reply = attempt["reply"].as_str().unwrap();
        assert!(reply.contains("451"), "{reply}");
        assert!(attempt["retry_at"].is_string(), "{attempt}");
    }
    tokio::time::sleep(QUIET).await;
    let received = smtp.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let message_id = email["message_id"].as_str().unwrap();
    assert_eq!(received[0].message_id.as_deref(), Some(message_id));
    let refused = smtp.refused();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|r| r.code == 451 && r.message_id.as_deref() == Some(message_id)),
        "every attempt carries the same Message-ID: {refused:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_refusal_fails_the_email_without_a_second_attempt() {
    let smtp = SmtpServer::start(SmtpBehaviour {
        reject: true,
        ..Default::default()
    })
    .await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let ada = app.sign_up("ada@example.com").await;

    let id = app
        .request_email(&ada, "nobody@example.com", "Refused")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let email = app.email_in(&ada, &id, "failed").await;
    let reply = email["last_reply"].as_str().unwrap();
    assert!(reply.contains("550"), "{reply}");

    tokio::time::sleep(QUIET).await;
    let email = app.email(&ada, &id).await;
    assert_eq!(outcomes(&email), ["failed"]);
    assert_eq!(smtp.refused().len(), 1);
    assert!(smtp.received().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn mail_queued_while_the_server_is_down_arrives_once_when_it_is_back() {
    let mut smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    smtp.stop().await;
    // Enough attempts to outlast the outage however the test is scheduled.
    let app = TestApp::spawn_mailing(&smtp, &["--email-max-attempts=30"]).await;
    let ada = app.sign_up("ada@example.com").await;

    let mut emails = Vec::new();
    for n in 0..5 {
        emails.push(
            app.request_email(&ada, "bob@example.com", &format!("Down {n}"))
                .await,
        );
    }
    // Several backoffs pass with the server down.
    for id in ids(&emails) {
        app.email_when(&ada, &id, |email| {
            email["status"] == "retrying" && email["attempts"].as_array().unwrap().len() >= 3
        })
        .await;
    }
    smtp.restart(SmtpBehaviour::default()).await;
    let mut message_ids = Vec::new();
    for id in ids(&emails) {
        let email = app.email_in(&ada, &id, "sent").await;
        let first = &email["attempts"][0]["reply"];
        assert!(
            first.is_string(),
            "a refused connection is recorded: {email}"
        );
        message_ids.push(email["message_id"].as_str().unwrap().to_owned());
    }

    smtp.wait_for(5, Duration::from_secs(10)).await;
    tokio::time::sleep(QUIET).await;
    let mut received: Vec<String> = smtp
        .received()
        .into_iter()
        .map(|m| m.message_id.unwrap())
        .collect();
    received.sort();
    message_ids.sort();
    assert_eq!(received, message_ids, "every email arrives, once");
    app.stop().await;
}

#[tokio::test]
async fn an_email_out_of_attempts_is_dead_until_an_admin_retries_it() {
    let smtp = SmtpServer::start(SmtpBehaviour {
        defer_first: 2,
        ..Default::default()
    })
    .await;
    let mut extra = vec!["--email-max-attempts=2"];
    extra.extend(ADMIN_FLAGS);
    let app = TestApp::spawn_mailing(&smtp, &extra).await;
    let ada = app.sign_up("ada@example.com").await;
    let admin = app.admin().await;

    let id = app
        .request_email(&ada, "bob@example.com", "Persistent")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dead = app.email_in(&ada, &id, "dead").await;
    assert_eq!(outcomes(&dead), ["deferred", "dead"]);

    let listed = app
        .as_user(Some(&admin), Method::GET, "/api/v1/emails?status=dead")
        .send()
        .await
        .unwrap();
    let listed = json(listed, StatusCode::OK).await["data"].clone();
    assert_eq!(
        ids(listed["items"].as_array().unwrap()),
        std::slice::from_ref(&id)
    );

    let path = format!("/api/v1/emails/{id}/retry");
    let refused = app
        .as_user(Some(&ada), Method::POST, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "only an admin retries"
    );
    let retried = app
        .as_user(Some(&admin), Method::POST, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(retried, StatusCode::OK).await["data"]["status"],
        "queued"
    );

    let sent = app.email_in(&ada, &id, "sent").await;
    assert_eq!(outcomes(&sent), ["deferred", "dead", "sent"]);
    assert_eq!(smtp.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_largest_email_allowed_travels_every_transport_and_arrives_whole() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let ada = app.sign_up("ada@example.com").await;
    // 100,000 characters of four bytes each, in both bodies: the largest event the
    // request can make, which the log, the relay and the worker all carry.
    let text = "\u{1F600}".repeat(100_000);
    let body = serde_json::json!({
        "to": ["bob@example.com"],
        "subject": "Large",
        "text": text,
        "html": format!("<p>{text}</p>").chars().take(100_000).collect::<String>(),
    });
    let response = app.post_email(&ada, &body, None).await;
    let id = app.accepted(&ada, response).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.email_in(&ada, &id, "sent").await;
    let received = smtp.wait_for(1, Duration::from_secs(10)).await;
    let eml = String::from_utf8_lossy(&smtp.eml(received[0].n)).into_owned();
    assert!(
        eml.len() > 800_000,
        "the message arrived whole: {} bytes",
        eml.len()
    );
    app.stop().await;
}
