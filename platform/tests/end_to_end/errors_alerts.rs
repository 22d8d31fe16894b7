//! Alerts on reported errors, delivered to a local Slack-style webhook receiver and
//! through a real SMTP server: a new issue alerts once on each channel, the interval
//! keeps a second error quiet, failures for now are retried (a `429` no sooner than its
//! `Retry-After`), a refusal is given up, an admin tries a given-up alert again, and all
//! of it is listed.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    errors::{new_issue, rules},
    json,
    smtp::{SmtpBehaviour, SmtpServer},
    webhook::{Answer, WebhookReceiver},
};

/// Retries come quickly in tests; a webhook gets a few seconds.
const FAST_ALERTS: [&str; 3] = [
    "--alert-retry-base-ms=200",
    "--alert-retry-max-ms=1000",
    "--alert-http-timeout-ms=3000",
];

/// Long enough for a retry or a second alert the fast settings would make to happen.
const QUIET: Duration = Duration::from_millis(1500);

/// How long a test waits for alerts to settle.
const SETTLE: Duration = Duration::from_secs(60);

/// The first project an admin creates.
const PROJECT: i64 = 1;

async fn spawn(smtp: &SmtpServer, extra: &[&str]) -> TestApp {
    let mut args: Vec<&str> = ADMIN_FLAGS.to_vec();
    args.extend(FAST_ALERTS);
    args.extend(extra);
    TestApp::spawn_mailing(smtp, &args).await
}

/// The platform with project 1, "shop", alerting new issues to `webhook` only.
async fn shop_alerting_to(webhook: &WebhookReceiver, smtp: &SmtpServer) -> (TestApp, Account) {
    shop_alerting_with(webhook, smtp, &[]).await
}

/// [`shop_alerting_to`], the platform started with `extra` settings too.
async fn shop_alerting_with(
    webhook: &WebhookReceiver,
    smtp: &SmtpServer,
    extra: &[&str],
) -> (TestApp, Account) {
    let app = spawn(smtp, extra).await;
    let admin = app.admin().await;
    let project = app.create_project(&admin, "shop", 600).await;
    assert_eq!(project.id, PROJECT);
    app.set_alert_rules(&admin, PROJECT, rules(Some(webhook.url("SECRET")), &[], 30))
        .await;
    (app, admin)
}

impl TestApp {
    /// `GET /api/v1/errors/alerts?<query>` as `admin`: the page's `data`.
    async fn alerts(&self, admin: &Account, query: &str) -> Value {
        let response = self
            .as_user(
                Some(admin),
                Method::GET,
                &format!("/api/v1/errors/alerts?{query}"),
            )
            .send()
            .await
            .unwrap();
        json(response, StatusCode::OK).await["data"].clone()
    }

    /// The alerts of `query` once `settled` holds for the page, polled for at most
    /// [`SETTLE`].
    async fn alerts_when(
        &self,
        admin: &Account,
        query: &str,
        settled: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + SETTLE;
        loop {
            let page = self.alerts(admin, query).await;
            let items = page["items"].as_array().unwrap().clone();
            if settled(&items) {
                return items;
            }
            assert!(Instant::now() < deadline, "alerts did not settle: {page:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the alert rules have decided every event up to `position`.
    async fn rules_passed(&self, position: i64) {
        let deadline = Instant::now() + SETTLE;
        loop {
            let checkpoint: i64 = sqlx::query_scalar(
                "SELECT coalesce(min(position), 0) FROM projection_checkpoints \
                 WHERE projection = 'alerts.rules'",
            )
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
            if checkpoint >= position {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the alert rules stopped at {checkpoint}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn all_settled(alerts: &[Value], count: usize) -> bool {
    alerts.len() == count
        && alerts
            .iter()
            .all(|alert| alert["status"] == "sent" || alert["status"] == "given_up")
}

fn outcomes(alert: &Value) -> Vec<String> {
    alert["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["outcome"].as_str().unwrap_or("none").to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_issue_alerts_once_on_slack_and_by_email_and_a_second_error_alerts_nobody() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let hook = WebhookReceiver::start().await;
    let app = spawn(
        &smtp,
        &["--alert-issue-url=http://dash.test/issues/{issue}"],
    )
    .await;
    let admin = app.admin().await;
    let project = app.create_project(&admin, "shop", 600).await;
    assert_eq!(project.id, PROJECT);
    let webhook = hook.url("SECRET");
    app.set_alert_rules(
        &admin,
        PROJECT,
        rules(Some(webhook), &["ops@example.com"], 30),
    )
    .await;

    let (issue, _) = app
        .log_error(PROJECT, "ValueError: bad <input> & more")
        .await;

    let hooks = hook.wait_for(1, SETTLE).await;
    let mail = smtp.wait_for(1, SETTLE).await;
    let posted = &hooks[0];
    assert_eq!(posted.path, "/services/T0/B0/SECRET");
    assert_eq!(posted.content_type.as_deref(), Some("application/json"));
    let text = posted.body["text"].as_str().unwrap();
    assert!(
        text.starts_with("*[shop] error*: ValueError: bad &lt;input&gt; &amp; more\nNew issue"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("<http://dash.test/issues/{issue}|Open the issue>")),
        "{text}"
    );
    assert_eq!(posted.body["blocks"][0]["type"], "section");
    assert_eq!(posted.body["blocks"][0]["text"]["text"], text);
    assert_eq!(mail[0].rcpt_tos, ["ops@example.com"]);
    assert_eq!(
        mail[0].subject.as_deref(),
        Some("[shop] error: ValueError: bad <input> & more")
    );

    // A second error of the issue, within the interval: nobody hears of it.
    let (_, second) = app
        .log_error(PROJECT, "ValueError: bad <input> & more")
        .await;
    app.rules_passed(second).await;
    let alerts = app
        .alerts_when(&admin, &format!("issue={issue}"), |alerts| {
            all_settled(alerts, 2)
        })
        .await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(hook.hooks().len(), 1, "{:#?}", hook.hooks());
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(app.alerts(&admin, "").await["total"], 2);

    let slack = alerts.iter().find(|a| a["channel"] == "slack").unwrap();
    let email = alerts.iter().find(|a| a["channel"] == "email").unwrap();
    for alert in [slack, email] {
        assert_eq!(alert["status"], "sent", "{alert:#}");
        assert_eq!(alert["reason"], new_issue());
        assert_eq!(alert["project"], PROJECT);
        assert_eq!(alert["issue_id"], issue.to_string());
        assert_eq!(outcomes(alert), ["sent"]);
        assert!(alert["sent_at"].is_string(), "{alert:#}");
    }
    assert_eq!(
        slack["target"],
        format!("http://127.0.0.1:{}/…", hook_port(&hook))
    );
    assert_eq!(slack["last_detail"], "200 ok");
    assert_eq!(email["target"], "ops@example.com");
    // The email's detail is the id of the email requested, which the email API shows.
    let email_id = email["last_detail"].as_str().unwrap();
    let requested = app
        .as_user(
            Some(&admin),
            Method::GET,
            &format!("/api/v1/emails/{email_id}"),
        )
        .send()
        .await
        .unwrap();
    let requested = json(requested, StatusCode::OK).await["data"].clone();
    assert_eq!(requested["to"][0], "ops@example.com");
    let listed = app.alerts(&admin, "").await.to_string();
    assert!(
        !listed.contains("SECRET"),
        "the webhook's path is listed: {listed}"
    );
    app.stop().await;
}

/// The port in a receiver's URL.
fn hook_port(hook: &WebhookReceiver) -> u16 {
    let url = hook.url("x");
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap();
    rest.split('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_webhook_failing_with_500_is_retried_and_the_alert_recorded_sent() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let hook = WebhookReceiver::start().await;
    hook.answer_next(2, Answer::status(500, "internal error"));
    let (app, admin) = shop_alerting_to(&hook, &smtp).await;

    app.log_error(PROJECT, "TimeoutError: upstream").await;

    let hooks = hook.wait_for(3, SETTLE).await;
    let answered: Vec<u16> = hooks.iter().map(|h| h.answered).collect();
    assert_eq!(answered, [500, 500, 200]);
    assert!(
        hooks.iter().all(|h| h.body == hooks[0].body),
        "every attempt posts the same"
    );
    let alerts = app
        .alerts_when(&admin, "status=sent", |alerts| alerts.len() == 1)
        .await;
    let alert = &alerts[0];
    assert_eq!(outcomes(alert), ["deferred", "deferred", "sent"]);
    assert_eq!(alert["attempt_count"], 3);
    assert_eq!(alert["attempts"][0]["detail"], "500 internal error");
    assert!(alert["attempts"][0]["retry_at"].is_string(), "{alert:#}");
    tokio::time::sleep(QUIET).await;
    assert_eq!(hook.hooks().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let hook = WebhookReceiver::start().await;
    hook.answer_next(1, Answer::too_many(2));
    let (app, admin) = shop_alerting_to(&hook, &smtp).await;

    app.log_error(PROJECT, "RateLimited: slack").await;

    let hooks = hook.wait_for(2, SETTLE).await;
    let waited = hooks[1].at - hooks[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, before the 2 s of Retry-After"
    );
    let alerts = app
        .alerts_when(&admin, "status=sent", |alerts| alerts.len() == 1)
        .await;
    let first = &alerts[0]["attempts"][0];
    assert_eq!(outcomes(&alerts[0]), ["deferred", "sent"]);
    assert_eq!(first["detail"], "429 rate_limited");
    // The answer came after the attempt started: the retry is due 2 s after that, or later.
    let at = |field: &str| {
        time::OffsetDateTime::parse(
            first[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert!(
        at("retry_at") - at("started_at") >= time::Duration::seconds(2),
        "{first:#}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_answering_404_is_given_up_at_once() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let hook = WebhookReceiver::start().await;
    hook.answer_next(1, Answer::status(404, "no_service"));
    let (app, admin) = shop_alerting_to(&hook, &smtp).await;

    app.log_error(PROJECT, "KeyError: 'user'").await;

    let alerts = app
        .alerts_when(&admin, "status=given_up", |alerts| alerts.len() == 1)
        .await;
    let alert = &alerts[0];
    assert_eq!(outcomes(alert), ["given_up"]);
    assert_eq!(alert["last_detail"], "404 no_service");
    assert!(alert["given_up_at"].is_string(), "{alert:#}");
    assert!(alert["next_attempt_at"].is_null(), "{alert:#}");
    tokio::time::sleep(QUIET).await;
    assert_eq!(hook.hooks().len(), 1, "a refused alert is not retried");
    assert_eq!(app.alerts(&admin, "status=sent").await["total"], 0);
    app.stop().await;
}

impl TestApp {
    /// `POST /api/v1/errors/alerts/{id}/retry` as `account`.
    async fn retry_alert(&self, account: &Account, id: &str) -> reqwest::Response {
        let path = format!("/api/v1/errors/alerts/{id}/retry");
        self.send_as(Some(account), Method::POST, &path, None).await
    }
}

#[tokio::test]
async fn an_admin_retries_a_given_up_alert_and_it_is_delivered() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let hook = WebhookReceiver::start().await;
    // Two attempts allowed, both answered 500: given up. The receiver then answers 200.
    hook.answer_next(2, Answer::status(500, "internal error"));
    let (app, admin) = shop_alerting_with(&hook, &smtp, &["--alert-max-attempts=2"]).await;

    app.log_error(PROJECT, "ConnectionError: database").await;

    let given_up = app
        .alerts_when(&admin, "status=given_up", |alerts| alerts.len() == 1)
        .await;
    assert_eq!(outcomes(&given_up[0]), ["deferred", "given_up"]);
    let id = given_up[0]["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(QUIET).await;
    assert_eq!(hook.hooks().len(), 2, "a given-up alert waits for an admin");

    let member = app.sign_up("ada@example.com").await;
    let refused = app.retry_alert(&member, &id).await;
    crate::support::error(refused, StatusCode::FORBIDDEN, "FORBIDDEN", "admin").await;
    let unknown = app
        .retry_alert(&admin, &uuid::Uuid::new_v4().to_string())
        .await;
    crate::support::error(unknown, StatusCode::NOT_FOUND, "NOT_FOUND", "alert").await;

    let retried = app.retry_alert(&admin, &id).await;
    let retried = json(retried, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (retried["status"].as_str(), retried["attempts"].as_i64()),
        (Some("pending"), Some(2))
    );

    let hooks = hook.wait_for(3, SETTLE).await;
    let answered: Vec<u16> = hooks.iter().map(|h| h.answered).collect();
    assert_eq!(
        answered,
        [500, 500, 200],
        "tried again, with attempts to spare"
    );
    let sent = app
        .alerts_when(&admin, "status=sent", |alerts| alerts.len() == 1)
        .await;
    assert_eq!(outcomes(&sent[0]), ["deferred", "given_up", "sent"]);
    assert!(sent[0]["given_up_at"].is_null(), "{:#}", sent[0]);

    // Only a given-up alert is retried: a sent one is a conflict naming its status.
    let again = app.retry_alert(&admin, &id).await;
    let conflict = crate::support::error(again, StatusCode::CONFLICT, "CONFLICT", "given-up").await;
    assert_eq!(conflict["details"]["current_status"], "sent");
    tokio::time::sleep(QUIET).await;
    assert_eq!(hook.hooks().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn only_admins_list_alerts() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let app = spawn(&smtp, &[]).await;
    let user = app.sign_up("ada@example.com").await;
    let path = "/api/v1/errors/alerts";
    let anonymous = app.get(path).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .as_user(Some(&user), Method::GET, path)
        .send()
        .await
        .unwrap();
    crate::support::error(response, StatusCode::FORBIDDEN, "FORBIDDEN", "admins").await;
    let admin = app.admin().await;
    let response = app
        .as_user(Some(&admin), Method::GET, &format!("{path}?status=lost"))
        .send()
        .await
        .unwrap();
    let error = crate::support::bad_request(response, "status must be one of").await;
    assert_eq!(error["details"]["allowed"][4], "given_up");
    app.stop().await;
}
