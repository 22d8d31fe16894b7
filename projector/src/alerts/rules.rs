//! The alert rules reactor: follows the errors context like a projection (same runner,
//! same checkpoint) and raises an alert per channel when a project's rules call for one.
//!
//! What it must remember between events (each project's rules; each issue's status and
//! last alert; errors per minute) lives in its own tables (see [`super::memory`]), written
//! in the runner's transaction with the checkpoint. The alerts it raises are appended through the store
//! with ids and idempotency keys derived from the source event and the channel, so a
//! batch applied again after a crash raises nothing twice.

use async_trait::async_trait;
use event_store::{AppendError, AppendRequest, EventStore, ExpectedVersion, Idempotency};
use schemas::{
    DomainEvent, EventMetadata, NewEvent, RecordedEvent,
    errors::{
        self, AlertChannel, AlertRaised, AlertReason, AlertRules, ErrorsEvent, IssueStatus, Level,
    },
};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    decision::{self, IssueState, Trigger},
    memory::Memory,
};
use crate::{Projection, Tables};

/// The reactor, run by the projector like a projection.
pub struct AlertRulesReactor {
    store: EventStore,
}

impl AlertRulesReactor {
    pub fn new(store: &EventStore) -> Self {
        Self {
            store: store.clone(),
        }
    }
}

#[async_trait]
impl Projection for AlertRulesReactor {
    const NAME: &str = "alerts.rules";
    const CONTEXT: &str = ErrorsEvent::CONTEXT;
    const TABLES: &[&str] = &[
        "alert_rule_projects",
        "alert_rule_issues",
        "alert_rule_minutes",
    ];

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let mut memory = Memory::new(tables);
        for recorded in events {
            let Some(called) = react(&mut memory, conn, recorded).await? else {
                continue;
            };
            for channel in called.channels.clone() {
                raise(&self.store, recorded, &called, channel).await?;
            }
        }
        memory.save(conn).await
    }
}

/// The issue an event is about, as the event describes it.
struct Subject {
    project: i64,
    issue_id: Uuid,
    title: String,
    level: Level,
}

impl Subject {
    fn new(project: i64, issue_id: Uuid, title: String, level: Level) -> Self {
        Self {
            project,
            issue_id,
            title,
            level,
        }
    }
}

/// An alert the rules called for, and the channels it goes to.
struct Called {
    subject: Subject,
    reason: AlertReason,
    channels: Vec<AlertChannel>,
}

/// Remembers what `recorded` changes and says whether it calls for an alert.
async fn react(
    memory: &mut Memory,
    conn: &mut PgConnection,
    recorded: &RecordedEvent,
) -> anyhow::Result<Option<Called>> {
    // Time is the event's, as recorded: a replay sees the same.
    let at = recorded.occurred_at;
    match recorded.decode::<ErrorsEvent>()? {
        ErrorsEvent::ProjectCreated(e) => {
            memory
                .set_rules(conn, e.project, &AlertRules::default(), false)
                .await?;
        }
        ErrorsEvent::AlertRulesChanged(e) => {
            memory.set_rules(conn, e.project, &e.rules, true).await?;
        }
        ErrorsEvent::IssueOpened(e) => {
            let subject = Subject::new(e.project, e.issue_id, e.title, e.level);
            let (issue, rules) = look_up(memory, conn, &subject).await?;
            let reason = decision::decide(&rules, &issue, Trigger::Opened, at);
            return called(memory, conn, reason, &rules, subject, at).await;
        }
        ErrorsEvent::ErrorLogged(e) => {
            let subject = Subject::new(e.project, e.issue_id, e.title, e.level);
            let (issue, rules) = look_up(memory, conn, &subject).await?;
            let window = match rules.frequency {
                Some(rule) => {
                    memory
                        .count(conn, e.issue_id, e.count, at, rule.minutes)
                        .await?
                }
                None => 0,
            };
            let reason = decision::decide(&rules, &issue, Trigger::Error { window }, at);
            if issue.status == IssueStatus::Resolved {
                // An error reopens a resolved issue: the next one is no regression.
                memory
                    .set_status(conn, e.issue_id, e.project, IssueStatus::Open)
                    .await?;
            }
            return called(memory, conn, reason, &rules, subject, at).await;
        }
        ErrorsEvent::IssueResolved(e) => {
            memory
                .set_status(conn, e.issue_id, e.project, IssueStatus::Resolved)
                .await?;
        }
        ErrorsEvent::IssueMuted(e) => {
            memory
                .set_status(conn, e.issue_id, e.project, IssueStatus::Muted)
                .await?;
        }
        ErrorsEvent::IssueReopened(e) => {
            memory
                .set_status(conn, e.issue_id, e.project, IssueStatus::Open)
                .await?;
        }
        _ => {}
    }
    Ok(None)
}

/// What the reactor knows of the subject's issue before this event (its title and level
/// brought up to date), and its project's rules.
async fn look_up(
    memory: &mut Memory,
    conn: &mut PgConnection,
    subject: &Subject,
) -> anyhow::Result<(IssueState, AlertRules)> {
    let issue = memory
        .touch_issue(
            conn,
            subject.issue_id,
            subject.project,
            &subject.title,
            subject.level,
        )
        .await?;
    let rules = memory.rules(conn, subject.project).await?;
    Ok((issue, rules))
}

/// The alert for `reason`, if any, noted as the issue's last.
async fn called(
    memory: &mut Memory,
    conn: &mut PgConnection,
    reason: Option<AlertReason>,
    rules: &AlertRules,
    subject: Subject,
    at: OffsetDateTime,
) -> anyhow::Result<Option<Called>> {
    let Some(reason) = reason else {
        return Ok(None);
    };
    memory
        .alerted(conn, subject.issue_id, subject.project, at)
        .await?;
    Ok(Some(Called {
        subject,
        reason,
        channels: decision::channels(rules),
    }))
}

/// Appends the alert on `channel` that `source` set off, once however often asked.
async fn raise(
    store: &EventStore,
    source: &RecordedEvent,
    called: &Called,
    channel: AlertChannel,
) -> anyhow::Result<()> {
    let alert_id = alert_id(source.event_id, channel.name());
    let key = format!("alert:{}:{}", source.event_id, channel.name());
    let subject = &called.subject;
    let raised = ErrorsEvent::AlertRaised(AlertRaised {
        alert_id,
        project: subject.project,
        issue_id: subject.issue_id,
        reason: called.reason,
        channel,
        title: subject.title.clone(),
        level: subject.level,
        source_event_id: source.event_id,
        raised_at: source.occurred_at,
    });
    let metadata = EventMetadata {
        correlation_id: source.correlation_id.clone(),
        actor: Some("alert-rules".to_owned()),
    };
    let request = AppendRequest::new(
        errors::alert_stream_id(alert_id),
        ExpectedVersion::NoStream,
        vec![NewEvent::from_domain(&raised)],
        metadata,
    )
    .with_idempotency(Some(Idempotency {
        key,
        fingerprint: "AlertRaised".to_owned(),
    }));
    match store.append(request).await {
        // The stream exists: this alert was raised before.
        Ok(_) | Err(AppendError::Conflict { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The id of the alert `source` set off on `channel`: the same every time it is decided.
pub fn alert_id(source: Uuid, channel: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(source.as_bytes())
        .chain_update(channel.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_id_depends_on_its_source_and_channel_only() {
        let source = Uuid::from_u128(7);
        assert_eq!(alert_id(source, "slack"), alert_id(source, "slack"));
        assert_ne!(alert_id(source, "slack"), alert_id(source, "email"));
        assert_ne!(
            alert_id(source, "slack"),
            alert_id(Uuid::from_u128(8), "slack")
        );
    }
}
