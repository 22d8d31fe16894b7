//! Whether an event calls for an alert: the alert rules as pure functions of what the
//! reactor knows of the issue and of the event, so a replay decides as the first run did.

use schemas::errors::{AlertChannel, AlertReason, AlertRules, IssueStatus};
use time::{Duration, OffsetDateTime};

/// The longest frequency window (a day): older minutes are never counted.
pub const LONGEST_WINDOW_MINUTES: i64 = 1_440;

/// What the reactor knows of an issue when an event about it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueState {
    pub status: IssueStatus,
    /// When the last alert for it was raised.
    pub last_alert_at: Option<OffsetDateTime>,
}

/// What happened to the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// It was just opened.
    Opened,
    /// An error of it was logged; `window` errors (this one included) fall within the
    /// frequency rule's window, when the project has one.
    Error { window: i64 },
}

/// The reason to alert on `trigger` at `at` (the event's recorded time), if any: never for
/// a muted issue, never within the project's interval of the issue's last alert, never
/// with nowhere to send it. A new issue and a regression come before the frequency rule.
pub fn decide(
    rules: &AlertRules,
    issue: &IssueState,
    trigger: Trigger,
    at: OffsetDateTime,
) -> Option<AlertReason> {
    if issue.status == IssueStatus::Muted || channels(rules).is_empty() {
        return None;
    }
    let interval = Duration::minutes(rules.interval_minutes.max(1));
    if issue.last_alert_at.is_some_and(|last| at < last + interval) {
        return None;
    }
    match trigger {
        Trigger::Opened => rules.on_new_issue.then_some(AlertReason::NewIssue),
        Trigger::Error { .. } if issue.status == IssueStatus::Resolved && rules.on_regression => {
            Some(AlertReason::Regression)
        }
        Trigger::Error { window } => {
            rules
                .frequency
                .filter(|rule| window >= rule.events)
                .map(|rule| AlertReason::Frequency {
                    events: rule.events,
                    minutes: rule.minutes,
                })
        }
    }
}

/// Where a project's alerts go: its Slack webhook, then its addresses, each one alert.
pub fn channels(rules: &AlertRules) -> Vec<AlertChannel> {
    let slack = rules
        .slack_webhook_url
        .as_ref()
        .filter(|url| !url.trim().is_empty())
        .map(|url| AlertChannel::Slack {
            webhook_url: url.clone(),
        });
    let email = (!rules.email_to.is_empty()).then(|| AlertChannel::Email {
        to: rules.email_to.clone(),
    });
    slack.into_iter().chain(email).collect()
}

/// The minute `at` falls in: errors are counted per minute.
pub fn minute_of(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_second(0)
        .and_then(|at| at.replace_nanosecond(0))
        .expect("second 0 and nanosecond 0 are valid")
}

/// The first minute a window of `minutes` ending with the minute of `at` counts: the
/// window holds that minute and the `minutes - 1` before it.
pub fn window_start(at: OffsetDateTime, minutes: i64) -> OffsetDateTime {
    let minutes = minutes.clamp(1, LONGEST_WINDOW_MINUTES);
    minute_of(at) - Duration::minutes(minutes - 1)
}

#[cfg(test)]
mod tests {
    use schemas::errors::FrequencyRule;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-12-08 10:00:30 UTC);

    fn rules() -> AlertRules {
        AlertRules {
            slack_webhook_url: Some("https://hooks.slack.com/services/T/B/x".into()),
            ..AlertRules::default()
        }
    }

    fn open() -> IssueState {
        IssueState {
            status: IssueStatus::Open,
            last_alert_at: None,
        }
    }

    #[test]
    fn a_new_issue_alerts_when_the_rules_ask_for_it() {
        assert_eq!(
            decide(&rules(), &open(), Trigger::Opened, T0),
            Some(AlertReason::NewIssue)
        );
        let quiet = AlertRules {
            on_new_issue: false,
            ..rules()
        };
        assert_eq!(decide(&quiet, &open(), Trigger::Opened, T0), None);
    }

    #[test]
    fn nothing_alerts_without_a_channel() {
        let nowhere = AlertRules {
            slack_webhook_url: Some("  ".into()),
            ..AlertRules::default()
        };
        assert_eq!(decide(&nowhere, &open(), Trigger::Opened, T0), None);
        let mail = AlertRules {
            email_to: vec!["ops@example.com".into()],
            ..AlertRules::default()
        };
        assert_eq!(channels(&mail).len(), 1);
        assert_eq!(channels(&rules()).len(), 1);
    }

    #[test]
    fn an_issue_alerts_at_most_once_per_interval() {
        let alerted = IssueState {
            last_alert_at: Some(T0),
            ..open()
        };
        let regression = IssueState {
            status: IssueStatus::Resolved,
            ..alerted
        };
        let error = Trigger::Error { window: 1 };
        let just_before = T0 + Duration::minutes(30) - Duration::microseconds(1);
        assert_eq!(decide(&rules(), &regression, error, just_before), None);
        assert_eq!(
            decide(&rules(), &regression, error, T0 + Duration::minutes(30)),
            Some(AlertReason::Regression)
        );
        let hourly = AlertRules {
            interval_minutes: 60,
            ..rules()
        };
        assert_eq!(
            decide(&hourly, &regression, error, T0 + Duration::minutes(45)),
            None
        );
    }

    #[test]
    fn a_muted_issue_never_alerts() {
        let muted = IssueState {
            status: IssueStatus::Muted,
            last_alert_at: None,
        };
        let busy = AlertRules {
            frequency: Some(FrequencyRule {
                events: 1,
                minutes: 1,
            }),
            ..rules()
        };
        assert_eq!(decide(&busy, &muted, Trigger::Opened, T0), None);
        assert_eq!(
            decide(&busy, &muted, Trigger::Error { window: 100 }, T0),
            None
        );
    }

    #[test]
    fn an_error_on_a_resolved_issue_is_a_regression_and_on_an_open_one_is_not() {
        let resolved = IssueState {
            status: IssueStatus::Resolved,
            last_alert_at: None,
        };
        let error = Trigger::Error { window: 1 };
        assert_eq!(
            decide(&rules(), &resolved, error, T0),
            Some(AlertReason::Regression)
        );
        assert_eq!(decide(&rules(), &open(), error, T0), None);
        let no_regressions = AlertRules {
            on_regression: false,
            ..rules()
        };
        assert_eq!(decide(&no_regressions, &resolved, error, T0), None);
    }

    #[test]
    fn the_frequency_rule_fires_once_the_window_holds_its_number_of_errors() {
        let rule = FrequencyRule {
            events: 10,
            minutes: 5,
        };
        let busy = AlertRules {
            frequency: Some(rule),
            ..rules()
        };
        assert_eq!(
            decide(&busy, &open(), Trigger::Error { window: 9 }, T0),
            None
        );
        assert_eq!(
            decide(&busy, &open(), Trigger::Error { window: 10 }, T0),
            Some(AlertReason::Frequency {
                events: 10,
                minutes: 5
            })
        );
    }

    #[test]
    fn a_window_counts_its_last_minute_and_the_ones_before_it() {
        assert_eq!(minute_of(T0), datetime!(2026-12-08 10:00 UTC));
        assert_eq!(window_start(T0, 1), datetime!(2026-12-08 10:00 UTC));
        assert_eq!(window_start(T0, 5), datetime!(2026-12-08 09:56 UTC));
        assert_eq!(
            window_start(T0, 100_000),
            datetime!(2026-12-07 10:01 UTC),
            "a window is at most a day"
        );
    }
}
