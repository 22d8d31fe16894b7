//! Issues as the read model holds them: listings with totals, one issue with its latest
//! error whole, and an issue's errors, latest first.

use schemas::errors::{IssueStatus, Level};
use serde::Serialize;
use serde_json::Value;
use service_kit::paging::Page;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::listing::Listing;

crate::docs::status_schema!(
    /// The names of [`IssueStatus`] in OpenAPI.
    IssueStatusSchema for IssueStatus,
    "IssueStatus",
    "open -> resolved (fixed; a new error reopens it as a regression) or muted \
     (counted, never alerted); resolved and muted issues may be reopened."
);

crate::docs::status_schema!(
    /// The names of [`Level`] in OpenAPI.
    LevelSchema for Level,
    "Level",
    "How serious an error is, lowest first."
);

/// An issue as listings show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueSummary {
    pub id: Uuid,
    pub project: i64,
    /// `Type: value` of its first error, or its message.
    pub title: String,
    /// Where its latest error happened, when known.
    pub culprit: Option<String>,
    /// The highest level of its errors.
    #[schema(value_type = LevelSchema)]
    pub level: Level,
    #[schema(value_type = IssueStatusSchema)]
    pub status: IssueStatus,
    /// Reopened by an error after it was resolved, and not acted on since.
    pub regressed: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_regressed_at: Option<OffsetDateTime>,
    /// How many errors it grouped.
    pub times_seen: i64,
    /// How many distinct users they happened to, where known.
    pub users_seen: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: OffsetDateTime,
    pub last_release: Option<String>,
    pub last_environment: Option<String>,
    /// The issue stream's version; send it in `If-Match` to resolve, mute or reopen.
    pub version: i64,
}

/// One issue with its latest error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueView {
    #[serde(flatten)]
    pub issue: IssueSummary,
    /// What groups its errors.
    pub fingerprint: Vec<String>,
    /// Its latest error whole (an `ErrorLogged` payload: exceptions with their stack
    /// frames, message, tags, release, environment, user, extra, request id).
    #[schema(value_type = Option<Object>)]
    pub latest_event: Option<Value>,
}

/// One error of an issue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorView {
    pub event_id: Uuid,
    #[schema(value_type = LevelSchema)]
    pub level: Level,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    /// The error whole (an `ErrorLogged` payload).
    #[schema(value_type = Object)]
    pub error: Value,
    /// Its position in the log.
    pub position: i64,
}

const COLUMNS: &str = "i.id, i.project, i.title, i.culprit, i.level, i.status, i.regressed, \
     i.last_regressed_at, i.times_seen, i.users_seen, i.first_seen, i.last_seen, \
     i.last_release, i.last_environment, i.version";

fn summary(row: &sqlx::postgres::PgRow) -> Result<IssueSummary, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(IssueSummary {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        title: row.try_get("title")?,
        culprit: row.try_get("culprit")?,
        level: Level::from_rank(row.try_get("level")?),
        status: IssueStatus::parse(&status).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "status".into(),
            source: format!("unknown status {status:?}").into(),
        })?,
        regressed: row.try_get("regressed")?,
        last_regressed_at: row.try_get("last_regressed_at")?,
        times_seen: row.try_get("times_seen")?,
        users_seen: row.try_get("users_seen")?,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        last_release: row.try_get("last_release")?,
        last_environment: row.try_get("last_environment")?,
        version: row.try_get("version")?,
    })
}

/// One page of a listing and the total that match, from one snapshot.
pub async fn page(
    pool: &PgPool,
    listing: &Listing,
) -> Result<(i64, Vec<IssueSummary>), sqlx::Error> {
    let mut query =
        QueryBuilder::new("SELECT t.total, p.* FROM (SELECT count(*) AS total FROM error_issues i");
    filters(&mut query, listing);
    query
        .push(") t LEFT JOIN LATERAL (SELECT ")
        .push(COLUMNS)
        .push(" FROM error_issues i");
    filters(&mut query, listing);
    let column = listing.sort.column();
    query
        .push(format!(" ORDER BY i.{column} DESC, i.id DESC"))
        .push(" LIMIT ")
        .push_bind(listing.page.limit())
        .push(" OFFSET ")
        .push_bind(listing.page.offset())
        .push(") p ON true");
    query.push(format!(" ORDER BY p.{column} DESC, p.id DESC"));
    let rows = query.build().fetch_all(pool).await?;
    let total = match rows.first() {
        Some(row) => row.try_get("total")?,
        None => 0,
    };
    let issues = rows
        .iter()
        .filter(|row| matches!(row.try_get::<Option<Uuid>, _>("id"), Ok(Some(_))))
        .map(summary)
        .collect::<Result<_, _>>()?;
    Ok((total, issues))
}

fn filters<'a>(query: &mut QueryBuilder<'a, Postgres>, listing: &'a Listing) {
    query.push(" WHERE true");
    if let Some(project) = listing.project {
        query.push(" AND i.project = ").push_bind(project);
    }
    if let Some(status) = listing.status {
        query.push(" AND i.status = ").push_bind(status.as_str());
    }
    // The issues at this level or above.
    if let Some(level) = listing.level {
        query.push(" AND i.level >= ").push_bind(level.rank());
    }
    // strpos, not LIKE: the search text is never a pattern.
    if let Some(q) = &listing.q {
        query
            .push(" AND (strpos(lower(i.title), lower(")
            .push_bind(q)
            .push(")) > 0 OR strpos(lower(coalesce(i.culprit, '')), lower(")
            .push_bind(q)
            .push(")) > 0)");
    }
}

/// One issue with its latest error, if it exists.
pub async fn issue(pool: &PgPool, id: Uuid) -> Result<Option<IssueView>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, i.fingerprint, l.data AS payload FROM error_issues i \
         LEFT JOIN error_events e ON e.project = i.project AND e.event_id = i.last_event_id \
         LEFT JOIN events l ON l.position = e.position \
         WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(IssueView {
        issue: summary(&row)?,
        fingerprint: row.try_get("fingerprint")?,
        latest_event: row.try_get("payload")?,
    }))
}

/// One page of an issue's errors, latest first, and how many it has; None when there is
/// no such issue.
pub async fn errors(
    pool: &PgPool,
    issue: Uuid,
    page: Page,
) -> Result<Option<(i64, Vec<ErrorView>)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT t.total, e.event_id, e.level, e.title, e.received_at, e.occurred_at, \
         l.data AS payload, e.position \
         FROM (SELECT count(*) AS total FROM error_events WHERE issue = $1) t \
         CROSS JOIN (SELECT 1 FROM error_issues WHERE id = $1) i \
         LEFT JOIN LATERAL (SELECT * FROM error_events WHERE issue = $1 \
                            ORDER BY position DESC LIMIT $2 OFFSET $3) e ON true \
         LEFT JOIN events l ON l.position = e.position \
         ORDER BY e.position DESC",
    )
    .bind(issue)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let total = first.try_get("total")?;
    let errors = rows
        .iter()
        .filter(|row| matches!(row.try_get::<Option<Uuid>, _>("event_id"), Ok(Some(_))))
        .map(|row| {
            Ok(ErrorView {
                event_id: row.try_get("event_id")?,
                level: Level::from_rank(row.try_get("level")?),
                title: row.try_get("title")?,
                received_at: row.try_get("received_at")?,
                occurred_at: row.try_get("occurred_at")?,
                error: row.try_get("payload")?,
                position: row.try_get("position")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some((total, errors)))
}
