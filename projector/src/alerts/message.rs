//! What an alert says, on every channel: the project, the level, the issue's title, why
//! it was raised, and a link to the issue when the dashboard's address is set.

use schemas::errors::{AlertRaised, AlertReason};
use serde_json::{Value, json};

/// An alert with what the worker learned for it: the project's name and the link.
pub struct Message<'a> {
    pub alert: &'a AlertRaised,
    pub project: &'a str,
    /// The issue's page in the dashboard, when its address is known.
    pub link: Option<String>,
}

impl Message<'_> {
    /// Why the alert was raised, in words.
    pub fn reason(&self) -> String {
        match self.alert.reason {
            AlertReason::NewIssue => "New issue".to_owned(),
            AlertReason::Regression => "Regression: an error on a resolved issue".to_owned(),
            AlertReason::Frequency { events, minutes } => {
                format!("More than {events} errors in {minutes} minutes")
            }
        }
    }

    /// `[project] level: title`, the email's subject (one line, at most 200 characters).
    pub fn subject(&self) -> String {
        let subject = format!(
            "[{}] {}: {}",
            self.project, self.alert.level, self.alert.title
        );
        let one_line: String = subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        truncate(&one_line, 200)
    }

    /// The email's text.
    pub fn text(&self) -> String {
        let alert = self.alert;
        let mut text = format!(
            "{}\n\nProject: {}\nLevel: {}\nIssue: {}\nIssue id: {}\nRaised at: {}\n",
            self.reason(),
            self.project,
            alert.level,
            alert.title,
            alert.issue_id,
            alert.raised_at,
        );
        if let Some(link) = &self.link {
            text.push_str(&format!("\nOpen the issue: {link}\n"));
        }
        text
    }

    /// Slack's payload: the text as the fallback (notifications), the same as one mrkdwn
    /// section.
    pub fn slack(&self) -> Value {
        let alert = self.alert;
        let mut text = format!(
            "*[{}] {}*: {}\n{}",
            escape(self.project),
            alert.level,
            escape(&alert.title),
            escape(&self.reason()),
        );
        if let Some(link) = &self.link {
            text.push_str(&format!(" · <{}|Open the issue>", escape(link)));
        }
        json!({
            "text": text,
            "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }],
        })
    }
}

/// The link to an issue: `template` with `{issue}` and `{project}` filled in.
pub fn link(template: &str, alert: &AlertRaised) -> String {
    template
        .replace("{issue}", &alert.issue_id.to_string())
        .replace("{project}", &alert.project.to_string())
}

/// Text as Slack reads it: `&`, `<` and `>` are its markup.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters of `text`, an ellipsis marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use schemas::errors::{AlertChannel, Level};
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn alert(title: &str) -> AlertRaised {
        AlertRaised {
            alert_id: Uuid::from_u128(1),
            project: 3,
            issue_id: Uuid::from_u128(2),
            reason: AlertReason::Frequency {
                events: 10,
                minutes: 5,
            },
            channel: AlertChannel::Email {
                to: vec!["ops@example.com".into()],
            },
            title: title.into(),
            level: Level::Fatal,
            source_event_id: Uuid::from_u128(3),
            raised_at: datetime!(2026-12-08 10:00 UTC),
        }
    }

    #[test]
    fn slack_gets_its_markup_escaped_in_the_text_and_the_block() {
        let alert = alert("Error: a < b && c > d");
        let message = Message {
            alert: &alert,
            project: "shop",
            link: Some("https://ops.example/issues/2?a=1&b=2".into()),
        };
        let payload = message.slack();
        let text = payload["text"].as_str().unwrap();
        assert!(
            text.starts_with("*[shop] fatal*: Error: a &lt; b &amp;&amp; c &gt; d\n"),
            "{text}"
        );
        assert!(text.contains("More than 10 errors in 5 minutes"), "{text}");
        assert!(
            text.ends_with("<https://ops.example/issues/2?a=1&amp;b=2|Open the issue>"),
            "{text}"
        );
        assert_eq!(payload["blocks"][0]["type"], "section");
        assert_eq!(payload["blocks"][0]["text"]["type"], "mrkdwn");
        assert_eq!(payload["blocks"][0]["text"]["text"], text);
    }

    #[test]
    fn the_subject_is_one_bounded_line() {
        let long = alert(&format!("Panic:\n{}", "x".repeat(300)));
        let message = Message {
            alert: &long,
            project: "shop",
            link: None,
        };
        let subject = message.subject();
        assert!(subject.starts_with("[shop] fatal: Panic: x"), "{subject}");
        assert_eq!(subject.chars().count(), 200);
        assert!(!message.text().contains("Open the issue"));
    }

    #[test]
    fn a_link_names_the_issue_and_its_project() {
        let alert = alert("x");
        assert_eq!(
            link("https://ops.example/p/{project}/issues/{issue}", &alert),
            format!("https://ops.example/p/3/issues/{}", alert.issue_id)
        );
    }
}
