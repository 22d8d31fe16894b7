//! What the alert rules reactor remembers between events, in its own tables, written in
//! the runner's transaction with the checkpoint: each project's rules, each issue's
//! status and last alert, and (for frequency rules) errors per issue and minute.
//!
//! Within a batch, projects and issues are read once and kept in memory; the issues that
//! changed are written back together at the end ([`Memory::save`]). Errors come in
//! floods of few issues: one statement per error would rewrite the same rows over and
//! over.

use std::collections::HashMap;

use error_report::project::Project;
use schemas::errors::{AlertRules, IssueStatus, Level, PLATFORM_PROJECT};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::decision::{self, IssueState, LONGEST_WINDOW_MINUTES};
use crate::Tables;

/// An issue as the reactor knows it.
#[derive(Debug, Clone)]
struct Issue {
    project: i64,
    title: String,
    level: Level,
    state: IssueState,
    /// Changed in this batch, to be saved.
    changed: bool,
}

/// The reactor's tables, and what one batch has read of them and changed.
pub struct Memory {
    projects_table: String,
    issues_table: String,
    minutes_table: String,
    rules: HashMap<i64, AlertRules>,
    issues: HashMap<Uuid, Issue>,
}

impl Memory {
    pub fn new(tables: Tables) -> Self {
        Self {
            projects_table: tables.name("alert_rule_projects"),
            issues_table: tables.name("alert_rule_issues"),
            minutes_table: tables.name("alert_rule_minutes"),
            rules: HashMap::new(),
            issues: HashMap::new(),
        }
    }

    /// A project's rules: as last set, else the defaults (the platform's own project's
    /// until an admin changes them).
    pub async fn rules(
        &mut self,
        conn: &mut PgConnection,
        project: i64,
    ) -> anyhow::Result<AlertRules> {
        if let Some(rules) = self.rules.get(&project) {
            return Ok(rules.clone());
        }
        let stored: Option<sqlx::types::Json<AlertRules>> = sqlx::query_scalar(&format!(
            "SELECT rules FROM {} WHERE project = $1",
            self.projects_table
        ))
        .bind(project)
        .fetch_optional(&mut *conn)
        .await?;
        let rules = match stored {
            Some(rules) => rules.0,
            None if project == PLATFORM_PROJECT => Project::platform().rules,
            None => AlertRules::default(),
        };
        self.rules.insert(project, rules.clone());
        Ok(rules)
    }

    /// Stores a project's rules; `replace` false keeps rules already set.
    pub async fn set_rules(
        &mut self,
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
            self.projects_table
        ))
        .bind(project)
        .bind(sqlx::types::Json(rules))
        .execute(&mut *conn)
        .await?;
        // Read again when next needed: `replace` false may have kept other rules.
        self.rules.remove(&project);
        Ok(())
    }

    /// The issue as known before this event (open when first heard of), its title and
    /// level brought up to date.
    pub async fn touch_issue(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
        project: i64,
        title: &str,
        level: Level,
    ) -> anyhow::Result<IssueState> {
        let issue = self.issue(conn, id, project).await?;
        issue.title = title.to_owned();
        issue.level = level;
        issue.changed = true;
        Ok(issue.state)
    }

    pub async fn set_status(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
        project: i64,
        status: IssueStatus,
    ) -> anyhow::Result<()> {
        let issue = self.issue(conn, id, project).await?;
        issue.state.status = status;
        issue.changed = true;
        Ok(())
    }

    /// Notes that an alert for the issue was raised `at`.
    pub async fn alerted(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
        project: i64,
        at: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let issue = self.issue(conn, id, project).await?;
        issue.state.last_alert_at = Some(at);
        issue.changed = true;
        Ok(())
    }

    /// The issue, read once per batch. One first heard of by its status change gets its
    /// title from its next error.
    async fn issue(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
        project: i64,
    ) -> anyhow::Result<&mut Issue> {
        if !self.issues.contains_key(&id) {
            let stored: Option<(i64, String, String, String, Option<OffsetDateTime>)> =
                sqlx::query_as(&format!(
                    "SELECT project, title, level, status, last_alert_at FROM {} \
                     WHERE issue_id = $1",
                    self.issues_table
                ))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            let issue = match stored {
                Some((project, title, level, status, last_alert_at)) => Issue {
                    project,
                    title,
                    level: Level::try_from(level)?,
                    state: IssueState {
                        status: IssueStatus::try_from(status)?,
                        last_alert_at,
                    },
                    changed: false,
                },
                None => Issue {
                    project,
                    title: String::new(),
                    level: Level::Error,
                    state: IssueState {
                        status: IssueStatus::Open,
                        last_alert_at: None,
                    },
                    changed: true,
                },
            };
            self.issues.insert(id, issue);
        }
        Ok(self.issues.get_mut(&id).expect("inserted above"))
    }

    /// Writes back the issues this batch changed, in one statement.
    pub async fn save(self, conn: &mut PgConnection) -> anyhow::Result<()> {
        let changed: Vec<(Uuid, Issue)> = self
            .issues
            .into_iter()
            .filter(|(_, issue)| issue.changed)
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let id: Vec<Uuid> = changed.iter().map(|(id, _)| *id).collect();
        let project: Vec<i64> = changed.iter().map(|(_, i)| i.project).collect();
        let title: Vec<&str> = changed.iter().map(|(_, i)| i.title.as_str()).collect();
        let level: Vec<&str> = changed.iter().map(|(_, i)| i.level.as_str()).collect();
        let status: Vec<&str> = changed
            .iter()
            .map(|(_, i)| i.state.status.as_str())
            .collect();
        let last_alert_at: Vec<Option<OffsetDateTime>> =
            changed.iter().map(|(_, i)| i.state.last_alert_at).collect();
        sqlx::query(&format!(
            "INSERT INTO {} (issue_id, project, title, level, status, last_alert_at) \
             SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::text[], \
             $5::text[], $6::timestamptz[]) \
             ON CONFLICT (issue_id) DO UPDATE SET title = excluded.title, \
             level = excluded.level, status = excluded.status, \
             last_alert_at = excluded.last_alert_at",
            self.issues_table
        ))
        .bind(id)
        .bind(project)
        .bind(title)
        .bind(level)
        .bind(status)
        .bind(last_alert_at)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Counts `errors` in the minute of `at` and returns how many fall in the window of
    /// `minutes` that ends there. A new minute clears those too old for any window.
    pub async fn count(
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
            self.minutes_table
        ))
        .bind(issue_id)
        .bind(minute)
        .bind(errors.max(1))
        .fetch_one(&mut *conn)
        .await?;
        if new_minute {
            sqlx::query(&format!(
                "DELETE FROM {} WHERE issue_id = $1 AND minute < $2",
                self.minutes_table
            ))
            .bind(issue_id)
            .bind(decision::window_start(at, LONGEST_WINDOW_MINUTES))
            .execute(&mut *conn)
            .await?;
        }
        let window: i64 = sqlx::query_scalar(&format!(
            "SELECT coalesce(sum(errors), 0)::bigint FROM {} \
             WHERE issue_id = $1 AND minute >= $2 AND minute <= $3",
            self.minutes_table
        ))
        .bind(issue_id)
        .bind(decision::window_start(at, minutes))
        .bind(minute)
        .fetch_one(&mut *conn)
        .await?;
        Ok(window)
    }
}
