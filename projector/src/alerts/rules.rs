//! The alert rules reactor: follows the errors context like a projection (same runner,
//! same checkpoint) and raises an alert per channel when a project's rules call for one.
//!
//! What it must remember between events (each project's rules; each issue's status and
//! last alert; errors per minute) lives in its own tables, written in the runner's
//! transaction with the checkpoint. The alerts it raises are appended through the store
//! with ids and idempotency keys derived from the source event and the channel, so a
//! batch applied again after a crash raises nothing twice.

use async_trait::async_trait;
use error_report::project::Project;
use event_store::{AppendError, AppendRequest, EventStore, ExpectedVersion, Idempotency};
use schemas::{
    DomainEvent, EventMetadata, NewEvent, RecordedEvent,
    errors::{
        self, AlertChannel, AlertRaised, AlertReason, AlertRules, ErrorsEvent, IssueStatus, Level,
        PLATFORM_PROJECT,
    },
};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::decision::{self, IssueState, LONGEST_WINDOW_MINUTES, Trigger};
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
        let state = State::new(tables);
        for recorded in events {
            let Some(called) = state.apply(conn, recorded).await? else {
                continue;
            };
            for channel in called.channels.clone() {
                raise(&self.store, recorded, &called, channel).await?;
            }
        }
        Ok(())
    }
}

/// The issue an event is about, as the event describes it.
struct Subject {
    project: i64,
    issue_id: Uuid,
    title: String,
    level: Level,
}

/// An alert the rules called for, and the channels it goes to.
struct Called {
    subject: Subject,
    reason: AlertReason,
    channels: Vec<AlertChannel>,
}

/// The reactor's tables.
struct State {
    projects: String,
    issues: String,
    minutes: String,
}

impl State {
    fn new(tables: Tables) -> Self {
        Self {
            projects: tables.name("alert_rule_projects"),
            issues: tables.name("alert_rule_issues"),
            minutes: tables.name("alert_rule_minutes"),
        }
    }

    /// Remembers what `recorded` changes and says whether it calls for an alert.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<Option<Called>> {
        // Time is the event's, as recorded: a replay sees the same.
        let at = recorded.occurred_at;
        match recorded.decode::<ErrorsEvent>()? {
            ErrorsEvent::ProjectCreated(e) => {
                self.set_rules(conn, e.project, &AlertRules::default(), false)
                    .await?;
            }
            ErrorsEvent::AlertRulesChanged(e) => {
                self.set_rules(conn, e.project, &e.rules, true).await?;
            }
            ErrorsEvent::IssueOpened(e) => {
                let issue = self
                    .upsert_issue(conn, e.issue_id, e.project, &e.title, e.level)
                    .await?;
                let rules = self.rules(conn, e.project).await?;
                let reason = decision::decide(&rules, &issue, Trigger::Opened, at);
                let subject = Subject {
                    project: e.project,
                    issue_id: e.issue_id,
                    title: e.title,
                    level: e.level,
                };
                return self.called(conn, reason, &rules, subject, at).await;
            }
            ErrorsEvent::ErrorLogged(e) => {
                let issue = self
                    .upsert_issue(conn, e.issue_id, e.project, &e.title, e.level)
                    .await?;
                let rules = self.rules(conn, e.project).await?;
                let window = match rules.frequency {
                    Some(rule) => {
                        self.count(conn, e.issue_id, e.count, at, rule.minutes)
                            .await?
                    }
                    None => 0,
                };
                let reason = decision::decide(&rules, &issue, Trigger::Error { window }, at);
                if issue.status == IssueStatus::Resolved {
                    // An error reopens a resolved issue: the next one is no regression.
                    self.set_status(conn, e.issue_id, e.project, IssueStatus::Open)
                        .await?;
                }
                let subject = Subject {
                    project: e.project,
                    issue_id: e.issue_id,
                    title: e.title,
                    level: e.level,
                };
                return self.called(conn, reason, &rules, subject, at).await;
            }
            ErrorsEvent::IssueResolved(e) => {
                self.set_status(conn, e.issue_id, e.project, IssueStatus::Resolved)
                    .await?;
            }
            ErrorsEvent::IssueMuted(e) => {
                self.set_status(conn, e.issue_id, e.project, IssueStatus::Muted)
                    .await?;
            }
            ErrorsEvent::IssueReopened(e) => {
                self.set_status(conn, e.issue_id, e.project, IssueStatus::Open)
                    .await?;
            }
            _ => {}
        }
        Ok(None)
    }

    /// The alert for `reason`, if any, noted as the issue's last.
    async fn called(
        &self,
        conn: &mut PgConnection,
        reason: Option<AlertReason>,
        rules: &AlertRules,
        subject: Subject,
        at: OffsetDateTime,
    ) -> anyhow::Result<Option<Called>> {
        let Some(reason) = reason else {
            return Ok(None);
        };
        sqlx::query(&format!(
            "UPDATE {} SET last_alert_at = $2 WHERE issue_id = $1",
            self.issues
        ))
        .bind(subject.issue_id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        Ok(Some(Called {
            subject,
            reason,
            channels: decision::channels(rules),
        }))
    }

    /// A project's rules: as last set, else the defaults (the platform's own project's
    /// until an admin changes them).
    async fn rules(&self, conn: &mut PgConnection, project: i64) -> anyhow::Result<AlertRules> {
        let stored: Option<sqlx::types::Json<AlertRules>> = sqlx::query_scalar(&format!(
            "SELECT rules FROM {} WHERE project = $1",
            self.projects
        ))
        .bind(project)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match stored {
            Some(rules) => rules.0,
            None if project == PLATFORM_PROJECT => Project::platform().rules,
            None => AlertRules::default(),
        })
    }

    /// Stores a project's rules; `replace` false keeps rules already set.
    async fn set_rules(
        &self,
        conn: &mut PgConnection,
        project: i64,
        rules: &AlertRules,
        replace: bool,
    ) -> anyhow::Result<()> {
        let on_conflict = if replace {
            "DO UPDATE SET rules = excluded.rules"
        } else {
            "DO NOTHING"
        };
        sqlx::query(&format!(
            "INSERT INTO {} (project, rules) VALUES ($1, $2) ON CONFLICT (project) {on_conflict}",
            self.projects
        ))
        .bind(project)
        .bind(sqlx::types::Json(rules))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The issue as known before this event (open when first heard of), its title and
    /// level brought up to date.
    async fn upsert_issue(
        &self,
        conn: &mut PgConnection,
        issue_id: Uuid,
        project: i64,
        title: &str,
        level: Level,
    ) -> anyhow::Result<IssueState> {
        let (status, last_alert_at): (String, Option<OffsetDateTime>) = sqlx::query_as(&format!(
            "INSERT INTO {} (issue_id, project, title, level, status) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (issue_id) \
                 DO UPDATE SET title = excluded.title, level = excluded.level \
                 RETURNING status, last_alert_at",
            self.issues
        ))
        .bind(issue_id)
        .bind(project)
        .bind(title)
        .bind(level.as_str())
        .bind(IssueStatus::Open.as_str())
        .fetch_one(&mut *conn)
        .await?;
        Ok(IssueState {
            status: IssueStatus::try_from(status)?,
            last_alert_at,
        })
    }

    async fn set_status(
        &self,
        conn: &mut PgConnection,
        issue_id: Uuid,
        project: i64,
        status: IssueStatus,
    ) -> anyhow::Result<()> {
        // An issue first heard of by its status change gets its title from its next error.
        sqlx::query(&format!(
            "INSERT INTO {} (issue_id, project, title, level, status) \
             VALUES ($1, $2, '', $3, $4) ON CONFLICT (issue_id) \
             DO UPDATE SET status = excluded.status",
            self.issues
        ))
        .bind(issue_id)
        .bind(project)
        .bind(Level::Error.as_str())
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Counts `errors` in the minute of `at` and returns how many fall in the window of
    /// `minutes` that ends there. A new minute clears those too old for any window.
    async fn count(
        &self,
        conn: &mut PgConnection,
        issue_id: Uuid,
        errors: i64,
        at: OffsetDateTime,
        minutes: i64,
    ) -> anyhow::Result<i64> {
        let minute = decision::minute_of(at);
        let new_minute: bool = sqlx::query_scalar(&format!(
            "INSERT INTO {} (issue_id, minute, errors) VALUES ($1, $2, $3) \
             ON CONFLICT (issue_id, minute) DO UPDATE SET errors = {0}.errors + excluded.errors \
             RETURNING xmax = 0",
            self.minutes
        ))
        .bind(issue_id)
        .bind(minute)
        .bind(errors.max(1))
        .fetch_one(&mut *conn)
        .await?;
        if new_minute {
            sqlx::query(&format!(
                "DELETE FROM {} WHERE issue_id = $1 AND minute < $2",
                self.minutes
            ))
            .bind(issue_id)
            .bind(decision::window_start(at, LONGEST_WINDOW_MINUTES))
            .execute(&mut *conn)
            .await?;
        }
        let window: i64 = sqlx::query_scalar(&format!(
            "SELECT coalesce(sum(errors), 0)::bigint FROM {} \
             WHERE issue_id = $1 AND minute >= $2 AND minute <= $3",
            self.minutes
        ))
        .bind(issue_id)
        .bind(decision::window_start(at, minutes))
        .bind(minute)
        .fetch_one(&mut *conn)
        .await?;
        Ok(window)
    }
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
