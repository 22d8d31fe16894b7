//! Several workers on one queue: each email is sent by one of them, and a worker killed
//! mid-batch loses nothing, sending again only what the server may already have taken,
//! under the same Message-ID.

use std::{collections::HashMap, time::Duration};

use serde_json::Value;

use crate::support::{
    TestApp,
    email::{SETTLE, ids, mailing, set},
    smtp::{SmtpBehaviour, SmtpServer},
};

/// How many times each Message-ID reached the server.
fn deliveries(smtp: &SmtpServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in smtp.received() {
        *counts.entry(message.message_id.unwrap()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn two_workers_deliver_two_hundred_emails_each_exactly_once() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let app = TestApp::spawn_mailing(&smtp, &[]).await;
    let second = app.second_projector(&mailing(&smtp)).await;
    let ada = app.sign_up("ada@example.com").await;

    let mut emails = Vec::new();
    for n in 0..200 {
        emails.push(
            app.request_email(&ada, "bob@example.com", &format!("Batch {n}"))
                .await,
        );
    }
    let mut message_ids = Vec::new();
    let mut workers = std::collections::HashSet::new();
    for id in ids(&emails) {
        let email = app.email_in(&ada, &id, "sent").await;
        message_ids.push(email["message_id"].as_str().unwrap().to_owned());
        workers.insert(email["attempts"][0]["worker"].as_str().unwrap().to_owned());
    }
    smtp.wait_for(200, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let counts = deliveries(&smtp);
    assert_eq!(counts.len(), 200, "every email arrived");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} emails arrived more than once, e.g. {:?}",
        twice.len(),
        &twice[..twice.len().min(3)]
    );
    assert!(message_ids.iter().all(|id| counts.contains_key(id)));
    // Both workers, most often; either alone is no error.
    println!("emails were sent by {} workers: {workers:?}", workers.len());
    second.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing_and_resends_only_under_the_same_message_id() {
    // A server that keeps each message a while before it says so: when the worker dies,
    // the messages it was sending are with the server, their outcomes unrecorded.
    let smtp = SmtpServer::start(SmtpBehaviour {
        reply_delay_ms: 300,
        ..Default::default()
    })
    .await;
    let app = TestApp::spawn_mailing(&smtp, &["--email-worker-enabled=false"]).await;
    let mut worker_args = mailing(&smtp);
    // A one-second attempt limit: a dead worker's claims run out after two.
    set(&mut worker_args, "--smtp-timeout-ms=1000");
    set(&mut worker_args, "--email-concurrency=8");
    let mut worker = app.worker_process(&worker_args);
    let ada = app.sign_up("ada@example.com").await;

    let mut emails = Vec::new();
    for n in 0..40 {
        emails.push(
            app.request_email(&ada, "bob@example.com", &format!("Killed {n}"))
                .await,
        );
    }
    smtp.wait_for(8, SETTLE).await;
    worker.kill();
    let sent_before = smtp.received().len();
    assert!(sent_before < 40, "the worker died before it was done");

    worker.restart();
    let mut settled: Vec<Value> = Vec::new();
    for id in ids(&emails) {
        settled.push(app.email_in(&ada, &id, "sent").await);
    }
    drop(worker);

    let counts = deliveries(&smtp);
    assert_eq!(counts.len(), 40, "nothing is lost");
    let mut resent = 0;
    for email in &settled {
        let message_id = email["message_id"].as_str().unwrap();
        let times = counts[message_id];
        let attempts = email["attempts"].as_array().unwrap();
        let abandoned = attempts.iter().filter(|a| a["outcome"].is_null()).count();
        // A second copy only of a message whose attempt died without an outcome, and
        // under the Message-ID of the first.
        assert!(
            times == 1 || (times == 2 && abandoned >= 1),
            "{message_id} arrived {times} times: {email}"
        );
        resent += usize::from(times == 2);
    }
    // The worker died with messages at the server: those came again, as allowed.
    assert!(resent >= 1, "no message was under way when the worker died");
    println!("{resent} of 40 messages were sent again after the worker died");
    app.stop().await;
}

#[tokio::test]
async fn a_scheduled_retry_survives_the_worker_s_death() {
    let smtp = SmtpServer::start(SmtpBehaviour {
        defer_first: 1,
        ..Default::default()
    })
    .await;
    let app = TestApp::spawn_mailing(&smtp, &["--email-worker-enabled=false"]).await;
    let mut worker_args = mailing(&smtp);
    // A retry due well after the worker is gone.
    set(&mut worker_args, "--email-retry-base-ms=3000");
    let mut worker = app.worker_process(&worker_args);
    let ada = app.sign_up("ada@example.com").await;

    let id = app.request_email(&ada, "bob@example.com", "Later").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let retrying = app.email_in(&ada, &id, "retrying").await;
    worker.kill();
    worker.restart();
    let sent = app.email_in(&ada, &id, "sent").await;
    drop(worker);

    let attempts = sent["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{sent}");
    assert_eq!(attempts[0]["outcome"], "deferred");
    assert_eq!(attempts[1]["outcome"], "sent");
    let due = retrying["next_attempt_at"].as_str().unwrap();
    let due =
        time::OffsetDateTime::parse(due, &time::format_description::well_known::Rfc3339).unwrap();
    let second = attempts[1]["started_at"].as_str().unwrap();
    let second =
        time::OffsetDateTime::parse(second, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert!(
        second >= due,
        "the retry waited for its time: {second} < {due}"
    );
    assert_eq!(smtp.received().len(), 1);
    app.stop().await;
}
