//! SQL of the items read model. Each query also returns the projection's checkpoint
//! from the same snapshot, which tells the cache how current the rows are.

use serde::Serialize;
use service_kit::paging::{MAX_DEPTH, Page};
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An item as the read model holds it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ItemView {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Version of the item; send it in `If-Match` when changing it.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

const CHECKPOINT: &str = "(SELECT coalesce((SELECT position FROM projection_checkpoints \
     WHERE projection = 'items' AND source = $1), 0) AS applied)";

/// One item (if live) and the position the snapshot reflects.
pub async fn item(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, ItemView)>, sqlx::Error> {
    let row: Option<AppliedItem> = sqlx::query_as(&format!(
        "SELECT c.applied, i.id, i.name, i.description, i.version, i.created_at, i.updated_at \
         FROM items i, {CHECKPOINT} c WHERE i.id = $2"
    ))
    .bind(source)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| (row.applied, row.item)))
}

#[derive(sqlx::FromRow)]
struct AppliedItem {
    applied: i64,
    #[sqlx(flatten)]
    item: ItemView,
}

/// One page of items by id, the total counted up to `MAX_DEPTH + 1`, and the position the
/// snapshot reflects.
pub async fn page(
    pool: &PgPool,
    source: &str,
    page: Page,
) -> Result<(i64, i64, Vec<ItemView>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    // Counting stops one row past the deepest a page reaches, as for posts: an exact count
    // would walk the whole table for every uncached page an anonymous client asks for.
    let (applied, total): (i64, i64) = sqlx::query_as(&format!(
        "SELECT c.applied, (SELECT count(*) FROM (SELECT FROM items LIMIT {}) counted) \
         FROM {CHECKPOINT} c",
        MAX_DEPTH + 1
    ))
    .bind(source)
    .fetch_one(&mut *tx)
    .await?;
    let items: Vec<ItemView> = sqlx::query_as(
        "SELECT id, name, description, version, created_at, updated_at FROM items \
         ORDER BY id LIMIT $1 OFFSET $2",
    )
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((applied, total, items))
}
