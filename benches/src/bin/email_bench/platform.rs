//! Phase `platform`: emails requested through `POST /api/v1/emails` by concurrent
//! clients of one logged-in user, each `202 Accepted` at once and delivered by the
//! platform's worker to the sink.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use benches::http::{self, User, expect_status};
use reqwest::{Client, StatusCode, Url, header::AUTHORIZATION};
use serde_json::json;
use tokio::time::{Instant, sleep};
use uuid::Uuid;

use crate::{
    args::Args,
    ledger::{Sent, parse_message_id},
    round::{self, PhaseResult, TO, Watch, epoch_seconds, subject, text},
};

/// How long the last email may take to read as `sent` once it has arrived (its outcome is
/// appended after the sink's answer, then projected).
const SENT_WITHIN: Duration = Duration::from_secs(10);

pub(crate) async fn platform_phase(args: &Args, watch: &Watch) -> anyhow::Result<PhaseResult> {
    let client = http::client(args.concurrency as usize)?;
    let prefix = format!("email-bench-{}", &Uuid::new_v4().simple().to_string()[..8]);
    let user = http::register_users(&client, &args.url, &prefix, 1, 1)
        .await
        .context("registering the sender")?
        .remove(0);
    let emails = http::endpoint(&args.url, "/api/v1/emails")?;
    eprintln!(
        "platform: {} clients on POST {emails}, {} emails after {} of warm-up",
        args.concurrency, args.emails, args.warmup_emails
    );
    let send = {
        let (client, user, emails) = (client.clone(), user.clone(), emails.clone());
        move |n| {
            let (client, user, emails) = (client.clone(), user.clone(), emails.clone());
            async move { request_email(&client, &emails, &user, n).await }
        }
    };
    let mut result = round::phase(
        watch,
        args.warmup_emails,
        args.emails,
        args.concurrency as usize,
        send,
    )
    .await?;
    if let Some(id) = result.measured.as_ref().and_then(|round| round.last)
        && result.failures("").is_empty()
        && let Err(error) = check_sent(&client, &emails, &user, id, &watch.domain).await
    {
        result.problems.push(format!("{error:#}"));
    }
    Ok(result)
}

/// Requests email `n`; it must be accepted (`202`) as `queued`.
async fn request_email(client: &Client, emails: &Url, user: &User, n: u64) -> anyhow::Result<Sent> {
    let body = json!({ "to": [TO], "subject": subject(n), "text": text(n) });
    let request = client
        .post(emails.clone())
        .header(AUTHORIZATION, user.auth.clone())
        .json(&body)
        .build()?;
    let at = epoch_seconds();
    let response = client.execute(request).await?;
    let body = expect_status(response, StatusCode::ACCEPTED, "POST /api/v1/emails").await?;
    let data = &body["data"];
    ensure!(
        data["status"] == "queued",
        "a requested email is {}, not queued",
        data["status"]
    );
    let id = data["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .context("the answer has no data.id")?;
    Ok(Sent { id, at })
}

/// The email `id` must read as `sent`, with the Message-ID the sink saw, soon after it
/// arrived: the worker recorded what it did.
async fn check_sent(
    client: &Client,
    emails: &Url,
    user: &User,
    id: Uuid,
    domain: &str,
) -> anyhow::Result<()> {
    let url = http::endpoint(emails, &format!("/{id}"))?;
    let deadline = Instant::now() + SENT_WITHIN;
    loop {
        let response = client
            .get(url.clone())
            .header(AUTHORIZATION, user.auth.clone())
            .send()
            .await?;
        let body = expect_status(response, StatusCode::OK, "GET /api/v1/emails/{id}").await?;
        let email = &body["data"];
        if email["status"] == "sent" {
            let sent_as = email["message_id"].as_str().unwrap_or_default();
            ensure!(
                parse_message_id(sent_as, domain) == Some(id),
                "email {id} reads as sent with the Message-ID {sent_as:?}, not <{id}@{domain}>"
            );
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "email {id} arrived but reads as {} after {SENT_WITHIN:?}",
                email["status"]
            );
        }
        sleep(Duration::from_millis(50)).await;
    }
}
