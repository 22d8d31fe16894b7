//! A project's settings and its alert rules, parsed into valid values at the edge; every
//! broken rule is named in one `422`.

use axum::http::Uri;
use email_job::address::{self, MAX_RECIPIENTS};
use schemas::errors::{AlertRules, FrequencyRule};
use serde::{Deserialize, Serialize};
use serde_json::Map;
use service_kit::ApiError;
use utoipa::ToSchema;

use crate::text;

pub const MAX_NAME_CHARS: usize = 100;
pub const DEFAULT_RATE_LIMIT: i64 = 600;
pub const MAX_RATE_LIMIT: i64 = 1_000_000;
pub const MAX_INTERVAL_MINUTES: i64 = 43_200;
pub const MAX_FREQUENCY_MINUTES: i64 = 1_440;
pub const MAX_URL_CHARS: usize = 2_000;

/// Body of `POST /errors/projects` and `PUT /errors/projects/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    /// 1 to 100 characters; surrounding whitespace is trimmed.
    #[schema(example = "shop-backend", min_length = 1, max_length = 100)]
    pub name: String,
    /// Errors accepted per minute, 1 to 1,000,000 (default 600); more are answered `429`.
    #[schema(example = 600, minimum = 1, maximum = 1000000)]
    #[serde(default)]
    pub rate_limit_per_minute: Option<i64>,
}

/// A project's settings that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectFields {
    pub name: String,
    pub rate_limit_per_minute: i64,
}

impl ProjectInput {
    pub fn parse(self) -> Result<ProjectFields, ApiError> {
        let mut broken = Map::new();
        let name = self.name.trim();
        if let Err(rule) = text::check(name, MAX_NAME_CHARS, false, true) {
            broken.insert("name".into(), rule.into());
        }
        let rate_limit_per_minute = self.rate_limit_per_minute.unwrap_or(DEFAULT_RATE_LIMIT);
        if !(1..=MAX_RATE_LIMIT).contains(&rate_limit_per_minute) {
            broken.insert(
                "rate_limit_per_minute".into(),
                format!("must be 1 to {MAX_RATE_LIMIT}, got {rate_limit_per_minute}").into(),
            );
        }
        if !broken.is_empty() {
            return Err(ApiError::invalid_fields(broken));
        }
        Ok(ProjectFields {
            name: name.to_owned(),
            rate_limit_per_minute,
        })
    }
}

/// Alert on an issue that passes `events` errors within `minutes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyInput {
    /// At least 1.
    #[schema(example = 100, minimum = 1)]
    pub events: i64,
    /// 1 to 1,440.
    #[schema(example = 10, minimum = 1, maximum = 1440)]
    pub minutes: i64,
}

/// Body of `PUT /errors/projects/{id}/alert-rules`: the rules whole, replacing the last.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRulesInput {
    /// Alert when a new issue opens.
    pub on_new_issue: bool,
    /// Alert when an error arrives on a resolved issue.
    pub on_regression: bool,
    /// Alert when an issue passes a number of errors in a window; none: never.
    #[serde(default)]
    pub frequency: Option<FrequencyInput>,
    /// At most one alert per issue per this many minutes, 1 to 43,200.
    #[schema(example = 30, minimum = 1, maximum = 43200)]
    pub interval_minutes: i64,
    /// A Slack incoming webhook (or any http(s) URL that takes Slack's payload), at most
    /// 2,000 characters.
    #[schema(example = "https://hooks.slack.com/services/T000/B000/XXXX")]
    #[serde(default)]
    pub slack_webhook_url: Option<String>,
    /// Up to 50 addresses alerts are emailed to, each `address` or `Name <address>`.
    #[schema(example = json!(["oncall@example.com"]), max_items = 50)]
    #[serde(default)]
    pub email_to: Vec<String>,
}

impl AlertRulesInput {
    pub fn parse(self) -> Result<AlertRules, ApiError> {
        let mut broken = Map::new();
        if !(1..=MAX_INTERVAL_MINUTES).contains(&self.interval_minutes) {
            broken.insert(
                "interval_minutes".into(),
                format!(
                    "must be 1 to {MAX_INTERVAL_MINUTES}, got {}",
                    self.interval_minutes
                )
                .into(),
            );
        }
        if let Some(frequency) = &self.frequency {
            if frequency.events < 1 {
                broken.insert(
                    "frequency.events".into(),
                    format!("must be at least 1, got {}", frequency.events).into(),
                );
            }
            if !(1..=MAX_FREQUENCY_MINUTES).contains(&frequency.minutes) {
                broken.insert(
                    "frequency.minutes".into(),
                    format!(
                        "must be 1 to {MAX_FREQUENCY_MINUTES}, got {}",
                        frequency.minutes
                    )
                    .into(),
                );
            }
        }
        if let Some(url) = &self.slack_webhook_url
            && let Err(rule) = check_webhook(url)
        {
            broken.insert("slack_webhook_url".into(), rule.into());
        }
        let email_to = recipients(&self.email_to, &mut broken);
        if !broken.is_empty() {
            return Err(ApiError::invalid_fields(broken));
        }
        Ok(AlertRules {
            on_new_issue: self.on_new_issue,
            on_regression: self.on_regression,
            frequency: self.frequency.map(|f| FrequencyRule {
                events: f.events,
                minutes: f.minutes,
            }),
            interval_minutes: self.interval_minutes,
            slack_webhook_url: self.slack_webhook_url,
            email_to,
        })
    }
}

/// An absolute http(s) URL with a host: a webhook the alert worker can post to.
fn check_webhook(url: &str) -> Result<(), String> {
    let chars = url.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(format!(
            "must be at most {MAX_URL_CHARS} characters, got {chars}"
        ));
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| "must be an absolute http(s) URL".to_owned())?;
    let has_host = uri.authority().is_some_and(|a| !a.host().is_empty());
    if !matches!(uri.scheme_str(), Some("http" | "https")) || !has_host {
        return Err("must be an absolute http(s) URL".into());
    }
    Ok(())
}

/// The recipients in their normal form; each bad one named by its place in the list.
fn recipients(to: &[String], broken: &mut Map<String, serde_json::Value>) -> Vec<String> {
    if to.len() > MAX_RECIPIENTS {
        broken.insert(
            "email_to".into(),
            format!(
                "must list at most {MAX_RECIPIENTS} addresses, got {}",
                to.len()
            )
            .into(),
        );
    }
    let mut normal = Vec::with_capacity(to.len());
    for (index, recipient) in to.iter().enumerate() {
        match address::parse(recipient) {
            Ok(mailbox) => normal.push(mailbox.to_string()),
            Err(rule) => {
                broken.insert(format!("email_to[{index}]"), rule.into());
            }
        }
    }
    normal
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn rules(body: Value) -> Result<AlertRules, ApiError> {
        serde_json::from_value::<AlertRulesInput>(body)
            .unwrap()
            .parse()
    }

    fn broken(err: ApiError) -> Value {
        err.details.unwrap()["fields"].clone()
    }

    #[test]
    fn a_project_name_is_trimmed_and_its_quota_defaults_to_600() {
        let fields = ProjectInput {
            name: "  shop  ".into(),
            rate_limit_per_minute: None,
        }
        .parse()
        .unwrap();
        assert_eq!(fields.name, "shop");
        assert_eq!(fields.rate_limit_per_minute, 600);
    }

    #[test]
    fn a_blank_or_long_name_and_a_quota_out_of_range_are_each_named() {
        for (name, rate) in [(" ", 0), (&"x".repeat(101)[..], 1_000_001)] {
            let fields = broken(
                ProjectInput {
                    name: name.into(),
                    rate_limit_per_minute: Some(rate),
                }
                .parse()
                .unwrap_err(),
            );
            assert!(fields["name"].is_string(), "{fields}");
            assert!(fields["rate_limit_per_minute"].is_string(), "{fields}");
        }
    }

    #[test]
    fn good_rules_are_kept_with_recipients_in_their_normal_form() {
        let parsed = rules(json!({
            "on_new_issue": true, "on_regression": false,
            "frequency": {"events": 10, "minutes": 5}, "interval_minutes": 30,
            "slack_webhook_url": "https://hooks.slack.com/services/T/B/X",
            "email_to": [" ops@example.com ", "Ada <ada@example.com>"],
        }))
        .unwrap();
        assert_eq!(
            parsed.email_to,
            ["ops@example.com", "Ada <ada@example.com>"]
        );
        assert_eq!(
            parsed.frequency,
            Some(FrequencyRule {
                events: 10,
                minutes: 5
            })
        );
    }

    #[test]
    fn every_bad_rule_is_named_by_its_field() {
        let err = rules(json!({
            "on_new_issue": true, "on_regression": true,
            "frequency": {"events": 0, "minutes": 1441}, "interval_minutes": 43_201,
            "slack_webhook_url": "hooks.slack.com/x",
            "email_to": ["ops@example.com", "nobody"],
        }))
        .unwrap_err();
        assert_eq!(err.status, 422);
        let fields = broken(err);
        for field in [
            "interval_minutes",
            "frequency.events",
            "frequency.minutes",
            "slack_webhook_url",
            "email_to[1]",
        ] {
            assert!(fields[field].is_string(), "{field} in {fields}");
        }
        assert!(fields.get("email_to[0]").is_none());
    }

    #[test]
    fn a_webhook_is_an_absolute_http_url_of_at_most_2000_characters() {
        for url in ["ftp://example.com/x", "/hooks/x", "http://", "not a url"] {
            assert!(check_webhook(url).is_err(), "{url}");
        }
        let long = format!("https://example.com/{}", "x".repeat(1981));
        assert!(check_webhook(&long).is_err());
        assert!(check_webhook("http://127.0.0.1:9/hook").is_ok());
    }

    #[test]
    fn at_most_fifty_addresses_are_alerted() {
        let many = vec!["ops@example.com"; 51];
        let err = rules(json!({
            "on_new_issue": true, "on_regression": true, "interval_minutes": 30,
            "email_to": many,
        }))
        .unwrap_err();
        assert!(broken(err)["email_to"].is_string());
    }
}
