//! SQL of the alerts read model. A page and its alerts' attempts are read in one
//! repeatable-read snapshot together with the projection's checkpoint, which tells the
//! cache how current they are.

use std::collections::HashMap;

use error_report::alert::AlertStatus;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::listing::Listing;

/// An alert with every attempt to deliver it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AlertView {
    #[sqlx(rename = "alert_id")]
    pub id: Uuid,
    pub project: i64,
    pub issue_id: Uuid,
    /// Why it was raised: `{"kind": "new_issue"}`, `{"kind": "regression"}` or
    /// `{"kind": "frequency", "events": 10, "minutes": 5}`.
    #[schema(value_type = Object)]
    pub reason: Value,
    /// `slack` or `email`.
    pub channel: String,
    /// Where it went: the webhook's scheme and host only (its path is a secret), or the
    /// addresses.
    pub target: String,
    /// The issue's title and level when the alert was raised.
    pub title: String,
    pub level: String,
    #[sqlx(try_from = "String")]
    #[serde(serialize_with = "status_name")]
    #[schema(value_type = AlertStatusSchema)]
    pub status: AlertStatus,
    /// Attempts started so far.
    #[sqlx(rename = "attempts")]
    pub attempt_count: i32,
    /// The last attempt's outcome: the webhook's answer (`200 ok`), the id of the email
    /// requested, or why it failed.
    pub last_detail: Option<String>,
    /// When a worker next looks at it; null once sent or given up.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The event that set it off (an `IssueOpened` or an `ErrorLogged`).
    pub source_event_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub raised_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub given_up_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// The version of the alert's stream.
    pub version: i64,
    #[sqlx(skip)]
    pub attempts: Vec<AlertAttemptView>,
}

/// One attempt to deliver an alert.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AlertAttemptView {
    #[serde(skip)]
    pub alert_id: Uuid,
    /// 1 for the first.
    pub attempt: i32,
    /// The worker that made it.
    pub worker: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    /// `sent`, `deferred` (retried later) or `given_up`; null while under way, or when
    /// its worker died before it ended.
    pub outcome: Option<String>,
    /// The webhook's answer, the email's id, or what went wrong.
    pub detail: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<OffsetDateTime>,
    /// For a deferred attempt: when the next one is due (for a `429`, no sooner than its
    /// `Retry-After`).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retry_at: Option<OffsetDateTime>,
}

crate::docs::status_schema!(
    /// The names of [`AlertStatus`] in OpenAPI.
    AlertStatusSchema for AlertStatus,
    "AlertStatus",
    "pending -> sending -> sent, retrying (then sending again) or given_up (refused, or \
     every attempt failed)."
);

/// A status as its name (the status type lives in a crate without serde).
fn status_name<S: serde::Serializer>(
    status: &AlertStatus,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(status.as_str())
}

/// One page of a listing: the position the snapshot reflects, the total and the alerts
/// with their attempts.
pub async fn page(
    pool: &PgPool,
    source: &str,
    listing: &Listing,
) -> Result<(i64, i64, Vec<AlertView>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let applied: i64 = sqlx::query_scalar(
        "SELECT coalesce((SELECT position FROM projection_checkpoints \
         WHERE projection = 'alerts' AND source = $1), 0)",
    )
    .bind(source)
    .fetch_one(&mut *tx)
    .await?;
    let mut count = QueryBuilder::new("SELECT count(*) FROM error_alerts a");
    filters(&mut count, listing);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
    let mut rows = QueryBuilder::new("SELECT a.* FROM error_alerts a");
    filters(&mut rows, listing);
    rows.push(" ORDER BY a.raised_at DESC, a.alert_id DESC LIMIT ")
        .push_bind(listing.page.limit())
        .push(" OFFSET ")
        .push_bind(listing.page.offset());
    let mut alerts: Vec<AlertView> = rows.build_query_as().fetch_all(&mut *tx).await?;
    let ids: Vec<Uuid> = alerts.iter().map(|alert| alert.id).collect();
    let attempts: Vec<AlertAttemptView> = sqlx::query_as(
        "SELECT * FROM error_alert_attempts WHERE alert_id = ANY($1) ORDER BY alert_id, attempt",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut by_alert: HashMap<Uuid, Vec<AlertAttemptView>> = HashMap::new();
    for attempt in attempts {
        by_alert.entry(attempt.alert_id).or_default().push(attempt);
    }
    for alert in &mut alerts {
        alert.attempts = by_alert.remove(&alert.id).unwrap_or_default();
    }
    Ok((applied, total, alerts))
}

fn filters<'a>(query: &mut QueryBuilder<'a, Postgres>, listing: &'a Listing) {
    let mut clause = " WHERE ";
    if let Some(project) = listing.project {
        query.push(clause).push("a.project = ").push_bind(project);
        clause = " AND ";
    }
    if let Some(issue) = listing.issue {
        query.push(clause).push("a.issue_id = ").push_bind(issue);
        clause = " AND ";
    }
    if let Some(status) = listing.status {
        query
            .push(clause)
            .push("a.status = ")
            .push_bind(status.as_str());
    }
}
