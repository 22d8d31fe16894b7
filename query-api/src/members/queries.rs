//! SQL of the members read model. Each query also returns the projection's checkpoint
//! from the same snapshot, which tells the cache how current the rows are.

use serde::Serialize;
use service_kit::paging::Page;
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A member (user account) as the read model holds it. Never the password or its hash.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct MemberView {
    #[sqlx(rename = "user_id")]
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// `user` or `admin`.
    pub role: String,
    pub blocked: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

const COLUMNS: &str = "m.user_id, m.email, m.name, m.role, m.blocked, m.created_at, m.updated_at";
const CHECKPOINT: &str = "(SELECT coalesce((SELECT position FROM projection_checkpoints \
     WHERE projection = 'members' AND source = $1), 0) AS applied)";

#[derive(sqlx::FromRow)]
struct AppliedMember {
    applied: i64,
    #[sqlx(flatten)]
    member: MemberView,
}

/// One member and the position the snapshot reflects.
pub async fn member(
    pool: &PgPool,
    source: &str,
    id: Uuid,
) -> Result<Option<(i64, MemberView)>, sqlx::Error> {
    let row: Option<AppliedMember> = sqlx::query_as(&format!(
        "SELECT c.applied, {COLUMNS} FROM members m, {CHECKPOINT} c WHERE m.user_id = $2"
    ))
    .bind(source)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| (row.applied, row.member)))
}

/// One page of members, oldest first, whose name or email contains `search` (taken
/// literally, case-insensitively), and the total that match.
pub async fn page(
    pool: &PgPool,
    page: Page,
    search: Option<&str>,
) -> Result<(i64, Vec<MemberView>), sqlx::Error> {
    // strpos, not LIKE: the search text is never a pattern.
    let filter = "($1::text IS NULL OR strpos(lower(m.name), lower($1)) > 0 \
                  OR strpos(m.email, lower($1)) > 0)";
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM members m WHERE {filter}"))
        .bind(search)
        .fetch_one(&mut *tx)
        .await?;
    let members: Vec<MemberView> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM members m WHERE {filter} ORDER BY m.created_at, m.user_id \
         LIMIT $2 OFFSET $3"
    ))
    .bind(search)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((total, members))
}
