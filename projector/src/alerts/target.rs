//! Where an alert went, as the read model may show it. A webhook URL is a secret (its
//! path is the credential: whoever has it may post to the channel), so only its scheme
//! and host are kept.

use reqwest::Url;
use schemas::errors::AlertChannel;

/// The channel's target for listings: the masked webhook URL, or the addresses.
pub fn shown(channel: &AlertChannel) -> String {
    match channel {
        AlertChannel::Slack { webhook_url } => masked_url(webhook_url),
        AlertChannel::Email { to } => to.join(", "),
    }
}

/// `scheme://host[:port]/…`: no credentials, path, query or fragment.
pub fn masked_url(url: &str) -> String {
    let Ok(url) = Url::parse(url.trim()) else {
        return "(not a URL)".to_owned();
    };
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_keeps_its_scheme_and_host_only() {
        let slack = AlertChannel::Slack {
            webhook_url: "https://hooks.slack.com/services/T000/B000/XXXXSECRET".into(),
        };
        assert_eq!(shown(&slack), "https://hooks.slack.com/…");
        assert_eq!(
            masked_url("http://user:pw@127.0.0.1:8080/hook?token=abc#x"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(masked_url("hooks/secret"), "(not a URL)");
    }

    #[test]
    fn addresses_are_shown_as_they_are() {
        let email = AlertChannel::Email {
            to: vec!["a@example.com".into(), "b@example.com".into()],
        };
        assert_eq!(shown(&email), "a@example.com, b@example.com");
    }
}
