//! Delivery to a Slack incoming webhook: one `POST` of the message's JSON, and the
//! answer read as what to do next. Slack answers `200 ok`; `429` with `Retry-After` when
//! posting too fast; `4xx` with a plain-text reason (`invalid_token`, `no_service`) when
//! the hook is wrong, which no retry mends.

use std::time::Duration;

use reqwest::{Client, StatusCode, header::RETRY_AFTER, redirect};
use serde_json::Value;
use time::OffsetDateTime;

use super::{job::Delivery, message::truncate, retry_after};

/// The most of an answer's body kept as its detail.
const DETAIL_CHARS: usize = 200;

/// The HTTP client every attempt shares (its connections are reused), each request
/// bounded by `timeout`. Redirects are not followed: a webhook that moved is refused.
pub fn client(timeout: Duration) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(redirect::Policy::none())
        .user_agent(concat!("platform-alerts/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// Posts `payload` to `url` and says how it went.
pub async fn post(client: &Client, url: &str, payload: &Value) -> Delivery {
    let response = match client.post(url.trim()).json(payload).send().await {
        Ok(response) => response,
        Err(err) => return failed(&err),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Only a few words are kept, but the body is read whole so the connection is reused.
    let body = response.text().await.unwrap_or_default();
    let answered = schemas::clock::now();
    classify(status, retry_after.as_deref(), &body, answered)
}

/// What an answer means: `2xx` delivered; `429` and `5xx` retried (a `429` no sooner than
/// its `Retry-After`); anything else refused for good.
pub fn classify(
    status: StatusCode,
    retry_after: Option<&str>,
    body: &str,
    now: OffsetDateTime,
) -> Delivery {
    let detail = detail(status, body);
    if status.is_success() {
        Delivery::Delivered(detail)
    } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Delivery::Retry {
            reason: detail,
            not_before: retry_after.and_then(|value| retry_after::parse(value, now)),
        }
    } else {
        Delivery::Refused(detail)
    }
}

/// `200 ok`: the status code and the first words of the body, on one line.
fn detail(status: StatusCode, body: &str) -> String {
    let words = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if words.is_empty() {
        status.canonical_reason().unwrap_or_default().to_owned()
    } else {
        words
    };
    truncate(
        format!("{} {text}", status.as_u16()).trim_end(),
        DETAIL_CHARS,
    )
}

/// A request that got no answer: no connection, a timeout, a broken exchange; all retried.
/// A URL that cannot be requested at all is refused.
fn failed(err: &reqwest::Error) -> Delivery {
    if err.is_builder() {
        return Delivery::Refused(format!("not a webhook URL: {}", without_url(err)));
    }
    let reason = if err.is_timeout() {
        "no answer in time".to_owned()
    } else if err.is_connect() {
        format!("cannot connect: {}", without_url(err))
    } else {
        format!("request failed: {}", without_url(err))
    };
    Delivery::Retry {
        reason,
        not_before: None,
    }
}

/// The error's text without the URL, which is a secret, and with its causes.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "the webhook");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    truncate(&text, DETAIL_CHARS)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-08 10:00 UTC);

    #[test]
    fn slacks_ok_is_delivered_with_its_answer() {
        assert_eq!(
            classify(StatusCode::OK, None, "ok", NOW),
            Delivery::Delivered("200 ok".into())
        );
        assert_eq!(
            classify(StatusCode::NO_CONTENT, None, "", NOW),
            Delivery::Delivered("204 No Content".into())
        );
    }

    #[test]
    fn too_many_requests_waits_for_its_retry_after() {
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                Some("30"),
                "rate_limited",
                NOW
            ),
            Delivery::Retry {
                reason: "429 rate_limited".into(),
                not_before: Some(datetime!(2026-12-08 10:00:30 UTC)),
            }
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, None, "", NOW),
            Delivery::Retry {
                reason: "429 Too Many Requests".into(),
                not_before: None,
            }
        );
    }

    #[test]
    fn server_errors_are_retried_and_other_refusals_are_final() {
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, None, "", NOW),
            Delivery::Retry { .. }
        ));
        assert_eq!(
            classify(StatusCode::NOT_FOUND, None, "no_service\n", NOW),
            Delivery::Refused("404 no_service".into())
        );
        assert!(matches!(
            classify(StatusCode::MOVED_PERMANENTLY, None, "", NOW),
            Delivery::Refused(_)
        ));
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_without_naming_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = client(Duration::from_secs(5)).unwrap();
        let url = format!("http://127.0.0.1:{port}/services/SECRET");
        let delivery = post(&client, &url, &serde_json::json!({"text": "x"})).await;
        let Delivery::Retry { reason, not_before } = delivery else {
            panic!("retried: {delivery:?}");
        };
        assert!(reason.starts_with("cannot connect"), "{reason}");
        assert!(!reason.contains("SECRET"), "{reason}");
        assert_eq!(not_before, None);
    }
}
