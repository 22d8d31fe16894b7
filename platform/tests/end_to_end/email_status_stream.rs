//! An email's status changes, pushed live on its sender's stream (`/api/v1/chats/stream`)
//! and nobody else's, and caught up on reconnection.

use std::time::Duration;

use crate::support::{
    TestApp,
    chat::Events,
    smtp::{SmtpBehaviour, SmtpServer},
};

const USER_STREAM: &str = "/api/v1/chats/stream";

/// The `email` frames of email `id` until it reads `last`, as (status, frame id).
async fn statuses_until(events: &mut Events, id: &str, last: &str) -> Vec<(String, i64)> {
    let mut seen = Vec::new();
    loop {
        let event = events.next_of("email").await;
        if event.data["id"] != id {
            continue;
        }
        let status = event.data["status"].as_str().unwrap().to_owned();
        let frame = event.id.as_deref().unwrap().parse().unwrap();
        assert_eq!(event.data["position"], frame, "{event:?}");
        let done = status == last;
        seen.push((status, frame));
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn an_email_s_status_changes_reach_its_sender_s_stream_and_no_one_else_s() {
    let smtp = SmtpServer::start(SmtpBehaviour {
        defer_first: 1,
        ..Default::default()
    })
    .await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let ada = app.sign_up("ada@example.com").await;
    let eve = app.sign_up("eve@example.com").await;
    // Opened before the request: every change of the email comes after.
    let mut ada_stream = app.events(&app.base, &ada, USER_STREAM, None).await;
    let mut eve_stream = app.events(&app.base, &eve, USER_STREAM, None).await;

    let id = app.request_email(&ada, "bob@example.com", "Live").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = statuses_until(&mut ada_stream, &id, "sent").await;

    let statuses: Vec<&str> = seen.iter().map(|(status, _)| status.as_str()).collect();
    assert_eq!(
        statuses,
        ["queued", "sending", "retrying", "sending", "sent"]
    );
    assert!(
        seen.windows(2).all(|pair| pair[0].1 < pair[1].1),
        "frame ids rise: {seen:?}"
    );
    // Ada's email has settled; whatever eve's stream carries by now, it is none of it.
    while let Some(event) = eve_stream.next_within(Duration::from_millis(500)).await {
        assert_ne!(
            event.kind, "email",
            "another user's email reached eve: {event:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_reconnecting_sender_learns_where_each_email_got_to_meanwhile() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let ada = app.sign_up("ada@example.com").await;
    let mut stream = app.events(&app.base, &ada, USER_STREAM, None).await;
    let id = app.request_email(&ada, "bob@example.com", "Away").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queued = statuses_until(&mut stream, &id, "queued").await;
    let last_seen = queued.last().unwrap().1.to_string();
    drop(stream);

    app.email_in(&ada, &id, "sent").await;
    let mut resumed = app
        .events(&app.base, &ada, USER_STREAM, Some(&last_seen))
        .await;
    let caught_up = resumed.next_of("email").await;
    assert_eq!(caught_up.data["id"], id.as_str());
    assert_eq!(caught_up.data["status"], "sent", "{caught_up:?}");
    assert!(caught_up.id.unwrap().parse::<i64>().unwrap() > last_seen.parse().unwrap());
    app.stop().await;
}
