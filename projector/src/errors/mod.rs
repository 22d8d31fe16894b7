//! The errors read model: projects, the issues errors are grouped into, every error, and
//! counts per level and minute for the chart.
//!
//! An issue's row can be created by its first error or by its `IssueOpened`, whichever
//! the projection meets first: the two are on different streams, and nothing but the
//! writer orders them. Each column is therefore kept by a rule that gives the same result
//! in either order (see [`issues`]).
//!
//! - [`projects`]: one row per project, its key, quota and alert rules.
//! - [`issues`]: one row per issue, its title and status.
//! - [`logged`]: runs of errors: every error whole, the counts per project, level and
//!   minute, the users each issue affected, and the issues' counts and latest error.
//! - [`retention`]: errors past their retention leave the table of every error.

mod issues;
mod logged;
mod projects;
pub mod retention;

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    errors::{ErrorsEvent, IssueStatus},
};
use sqlx::PgConnection;

use crate::{Projection, Tables};

pub struct ErrorsProjection;

#[async_trait]
impl Projection for ErrorsProjection {
    const NAME: &str = "errors";
    const CONTEXT: &str = ErrorsEvent::CONTEXT;
    const TABLES: &[&str] = &[
        "error_projects",
        "error_issues",
        "error_issue_users",
        "error_events",
        "error_counts",
    ];

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let mut errors = logged::Run::default();
        for recorded in events {
            match recorded.decode::<ErrorsEvent>()? {
                ErrorsEvent::ErrorLogged(e) => errors.push(*e, recorded),
                other => {
                    // What follows a run of errors sees them applied.
                    errors.apply(conn, tables).await?;
                    apply_one(conn, tables, other, At::of(recorded)).await?;
                }
            }
        }
        errors.apply(conn, tables).await
    }
}

/// Any event but an error.
async fn apply_one(
    conn: &mut PgConnection,
    tables: Tables,
    event: ErrorsEvent,
    at: At,
) -> anyhow::Result<()> {
    match event {
        ErrorsEvent::ProjectCreated(e) => projects::created(conn, tables, &e, at).await?,
        ErrorsEvent::ProjectChanged(e) => projects::changed(conn, tables, &e, at).await?,
        ErrorsEvent::ProjectKeyRotated(e) => projects::key_rotated(conn, tables, &e, at).await?,
        ErrorsEvent::AlertRulesChanged(e) => projects::rules_changed(conn, tables, &e, at).await?,
        ErrorsEvent::IssueOpened(e) => issues::opened(conn, tables, &e, at).await?,
        ErrorsEvent::IssueResolved(e) => {
            issues::moved(conn, tables, e.issue_id, IssueStatus::Resolved, at).await?
        }
        ErrorsEvent::IssueMuted(e) => {
            issues::moved(conn, tables, e.issue_id, IssueStatus::Muted, at).await?
        }
        ErrorsEvent::IssueReopened(e) => {
            issues::moved(conn, tables, e.issue_id, IssueStatus::Open, at).await?
        }
        // Errors are applied in runs (see `logged`); alerts and log levels have read
        // models of their own.
        ErrorsEvent::ErrorLogged(_)
        | ErrorsEvent::AlertRaised(_)
        | ErrorsEvent::AlertAttemptStarted(_)
        | ErrorsEvent::AlertSent(_)
        | ErrorsEvent::AlertDeferred(_)
        | ErrorsEvent::AlertGivenUp(_)
        | ErrorsEvent::AlertRetryRequested(_)
        | ErrorsEvent::LogLevelsChanged(_) => {}
    }
    Ok(())
}

/// Where an event is: its version in its stream and its position in the log.
#[derive(Debug, Clone, Copy)]
struct At {
    version: i64,
    position: i64,
}

impl At {
    fn of(recorded: &RecordedEvent) -> Self {
        Self {
            version: recorded.stream_version,
            position: recorded.position,
        }
    }
}
