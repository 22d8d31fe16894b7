//! The alerts read model: one row per alert with its status, its masked target and when
//! a worker should next look at it (the delivery worker's queue), and one row per attempt
//! with how it ended. Only the alert events of the errors context touch it; an admin's
//! retry of a given-up alert puts it back in the queue.

use async_trait::async_trait;
use error_report::alert::AlertStatus;
use schemas::{
    DomainEvent, RecordedEvent,
    errors::{ALERT_EVENT_TYPES, AlertRaised, AlertRetryRequested, ErrorsEvent},
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::target;
use crate::{Projection, Tables};

pub struct AlertsProjection;

#[async_trait]
impl Projection for AlertsProjection {
    const NAME: &str = "alerts";
    const CONTEXT: &str = ErrorsEvent::CONTEXT;
    const TABLES: &[&str] = &["error_alerts", "error_alert_attempts"];
    /// Most of the context is errors and issues, which the runner need not even read.
    const EVENT_TYPES: Option<&[&str]> = Some(&ALERT_EVENT_TYPES);

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let alerts = tables.name("error_alerts");
        let attempts = tables.name("error_alert_attempts");
        for recorded in events {
            // A replay reads the whole context: skip the rest before decoding.
            if !ALERT_EVENT_TYPES.contains(&recorded.event_type.as_str()) {
                continue;
            }
            let change = match recorded.decode::<ErrorsEvent>()? {
                ErrorsEvent::AlertRaised(e) => {
                    insert(conn, &alerts, &e, recorded).await?;
                    continue;
                }
                ErrorsEvent::AlertRetryRequested(e) => {
                    retry_requested(conn, &alerts, &e, recorded).await?;
                    continue;
                }
                ErrorsEvent::AlertAttemptStarted(e) => {
                    sqlx::query(&format!(
                        "INSERT INTO {attempts} (alert_id, attempt, worker, started_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
                    ))
                    .bind(e.alert_id)
                    .bind(e.attempt)
                    .bind(&e.worker)
                    .bind(e.started_at)
                    .execute(&mut *conn)
                    .await?;
                    Change {
                        alert_id: e.alert_id,
                        status: AlertStatus::Sending,
                        attempt: e.attempt,
                        detail: None,
                        due: Some(e.lease_until),
                        at: e.started_at,
                    }
                }
                ErrorsEvent::AlertSent(e) => Change {
                    alert_id: e.alert_id,
                    status: AlertStatus::Sent,
                    attempt: e.attempt,
                    detail: Some(e.detail),
                    due: None,
                    at: e.sent_at,
                },
                ErrorsEvent::AlertDeferred(e) => Change {
                    alert_id: e.alert_id,
                    status: AlertStatus::Retrying,
                    attempt: e.attempt,
                    detail: Some(e.reason),
                    due: Some(e.retry_at),
                    at: e.failed_at,
                },
                ErrorsEvent::AlertGivenUp(e) => Change {
                    alert_id: e.alert_id,
                    status: AlertStatus::GivenUp,
                    attempt: e.attempt,
                    detail: Some(e.reason),
                    due: None,
                    at: e.given_up_at,
                },
                _ => continue,
            };
            change.apply(conn, &alerts, recorded).await?;
            change.end_attempt(conn, &attempts).await?;
        }
        Ok(())
    }
}

async fn insert(
    conn: &mut PgConnection,
    alerts: &str,
    e: &AlertRaised,
    recorded: &RecordedEvent,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO {alerts} (alert_id, project, issue_id, reason, channel, target, title, \
         level, status, attempts, next_attempt_at, source_event_id, raised_at, updated_at, \
         version, position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $10, $10, $12, $13)"
    ))
    .bind(e.alert_id)
    .bind(e.project)
    .bind(e.issue_id)
    .bind(sqlx::types::Json(&e.reason))
    .bind(e.channel.name())
    .bind(target::shown(&e.channel))
    .bind(&e.title)
    .bind(e.level.as_str())
    .bind(AlertStatus::Pending.as_str())
    .bind(e.raised_at)
    .bind(e.source_event_id)
    .bind(recorded.stream_version)
    .bind(recorded.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// An admin's retry: the alert is pending and due again, no longer given up; its attempts
/// so far stay listed.
async fn retry_requested(
    conn: &mut PgConnection,
    alerts: &str,
    e: &AlertRetryRequested,
    recorded: &RecordedEvent,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "UPDATE {alerts} SET status = $2, next_attempt_at = $3, given_up_at = NULL, \
         updated_at = $3, version = $4, position = $5 WHERE alert_id = $1"
    ))
    .bind(e.alert_id)
    .bind(AlertStatus::Pending.as_str())
    .bind(e.requested_at)
    .bind(recorded.stream_version)
    .bind(recorded.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// What an attempt's start or end changes in its alert's row.
struct Change {
    alert_id: Uuid,
    status: AlertStatus,
    attempt: i32,
    detail: Option<String>,
    /// When the alert is next due; None once settled.
    due: Option<OffsetDateTime>,
    at: OffsetDateTime,
}

impl Change {
    async fn apply(
        &self,
        conn: &mut PgConnection,
        alerts: &str,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let sent_at = (self.status == AlertStatus::Sent).then_some(self.at);
        let given_up_at = (self.status == AlertStatus::GivenUp).then_some(self.at);
        sqlx::query(&format!(
            "UPDATE {alerts} SET status = $2, attempts = greatest(attempts, $3), \
             last_detail = coalesce($4, last_detail), next_attempt_at = $5, \
             sent_at = coalesce($6, sent_at), given_up_at = coalesce($7, given_up_at), \
             updated_at = $8, version = $9, position = $10 WHERE alert_id = $1"
        ))
        .bind(self.alert_id)
        .bind(self.status.as_str())
        .bind(self.attempt)
        .bind(&self.detail)
        .bind(self.due)
        .bind(sent_at)
        .bind(given_up_at)
        .bind(self.at)
        .bind(recorded.stream_version)
        .bind(recorded.position)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Records how the attempt ended, when the change is its end.
    async fn end_attempt(&self, conn: &mut PgConnection, attempts: &str) -> anyhow::Result<()> {
        let outcome = match self.status {
            AlertStatus::Sent => "sent",
            AlertStatus::Retrying => "deferred",
            AlertStatus::GivenUp => "given_up",
            AlertStatus::Pending | AlertStatus::Sending => return Ok(()),
        };
        let retry_at = self.due.filter(|_| self.status == AlertStatus::Retrying);
        sqlx::query(&format!(
            "UPDATE {attempts} SET outcome = $3, detail = $4, ended_at = $5, retry_at = $6 \
             WHERE alert_id = $1 AND attempt = $2"
        ))
        .bind(self.alert_id)
        .bind(self.attempt)
        .bind(outcome)
        .bind(&self.detail)
        .bind(self.at)
        .bind(retry_at)
        .execute(conn)
        .await?;
        Ok(())
    }
}
