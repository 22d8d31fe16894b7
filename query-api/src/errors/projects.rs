//! Projects as the read model holds them, with the DSN built for the caller's view of
//! the platform's address. The platform's own project (0) is listed from the start: it
//! exists without being created, and has a row only once its alert rules changed.

use schemas::errors::{AlertRules, PLATFORM_PROJECT};
use serde::Serialize;
use service_kit::public_url::PublicUrl;
use sqlx::{PgPool, types::Json};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::cache::Weigh;

/// The name the platform's own project goes by (as `error_report::project` names it).
const PLATFORM_NAME: &str = "platform";

/// A project's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub public_key: Option<String>,
    pub rate_limit_per_minute: i64,
    pub alert_rules: Json<AlertRules>,
    pub created_at: Option<OffsetDateTime>,
    pub updated_at: Option<OffsetDateTime>,
    pub version: i64,
}

impl Weigh for Vec<ProjectRow> {
    fn heap_bytes(&self) -> usize {
        self.iter()
            .map(|row| {
                let rules = serde_json::to_vec(&row.alert_rules.0).map_or(0, |json| json.len());
                std::mem::size_of::<ProjectRow>()
                    + row.name.len()
                    + row.public_key.as_ref().map_or(0, String::len)
                    + rules
            })
            .sum()
    }
}

impl ProjectRow {
    /// The platform's own project before any admin changed it.
    fn platform() -> Self {
        Self {
            id: PLATFORM_PROJECT,
            name: PLATFORM_NAME.into(),
            public_key: None,
            rate_limit_per_minute: i64::MAX,
            alert_rules: Json(AlertRules::default()),
            created_at: None,
            updated_at: None,
            version: 0,
        }
    }

    pub fn view(&self, public: &PublicUrl) -> ProjectView {
        ProjectView {
            id: self.id,
            name: self.name.clone(),
            public_key: self.public_key.clone(),
            dsn: self
                .public_key
                .as_deref()
                .map(|key| public.dsn(key, self.id)),
            // The platform's own project is not limited; i64::MAX is no number for JSON.
            rate_limit_per_minute: (self.rate_limit_per_minute != i64::MAX)
                .then_some(self.rate_limit_per_minute),
            alert_rules: self.alert_rules.0.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// A project as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    /// 0 for the platform's own errors.
    pub id: i64,
    pub name: String,
    /// The DSN's client key; null for the platform's own project, which takes no reports
    /// over HTTP.
    pub public_key: Option<String>,
    /// What an SDK is set up with: `http://<key>@<host>/<id>` (the host is `PUBLIC_URL`'s,
    /// or the one this request was addressed to).
    #[schema(example = "http://0123456789abcdef0123456789abcdef@127.0.0.1:8080/1")]
    pub dsn: Option<String>,
    /// Errors accepted per minute; null: no limit (the platform's own project).
    pub rate_limit_per_minute: Option<i64>,
    /// `on_new_issue`, `on_regression`, `frequency` ({events, minutes} or null),
    /// `interval_minutes`, `slack_webhook_url`, `email_to`.
    #[schema(value_type = Object)]
    pub alert_rules: AlertRules,
    /// Null for the platform's own project.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<OffsetDateTime>,
    /// The project stream's version (0: never changed); its ETag.
    pub version: i64,
}

/// Every project by id, the platform's first, and the position the snapshot reflects.
pub async fn all(pool: &PgPool, source: &str) -> Result<(i64, Vec<ProjectRow>), sqlx::Error> {
    let applied: i64 = sqlx::query_scalar(super::CHECKPOINT)
        .bind(source)
        .fetch_one(pool)
        .await?;
    // The checkpoint first: rows read after it are at least as new, which a cache entry
    // stamped with it may safely be.
    let mut rows: Vec<ProjectRow> = sqlx::query_as(
        "SELECT id, name, public_key, rate_limit_per_minute, alert_rules, created_at, \
         updated_at, version FROM error_projects ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    if rows.first().is_none_or(|row| row.id != PLATFORM_PROJECT) {
        rows.insert(0, ProjectRow::platform());
    }
    Ok((applied, rows))
}
