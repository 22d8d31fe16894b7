//! SQL of the emails read model. Each read also returns the projection's checkpoint from
//! the same snapshot (one statement), which tells the cache how current the rows are.

use crate::snapshot;
use schemas::email::EmailStatus;
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, postgres::PgRow};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    change::{ChangeRow, EmailChange},
    listing::{Listing, Scope},
};

/// An email as listings show it, and as the start of its full view.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct EmailFields {
    #[sqlx(rename = "email_id")]
    pub id: Uuid,
    /// The user the email belongs to: who asked for it, or whom the platform's own mail
    /// is about.
    pub requested_by: Uuid,
    /// The recipients, as requested.
    #[sqlx(rename = "recipients")]
    pub to: Vec<String>,
    pub subject: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = EmailStatusSchema)]
    pub status: EmailStatus,
    /// The Message-ID every attempt carries, with its angle brackets; null before the
    /// first attempt.
    pub message_id: Option<String>,
    /// The last attempt's reply, or what went wrong before one came.
    pub last_reply: Option<String>,
    /// When a worker next looks at the email (queued: since it was queued; retrying: the
    /// retry time; sending: when the attempt's claim runs out); null once settled.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// For mail the platform sends on its own: the event it answers.
    pub source_event_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// The version of the email's stream; its ETag.
    pub version: i64,
}

/// An email in a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailSummary {
    #[serde(flatten)]
    pub email: EmailFields,
    /// Attempts started over the email's life.
    pub attempt_count: i32,
}

/// One attempt to deliver an email.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptView {
    /// 1 for the first, counting every attempt of the email's life.
    pub attempt: i32,
    /// The worker that made it.
    pub worker: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    /// `sent`, `deferred` (retried later), `failed` (for good) or `dead` (no attempt
    /// left); null while under way, or when its worker died before it ended.
    pub outcome: Option<String>,
    /// The server's reply, or what went wrong before one came.
    pub reply: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<OffsetDateTime>,
    /// For a deferred attempt: when the next one is due.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retry_at: Option<OffsetDateTime>,
}

/// An email with every attempt, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailView {
    #[serde(flatten)]
    pub email: EmailFields,
    pub attempts: Vec<AttemptView>,
}

crate::docs::status_schema!(
    /// The names of [`EmailStatus`] in OpenAPI.
    EmailStatusSchema for EmailStatus,
    "EmailStatus",
    "queued -> sending -> sent, failed (for good), retrying (then sending again) \
     or dead (no attempt left); failed and dead may be retried (queued again); \
     cancelled before it was sent."
);

const COLUMNS: &str = "e.email_id, e.requested_by, e.recipients, e.subject, e.status, \
     e.message_id, e.last_reply, e.next_attempt_at, e.source_event_id, e.requested_at, \
     e.updated_at, e.version, e.attempts";

/// One email with its attempts, and the position the snapshot reflects: one row per
/// attempt (one with no attempt columns before the first), all from one statement.
pub async fn email(
    pool: &PgPool,
    source: &str,
    id: Uuid,
) -> Result<Option<(i64, EmailView)>, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, ");
    query.push(COLUMNS).push(
        ", a.attempt, a.worker, a.started_at, a.outcome, a.reply, a.ended_at, a.retry_at \
         FROM emails e LEFT JOIN email_attempts a ON a.email_id = e.email_id, ",
    );
    snapshot::push_checkpoint(&mut query, "emails", source);
    query
        .push(" c WHERE e.email_id = ")
        .push_bind(id)
        .push(" ORDER BY a.attempt");
    let rows = query.build().fetch_all(pool).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let applied = first.try_get("applied")?;
    let email = sqlx::FromRow::from_row(first)?;
    let attempts = rows
        .iter()
        .filter_map(|row| attempt(row).transpose())
        .collect::<Result<_, _>>()?;
    Ok(Some((applied, EmailView { email, attempts })))
}

/// The attempt columns of a row, None when the row has none.
fn attempt(row: &PgRow) -> Result<Option<AttemptView>, sqlx::Error> {
    let Some(attempt) = row.try_get("attempt")? else {
        return Ok(None);
    };
    Ok(Some(AttemptView {
        attempt,
        worker: row.try_get("worker")?,
        started_at: row.try_get("started_at")?,
        outcome: row.try_get("outcome")?,
        reply: row.try_get("reply")?,
        ended_at: row.try_get("ended_at")?,
        retry_at: row.try_get("retry_at")?,
    }))
}

/// One page of a listing: the position the snapshot reflects, the total and the emails.
pub async fn page(
    pool: &PgPool,
    source: &str,
    listing: &Listing,
) -> Result<(i64, i64, Vec<EmailSummary>), sqlx::Error> {
    let rows = listing_query(source, listing)
        .build()
        .fetch_all(pool)
        .await?;
    let (applied, total) = snapshot::head(&rows)?;
    let emails = snapshot::items(&rows, "email_id")
        .map(|row| {
            Ok(EmailSummary {
                email: sqlx::FromRow::from_row(row)?,
                attempt_count: row.try_get("attempts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((applied, total, emails))
}

/// The statement of a listing, newest first. One row always comes back, with the email
/// columns null when the page is empty.
fn listing_query<'a>(source: &'a str, listing: &'a Listing) -> QueryBuilder<'a, Postgres> {
    let mut query = QueryBuilder::new("SELECT c.applied, t.total, e.* FROM ");
    snapshot::push_checkpoint(&mut query, "emails", source);
    query.push(" c CROSS JOIN (SELECT count(*) AS total FROM emails e");
    filters(&mut query, listing);
    query.push(") t LEFT JOIN LATERAL (SELECT ").push(COLUMNS);
    query.push(" FROM emails e");
    filters(&mut query, listing);
    query
        .push(" ORDER BY e.requested_at DESC, e.email_id DESC LIMIT ")
        .push_bind(listing.page.limit())
        .push(" OFFSET ")
        .push_bind(listing.page.offset())
        .push(") e ON true ORDER BY e.requested_at DESC, e.email_id DESC");
    query
}

fn filters<'a>(query: &mut QueryBuilder<'a, Postgres>, listing: &'a Listing) {
    let mut clause = " WHERE ";
    if let Scope::Sender(user) = listing.scope {
        query.push(clause).push("e.requested_by = ").push_bind(user);
        clause = " AND ";
    }
    if let Some(status) = listing.status {
        query
            .push(clause)
            .push("e.status = ")
            .push_bind(status.as_str());
    }
}

/// The last change of each of `user`'s emails whose last change lies in (after, through],
/// in position order, at most `limit`.
pub async fn changes_between(
    pool: &PgPool,
    user: Uuid,
    after: i64,
    through: i64,
    limit: i64,
) -> Result<Vec<EmailChange>, sqlx::Error> {
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "SELECT email_id, status, attempts, last_reply, next_attempt_at, position FROM emails \
         WHERE requested_by = $1 AND position > $2 AND position <= $3 \
         ORDER BY position LIMIT $4",
    )
    .bind(user)
    .bind(after)
    .bind(through)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(EmailChange::of_row).collect())
}
