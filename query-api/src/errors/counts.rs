//! Errors per level per minute over the last minutes, every minute present (zero when
//! nothing came), for the dashboard's chart.

use schemas::errors::Level;
use serde::{Deserialize, Serialize};
use service_kit::ApiError;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_MINUTES: i64 = 60;
pub const MAX_MINUTES: i64 = 1_440;

/// Query parameters of `GET /errors/counts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountsSearch {
    /// Only this project's errors (0: the platform's own); every project's by default.
    pub project: Option<i64>,
    /// How many minutes back, this one included: 1 to 1,440 (default 60).
    pub minutes: Option<i64>,
}

impl CountsSearch {
    pub fn minutes(&self) -> Result<i64, ApiError> {
        let minutes = self.minutes.unwrap_or(DEFAULT_MINUTES);
        if !(1..=MAX_MINUTES).contains(&minutes) {
            return Err(ApiError::bad_request(format!(
                "minutes must be 1 to {MAX_MINUTES}, got {minutes}"
            )));
        }
        Ok(minutes)
    }
}

/// The errors of one minute (by when they arrived), per level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MinuteCounts {
    /// The minute's start (UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub minute: OffsetDateTime,
    pub debug: i64,
    pub info: i64,
    pub warning: i64,
    pub error: i64,
    pub fatal: i64,
}

/// The last `minutes` minutes, oldest first, of one project or all.
pub async fn per_minute(
    pool: &PgPool,
    project: Option<i64>,
    minutes: i64,
) -> Result<Vec<MinuteCounts>, sqlx::Error> {
    let levels: String = Level::ALL
        .iter()
        .enumerate()
        .map(|(rank, level)| {
            format!(
                ", coalesce(sum(c.count) FILTER (WHERE c.level = {rank}), 0)::bigint AS {level}"
            )
        })
        .collect();
    let rows = sqlx::query(&format!(
        "WITH now AS (SELECT date_trunc('minute', now(), 'UTC') AS minute) \
         SELECT m.minute{levels} \
         FROM now, generate_series(now.minute - make_interval(mins => ($1 - 1)::int), now.minute, \
                                   interval '1 minute') AS m(minute) \
         LEFT JOIN error_counts c ON c.minute = m.minute \
              AND ($2::bigint IS NULL OR c.project = $2) \
         GROUP BY m.minute ORDER BY m.minute"
    ))
    .bind(minutes)
    .bind(project)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MinuteCounts {
                minute: row.try_get("minute")?,
                debug: row.try_get("debug")?,
                info: row.try_get("info")?,
                warning: row.try_get("warning")?,
                error: row.try_get("error")?,
                fatal: row.try_get("fatal")?,
            })
        })
        .collect()
}
