//! Reference books and texts in the `profiles` read model. Deleting one unlinks it from
//! every profile in the same transaction: the original's `SET NULL`, so a profile's
//! dialogue stops citing it at once.

use schemas::prompts::{RefBookCreated, RefBookUpdated, RefDataCreated, RefDataUpdated};
use sqlx::PgConnection;

use crate::Tables;

/// Strict on purpose: a book created twice fails the batch (primary key).
pub(super) async fn book_created(
    conn: &mut PgConnection,
    tables: Tables,
    e: &RefBookCreated,
    version: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO {} (book_id, owner_id, author, title, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        tables.name("prompt_books")
    );
    sqlx::query(&sql)
        .bind(e.book_id)
        .bind(e.owner_id)
        .bind(&e.author)
        .bind(&e.title)
        .bind(version)
        .bind(e.created_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The rows changed: 1, or 0 when the event does not follow the row.
pub(super) async fn book_updated(
    conn: &mut PgConnection,
    tables: Tables,
    e: &RefBookUpdated,
    version: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "UPDATE {} SET author = $2, title = $3, version = $4, updated_at = $5 \
         WHERE book_id = $1 AND version = $4 - 1",
        tables.name("prompt_books")
    );
    let changed = sqlx::query(&sql)
        .bind(e.book_id)
        .bind(&e.author)
        .bind(&e.title)
        .bind(version)
        .bind(e.updated_at)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(changed)
}

/// Deletes the book and its links; the rows deleted (1, or 0 when the event does not
/// follow the row).
pub(super) async fn book_deleted(
    conn: &mut PgConnection,
    tables: Tables,
    book_id: i64,
    version: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "WITH b AS (DELETE FROM {} WHERE book_id = $1 AND version = $2 - 1 RETURNING book_id), \
         l AS (DELETE FROM {} l USING b WHERE l.book_id = b.book_id) \
         SELECT count(*) FROM b",
        tables.name("prompt_books"),
        tables.name("prompt_profile_books")
    );
    counted(conn, &sql, book_id, version).await
}

/// Strict on purpose: a text created twice fails the batch (primary key).
pub(super) async fn data_created(
    conn: &mut PgConnection,
    tables: Tables,
    e: &RefDataCreated,
    version: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH d AS (INSERT INTO {} (data_id, owner_id, title, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)) \
         INSERT INTO {} (data_id, text) VALUES ($1, $6)",
        tables.name("prompt_data"),
        tables.name("prompt_data_texts")
    );
    sqlx::query(&sql)
        .bind(e.data_id)
        .bind(e.owner_id)
        .bind(&e.title)
        .bind(version)
        .bind(e.created_at)
        .bind(&e.text)
        .execute(conn)
        .await?;
    Ok(())
}

/// The rows changed: 1, or 0 when the event does not follow the row.
pub(super) async fn data_updated(
    conn: &mut PgConnection,
    tables: Tables,
    e: &RefDataUpdated,
    version: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "WITH d AS (UPDATE {} SET title = $2, version = $3, updated_at = $4 \
             WHERE data_id = $1 AND version = $3 - 1 RETURNING data_id), \
         t AS (UPDATE {} t SET text = $5 FROM d WHERE t.data_id = d.data_id) \
         SELECT count(*) FROM d",
        tables.name("prompt_data"),
        tables.name("prompt_data_texts")
    );
    let changed: i64 = sqlx::query_scalar(&sql)
        .bind(e.data_id)
        .bind(&e.title)
        .bind(version)
        .bind(e.updated_at)
        .bind(&e.text)
        .fetch_one(conn)
        .await?;
    Ok(changed as u64)
}

/// Deletes the text, its body and its links; the rows deleted (1, or 0 when the event
/// does not follow the row).
pub(super) async fn data_deleted(
    conn: &mut PgConnection,
    tables: Tables,
    data_id: i64,
    version: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "WITH d AS (DELETE FROM {} WHERE data_id = $1 AND version = $2 - 1 RETURNING data_id), \
         t AS (DELETE FROM {} t USING d WHERE t.data_id = d.data_id), \
         l AS (DELETE FROM {} l USING d WHERE l.data_id = d.data_id) \
         SELECT count(*) FROM d",
        tables.name("prompt_data"),
        tables.name("prompt_data_texts"),
        tables.name("prompt_profile_data")
    );
    counted(conn, &sql, data_id, version).await
}

/// Runs a deletion `sql` of the row `id` at the version before `version`, which counts
/// the rows it deleted.
async fn counted(conn: &mut PgConnection, sql: &str, id: i64, version: i64) -> anyhow::Result<u64> {
    let deleted: i64 = sqlx::query_scalar(sql)
        .bind(id)
        .bind(version)
        .fetch_one(conn)
        .await?;
    Ok(deleted as u64)
}
