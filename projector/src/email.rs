//! The emails read model: one row per email with its status, when a worker should next
//! look at it (the worker's queue) and the position of its last change (where a user's
//! live stream catches up from), and one row per attempt with how it ended.

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    email::{EmailEvent, EmailStatus},
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Projection, Tables};

pub struct EmailProjection;

#[async_trait]
impl Projection for EmailProjection {
    const NAME: &str = "emails";
    const CONTEXT: &str = EmailEvent::CONTEXT;
    const TABLES: &[&str] = &["emails", "email_attempts"];

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let emails = tables.name("emails");
        let attempts = tables.name("email_attempts");
        for recorded in events {
            let event = recorded.decode::<EmailEvent>()?;
            match &event {
                EmailEvent::Requested(e) => {
                    sqlx::query(&format!(
                        "INSERT INTO {emails} (email_id, requested_by, recipients, subject, \
                         status, attempts, next_attempt_at, source_event_id, requested_at, \
                         updated_at, version, position) \
                         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $6, $6, $8, $9)"
                    ))
                    .bind(e.email_id)
                    .bind(e.requested_by)
                    .bind(&e.to)
                    .bind(&e.subject)
                    .bind(EmailStatus::Queued.as_str())
                    .bind(e.requested_at)
                    .bind(e.source_event_id)
                    .bind(recorded.stream_version)
                    .bind(recorded.position)
                    .execute(&mut *conn)
                    .await?;
                }
                EmailEvent::AttemptStarted(e) => {
                    let row = Row::new(&event, recorded, e.started_at);
                    row.update(conn, &emails, Some(e.lease_until), None).await?;
                    sqlx::query(&format!(
                        "UPDATE {emails} SET attempts = $2, \
                         message_id = coalesce(message_id, $3) WHERE email_id = $1"
                    ))
                    .bind(e.email_id)
                    .bind(e.attempt)
                    .bind(&e.message_id)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query(&format!(
                        "INSERT INTO {attempts} (email_id, attempt, worker, started_at) \
                         VALUES ($1, $2, $3, $4)"
                    ))
                    .bind(e.email_id)
                    .bind(e.attempt)
                    .bind(&e.worker)
                    .bind(e.started_at)
                    .execute(&mut *conn)
                    .await?;
                }
                EmailEvent::Sent(e) => {
                    let ended = Ended::new(e.email_id, e.attempt, "sent", &e.reply, e.sent_at);
                    Row::new(&event, recorded, e.sent_at)
                        .update(conn, &emails, None, Some(&e.reply))
                        .await?;
                    ended.record(conn, &attempts, None).await?;
                }
                EmailEvent::Deferred(e) => {
                    let ended =
                        Ended::new(e.email_id, e.attempt, "deferred", &e.reply, e.failed_at);
                    Row::new(&event, recorded, e.failed_at)
                        .update(conn, &emails, Some(e.retry_at), Some(&e.reply))
                        .await?;
                    ended.record(conn, &attempts, Some(e.retry_at)).await?;
                }
                EmailEvent::Failed(e) => {
                    let ended = Ended::new(e.email_id, e.attempt, "failed", &e.reply, e.failed_at);
                    Row::new(&event, recorded, e.failed_at)
                        .update(conn, &emails, None, Some(&e.reply))
                        .await?;
                    ended.record(conn, &attempts, None).await?;
                }
                EmailEvent::Dead(e) => {
                    let ended = Ended::new(e.email_id, e.attempt, "dead", &e.reply, e.died_at);
                    Row::new(&event, recorded, e.died_at)
                        .update(conn, &emails, None, Some(&e.reply))
                        .await?;
                    ended.record(conn, &attempts, None).await?;
                }
                EmailEvent::Retried(e) => {
                    Row::new(&event, recorded, e.retried_at)
                        .update(conn, &emails, Some(e.retried_at), None)
                        .await?;
                }
                EmailEvent::Cancelled(e) => {
                    Row::new(&event, recorded, e.cancelled_at)
                        .update(conn, &emails, None, None)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// The change every event after the request makes to an email's row.
struct Row {
    email_id: Uuid,
    status: EmailStatus,
    version: i64,
    position: i64,
    at: OffsetDateTime,
}

impl Row {
    fn new(event: &EmailEvent, recorded: &RecordedEvent, at: OffsetDateTime) -> Self {
        Self {
            email_id: event.email_id(),
            status: event.status(),
            version: recorded.stream_version,
            position: recorded.position,
            at,
        }
    }

    /// Sets the status, when it is next due (None: settled) and, when given, the last
    /// reply.
    async fn update(
        &self,
        conn: &mut PgConnection,
        emails: &str,
        due: Option<OffsetDateTime>,
        reply: Option<&str>,
    ) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "UPDATE {emails} SET status = $2, next_attempt_at = $3, \
             last_reply = coalesce($4, last_reply), updated_at = $5, version = $6, \
             position = $7 WHERE email_id = $1"
        ))
        .bind(self.email_id)
        .bind(self.status.as_str())
        .bind(due)
        .bind(reply)
        .bind(self.at)
        .bind(self.version)
        .bind(self.position)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// How an attempt ended.
struct Ended<'a> {
    email_id: Uuid,
    attempt: i32,
    outcome: &'static str,
    reply: &'a str,
    at: OffsetDateTime,
}

impl<'a> Ended<'a> {
    fn new(
        email_id: Uuid,
        attempt: i32,
        outcome: &'static str,
        reply: &'a str,
        at: OffsetDateTime,
    ) -> Self {
        Self {
            email_id,
            attempt,
            outcome,
            reply,
            at,
        }
    }

    async fn record(
        &self,
        conn: &mut PgConnection,
        attempts: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "UPDATE {attempts} SET outcome = $3, reply = $4, ended_at = $5, retry_at = $6 \
             WHERE email_id = $1 AND attempt = $2"
        ))
        .bind(self.email_id)
        .bind(self.attempt)
        .bind(self.outcome)
        .bind(self.reply)
        .bind(self.at)
        .bind(retry_at)
        .execute(conn)
        .await?;
        Ok(())
    }
}
