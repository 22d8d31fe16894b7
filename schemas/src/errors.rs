//! The errors context: errors reported by the platform's own services and by other
//! applications (through the Sentry protocol), grouped into issues, alerted on.
//!
//! Streams:
//! - `project-<n>`: a project errors are reported to, its client key, quota and alert
//!   rules. Project 0 is the platform itself; it exists without being created.
//! - `error-<project>-<event id>`: one reported error, [`ErrorLogged`]. One stream per
//!   event makes a retried report (same event id) a no-op instead of a duplicate.
//! - `issue-<id>`: the life of one issue (errors sharing a fingerprint): opened with its
//!   first error, then resolved, muted or reopened by admins. Its errors are not in it, so
//!   loading an issue never reads its (possibly millions of) events.
//! - `alert-<id>`: one alert on one channel, raised by the alert rules and delivered by a
//!   worker, with every attempt, and an admin's request to try a given-up one again.
//! - `log-levels`: the log filters and capture level admins set at run time.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Project streams are named `project-<n>`.
pub const PROJECT_STREAM_PREFIX: &str = "project-";
/// Issue streams are named `issue-<id>`.
pub const ISSUE_STREAM_PREFIX: &str = "issue-";
/// Error streams are named `error-<project>-<event id>`.
pub const ERROR_STREAM_PREFIX: &str = "error-";
/// Alert streams are named `alert-<id>`.
pub const ALERT_STREAM_PREFIX: &str = "alert-";
/// The one stream of log-level changes.
pub const LOG_LEVELS_STREAM: &str = "log-levels";
/// The project the platform's own errors belong to.
pub const PLATFORM_PROJECT: i64 = 0;

/// The event types of a project's stream.
pub const PROJECT_EVENT_TYPES: [&str; 4] = [
    "ProjectCreated",
    "ProjectChanged",
    "ProjectKeyRotated",
    "AlertRulesChanged",
];
/// The event types of an alert's stream.
pub const ALERT_EVENT_TYPES: [&str; 6] = [
    "AlertRaised",
    "AlertAttemptStarted",
    "AlertSent",
    "AlertDeferred",
    "AlertGivenUp",
    "AlertRetryRequested",
];

pub fn project_stream_id(project: i64) -> String {
    format!("{PROJECT_STREAM_PREFIX}{project}")
}

pub fn issue_stream_id(issue: Uuid) -> String {
    format!("{ISSUE_STREAM_PREFIX}{issue}")
}

pub fn error_stream_id(project: i64, event_id: Uuid) -> String {
    format!("{ERROR_STREAM_PREFIX}{project}-{}", event_id.simple())
}

pub fn alert_stream_id(alert: Uuid) -> String {
    format!("{ALERT_STREAM_PREFIX}{alert}")
}

/// The issue of a project's errors that share `fingerprint`: the same everywhere, so the
/// process that reports an error names its issue without asking anyone.
pub fn issue_id(project: i64, fingerprint: &[String]) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(project.to_be_bytes());
    for part in fingerprint {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

crate::named_enum! {
    /// How serious a record is, with Sentry's names.
    // (`parse` also takes other common names, `warn`, `critical`, in any case.)
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
    pub enum Level (any case) {
        Debug = "debug" | "trace",
        Info = "info" | "log",
        Warning = "warning" | "warn",
        Error = "error",
        Fatal = "fatal" | "critical",
    }
}

impl Level {
    /// The level as read models keep it, a number that orders levels (0 `debug` to 4
    /// `fatal`): the highest is `greatest`, and "at least" is a comparison.
    pub fn rank(self) -> i16 {
        self as i16
    }

    /// The level of a stored `rank`; a rank above every level's is the highest level.
    pub fn from_rank(rank: i16) -> Self {
        Self::ALL
            .get(usize::try_from(rank).unwrap_or(0))
            .copied()
            .unwrap_or(Self::Fatal)
    }
}

crate::named_enum! {
    /// Where an issue is in its life.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
    pub enum IssueStatus {
        /// New errors are expected to be looked at.
        Open = "open",
        /// Someone fixed it; a new error reopens it as a regression.
        Resolved = "resolved",
        /// Errors are still counted, but nobody is alerted.
        Muted = "muted",
    }
}

/// One frame of a stack trace, oldest first within its exception.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    pub filename: Option<String>,
    pub function: Option<String>,
    pub module: Option<String>,
    pub lineno: Option<i64>,
    pub colno: Option<i64>,
    /// Whether the frame is the application's own code rather than a library's.
    pub in_app: Option<bool>,
    pub context_line: Option<String>,
}

/// One exception of a chain; the last of an event's exceptions is the one raised.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The exception's type (`ValueError`, `std::io::Error`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
    pub module: Option<String>,
    /// Whether the application handled it (from the SDK's mechanism).
    pub handled: Option<bool>,
    pub frames: Vec<Frame>,
}

/// Where a reported error came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    /// A log record of one of the platform's services.
    Platform {
        /// `command-api`, `query-api`, `projector` or `platform`.
        service: String,
        /// The process that logged it (host and process id).
        instance: String,
        /// The record's target (its module path).
        target: String,
    },
    /// An event a Sentry SDK sent.
    Sdk {
        /// The SDK's name and version (`sentry.python 2.76.0`).
        sdk: Option<String>,
        /// The platform the SDK named (`python`, `native`, `node`).
        platform: Option<String>,
        /// The host that sent it (`server_name`).
        server_name: Option<String>,
        /// The logger that recorded it, when it came from a log record.
        logger: Option<String>,
    },
}

/// An error (or a warning, or a message) was reported. Secrets are masked before it is
/// appended: nothing here holds a password, a token or a cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorLogged {
    /// The reporter's id for the event (a Sentry SDK's `event_id`).
    pub event_id: Uuid,
    pub project: i64,
    /// The issue it belongs to: [`issue_id`] of the project and the fingerprint.
    pub issue_id: Uuid,
    /// What groups it with others: the SDK's explicit fingerprint, or the one the
    /// platform derived (exception type, normalised value, in-app frame; or message).
    pub fingerprint: Vec<String>,
    pub level: Level,
    /// One line: `Type: value` for an exception, else the message.
    pub title: String,
    /// Where it happened, when known: the in-app frame, the transaction, the target.
    pub culprit: Option<String>,
    /// The message, whole.
    pub message: Option<String>,
    /// The exception chain, oldest first; empty for a message.
    pub exceptions: Vec<Exception>,
    pub origin: Origin,
    /// The request it happened in (the platform's `X-Request-ID`, or an SDK's trace id).
    pub request_id: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
    /// Who it happened to (a user id, email, user name or IP address), to count the
    /// users an issue affects.
    pub user: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Everything else the reporter attached: the record's fields, an SDK's `extra`,
    /// `contexts` and `request` (masked).
    pub extra: Value,
    /// How many identical records this one stands for: above 1 when a storm of them
    /// was summarised.
    pub count: i64,
    /// When it happened, as the reporter said.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub occurred_at: OffsetDateTime,
    /// When the platform took it in.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub received_at: OffsetDateTime,
}

/// The first error of a fingerprint arrived: a new issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueOpened {
    pub issue_id: Uuid,
    pub project: i64,
    pub fingerprint: Vec<String>,
    pub title: String,
    pub level: Level,
    pub first_event_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub opened_at: OffsetDateTime,
}

/// An admin marked the issue fixed. A later error reopens it as a regression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueResolved {
    pub issue_id: Uuid,
    pub project: i64,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub resolved_at: OffsetDateTime,
}

/// An admin silenced the issue: its errors are still counted, nobody is alerted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueMuted {
    pub issue_id: Uuid,
    pub project: i64,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub muted_at: OffsetDateTime,
}

/// An admin opened a resolved or muted issue again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueReopened {
    pub issue_id: Uuid,
    pub project: i64,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub reopened_at: OffsetDateTime,
}

/// A rule that an issue crossing a number of events in a window alerts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyRule {
    /// At least 1.
    pub events: i64,
    /// 1 to 1,440.
    pub minutes: i64,
}

/// When and where a project's alerts go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    pub on_new_issue: bool,
    pub on_regression: bool,
    pub frequency: Option<FrequencyRule>,
    /// At most one alert per issue per this many minutes (1 to 43,200).
    pub interval_minutes: i64,
    /// A Slack incoming webhook (`https://hooks.slack.com/services/...`, or any http(s)
    /// URL that takes Slack's payload).
    pub slack_webhook_url: Option<String>,
    /// Addresses alerts are emailed to (at most 50).
    pub email_to: Vec<String>,
}

impl Default for AlertRules {
    /// Alert on new issues and regressions, at most every 30 minutes, to nowhere yet.
    fn default() -> Self {
        Self {
            on_new_issue: true,
            on_regression: true,
            frequency: None,
            interval_minutes: 30,
            slack_webhook_url: None,
            email_to: Vec::new(),
        }
    }
}

/// An admin created a project for an application to report its errors to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreated {
    /// Drawn from a sequence when the project is created; 1 and up.
    pub project: i64,
    /// 1 to 100 characters.
    pub name: String,
    /// The client key of the DSN: 32 lower-case hex digits.
    pub public_key: String,
    /// Errors accepted per minute; more are answered `429`.
    pub rate_limit_per_minute: i64,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: OffsetDateTime,
}

/// An admin renamed a project or changed its quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChanged {
    pub project: i64,
    pub name: String,
    pub rate_limit_per_minute: i64,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub changed_at: OffsetDateTime,
}

/// An admin replaced a project's client key: the old DSN stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectKeyRotated {
    pub project: i64,
    pub public_key: String,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub rotated_at: OffsetDateTime,
}

/// An admin set a project's alert rules (replacing the previous ones whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRulesChanged {
    pub project: i64,
    pub rules: AlertRules,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub changed_at: OffsetDateTime,
}

/// Why an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AlertReason {
    /// The issue was just opened.
    NewIssue,
    /// An error arrived on a resolved issue.
    Regression,
    /// The issue passed `events` errors within `minutes`.
    Frequency { events: i64, minutes: i64 },
}

/// Where an alert goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AlertChannel {
    Slack { webhook_url: String },
    Email { to: Vec<String> },
}

impl AlertChannel {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Slack { .. } => "slack",
            Self::Email { .. } => "email",
        }
    }
}

/// A project's rules called for an alert on one channel; a worker delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRaised {
    pub alert_id: Uuid,
    pub project: i64,
    pub issue_id: Uuid,
    pub reason: AlertReason,
    pub channel: AlertChannel,
    /// The issue's title and level when the alert was raised.
    pub title: String,
    pub level: Level,
    /// The event that set it off.
    pub source_event_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub raised_at: OffsetDateTime,
}

/// A worker claimed the alert and began an attempt to deliver it, holding the claim until
/// `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAttemptStarted {
    pub alert_id: Uuid,
    pub attempt: i32,
    pub worker: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub lease_until: OffsetDateTime,
}

/// The alert reached its channel: the webhook answered `2xx`, or the email was requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSent {
    pub alert_id: Uuid,
    pub attempt: i32,
    /// The webhook's answer (`200 ok`), or the id of the email requested.
    pub detail: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub sent_at: OffsetDateTime,
}

/// An attempt failed for now (a `5xx`, a `429`, no connection); the next is due at
/// `retry_at` (for a `429`, no sooner than its `Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertDeferred {
    pub alert_id: Uuid,
    pub attempt: i32,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub failed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub retry_at: OffsetDateTime,
}

/// The alert was given up: a `4xx` other than `429`, or every attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertGivenUp {
    pub alert_id: Uuid,
    pub attempt: i32,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub given_up_at: OffsetDateTime,
}

/// An admin asked for a given-up alert to be tried again: it is due at once, with a
/// fresh allowance of attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRetryRequested {
    pub alert_id: Uuid,
    /// The admin who asked.
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub requested_at: OffsetDateTime,
}

/// An admin changed how much the services log (`RUST_LOG` syntax) and from which level
/// their records become [`ErrorLogged`] events, for one service or for all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogLevelsChanged {
    /// The service it applies to (`command-api`, `query-api`, `projector`, `platform`);
    /// none for every service.
    pub service: Option<String>,
    /// A `RUST_LOG` filter (`info,command_api=debug`).
    pub filter: String,
    /// Records at this level or above are collected: `error` or `warning`.
    pub capture: Level,
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub changed_at: OffsetDateTime,
}

/// Every event of the errors context.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorsEvent {
    ProjectCreated(ProjectCreated),
    ProjectChanged(ProjectChanged),
    ProjectKeyRotated(ProjectKeyRotated),
    AlertRulesChanged(AlertRulesChanged),
    ErrorLogged(Box<ErrorLogged>),
    IssueOpened(IssueOpened),
    IssueResolved(IssueResolved),
    IssueMuted(IssueMuted),
    IssueReopened(IssueReopened),
    AlertRaised(AlertRaised),
    AlertAttemptStarted(AlertAttemptStarted),
    AlertSent(AlertSent),
    AlertDeferred(AlertDeferred),
    AlertGivenUp(AlertGivenUp),
    AlertRetryRequested(AlertRetryRequested),
    LogLevelsChanged(LogLevelsChanged),
}

impl DomainEvent for ErrorsEvent {
    const CONTEXT: &'static str = "errors";

    fn event_type(&self) -> &'static str {
        match self {
            Self::ProjectCreated(_) => "ProjectCreated",
            Self::ProjectChanged(_) => "ProjectChanged",
            Self::ProjectKeyRotated(_) => "ProjectKeyRotated",
            Self::AlertRulesChanged(_) => "AlertRulesChanged",
            Self::ErrorLogged(_) => "ErrorLogged",
            Self::IssueOpened(_) => "IssueOpened",
            Self::IssueResolved(_) => "IssueResolved",
            Self::IssueMuted(_) => "IssueMuted",
            Self::IssueReopened(_) => "IssueReopened",
            Self::AlertRaised(_) => "AlertRaised",
            Self::AlertAttemptStarted(_) => "AlertAttemptStarted",
            Self::AlertSent(_) => "AlertSent",
            Self::AlertDeferred(_) => "AlertDeferred",
            Self::AlertGivenUp(_) => "AlertGivenUp",
            Self::AlertRetryRequested(_) => "AlertRetryRequested",
            Self::LogLevelsChanged(_) => "LogLevelsChanged",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::ProjectCreated(e) => serde_json::to_value(e),
            Self::ProjectChanged(e) => serde_json::to_value(e),
            Self::ProjectKeyRotated(e) => serde_json::to_value(e),
            Self::AlertRulesChanged(e) => serde_json::to_value(e),
            Self::ErrorLogged(e) => serde_json::to_value(e),
            Self::IssueOpened(e) => serde_json::to_value(e),
            Self::IssueResolved(e) => serde_json::to_value(e),
            Self::IssueMuted(e) => serde_json::to_value(e),
            Self::IssueReopened(e) => serde_json::to_value(e),
            Self::AlertRaised(e) => serde_json::to_value(e),
            Self::AlertAttemptStarted(e) => serde_json::to_value(e),
            Self::AlertSent(e) => serde_json::to_value(e),
            Self::AlertDeferred(e) => serde_json::to_value(e),
            Self::AlertGivenUp(e) => serde_json::to_value(e),
            Self::AlertRetryRequested(e) => serde_json::to_value(e),
            Self::LogLevelsChanged(e) => serde_json::to_value(e),
        };
        value.expect("errors events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "ProjectCreated" => payload(event_type, data).map(Self::ProjectCreated),
            "ProjectChanged" => payload(event_type, data).map(Self::ProjectChanged),
            "ProjectKeyRotated" => payload(event_type, data).map(Self::ProjectKeyRotated),
            "AlertRulesChanged" => payload(event_type, data).map(Self::AlertRulesChanged),
            "ErrorLogged" => payload(event_type, data).map(|e| Self::ErrorLogged(Box::new(e))),
            "IssueOpened" => payload(event_type, data).map(Self::IssueOpened),
            "IssueResolved" => payload(event_type, data).map(Self::IssueResolved),
            "IssueMuted" => payload(event_type, data).map(Self::IssueMuted),
            "IssueReopened" => payload(event_type, data).map(Self::IssueReopened),
            "AlertRaised" => payload(event_type, data).map(Self::AlertRaised),
            "AlertAttemptStarted" => payload(event_type, data).map(Self::AlertAttemptStarted),
            "AlertSent" => payload(event_type, data).map(Self::AlertSent),
            "AlertDeferred" => payload(event_type, data).map(Self::AlertDeferred),
            "AlertGivenUp" => payload(event_type, data).map(Self::AlertGivenUp),
            "AlertRetryRequested" => payload(event_type, data).map(Self::AlertRetryRequested),
            "LogLevelsChanged" => payload(event_type, data).map(Self::LogLevelsChanged),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issue_id_depends_on_the_project_and_every_part_of_the_fingerprint() {
        let parts = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = issue_id(1, &parts(&["ValueError", "bad <int>"]));
        assert_eq!(a, issue_id(1, &parts(&["ValueError", "bad <int>"])));
        assert_ne!(a, issue_id(2, &parts(&["ValueError", "bad <int>"])));
        assert_ne!(a, issue_id(1, &parts(&["ValueErrorbad <int>"])));
        assert_ne!(a, issue_id(1, &parts(&["ValueError", "bad", " <int>"])));
    }

    #[test]
    fn levels_travel_in_lower_case_and_read_their_other_names() {
        for level in Level::ALL {
            assert_eq!(serde_json::to_value(level).unwrap(), level.as_str());
        }
        assert_eq!(Level::parse("WARN"), Some(Level::Warning));
        assert_eq!(Level::parse("critical"), Some(Level::Fatal));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Warning < Level::Error);
    }

    #[test]
    fn a_level_s_rank_is_its_place_in_order_and_reads_back() {
        for (rank, level) in (0..).zip(Level::ALL) {
            assert_eq!(level.rank(), rank);
            assert_eq!(Level::from_rank(rank), level);
        }
        assert_eq!(Level::from_rank(99), Level::Fatal);
    }

    #[test]
    fn a_logged_error_round_trips_through_its_payload() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let fingerprint = vec!["ValueError".to_owned(), "bad <int>".to_owned()];
        let event = ErrorsEvent::ErrorLogged(Box::new(ErrorLogged {
            event_id: Uuid::new_v4(),
            project: 3,
            issue_id: issue_id(3, &fingerprint),
            fingerprint,
            level: Level::Error,
            title: "ValueError: bad 7".into(),
            culprit: Some("app.main in handle".into()),
            message: None,
            exceptions: vec![Exception {
                kind: Some("ValueError".into()),
                value: Some("bad 7".into()),
                frames: vec![Frame {
                    function: Some("handle".into()),
                    in_app: Some(true),
                    ..Frame::default()
                }],
                ..Exception::default()
            }],
            origin: Origin::Sdk {
                sdk: Some("sentry.python 2.76.0".into()),
                platform: Some("python".into()),
                server_name: None,
                logger: None,
            },
            request_id: None,
            release: Some("1.0".into()),
            environment: Some("production".into()),
            user: Some("ada@example.com".into()),
            tags: BTreeMap::from([("os".into(), "linux".into())]),
            extra: serde_json::json!({"attempt": 2}),
            count: 1,
            occurred_at: at,
            received_at: at,
        }));
        let decoded = ErrorsEvent::decode("ErrorLogged", 1, &event.payload()).unwrap();
        assert_eq!(decoded, event);
    }
}
