//! Reads that carry the checkpoint of the projection they read in the same statement, so
//! that the position a response reports and the rows it shows are one snapshot.

use sqlx::{Postgres, QueryBuilder, Row, ValueRef, postgres::PgRow};

/// Pushes `(SELECT … AS applied)`: the position `projection` has applied from `source`,
/// 0 before its first batch.
pub fn push_checkpoint<'a>(
    query: &mut QueryBuilder<'a, Postgres>,
    projection: &'static str,
    source: &'a str,
) {
    query
        .push(format!(
            "(SELECT coalesce((SELECT position FROM projection_checkpoints \
             WHERE projection = '{projection}' AND source = "
        ))
        .push_bind(source)
        .push("), 0) AS applied)");
}

/// The checkpoint and the total of a listing, from its first row: a listing statement
/// returns one row even for an empty page.
pub fn head(rows: &[PgRow]) -> Result<(i64, i64), sqlx::Error> {
    let first = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    Ok((first.try_get("applied")?, first.try_get("total")?))
}

/// The rows of a listing that hold an item: those whose `id_column` is set (an empty
/// page's one row has it null).
pub fn items<'r>(rows: &'r [PgRow], id_column: &'r str) -> impl Iterator<Item = &'r PgRow> {
    rows.iter().filter(move |row| {
        row.try_get_raw(id_column)
            .is_ok_and(|value| !value.is_null())
    })
}

/// A listing's checkpoint, total and items.
pub fn split_page<T: for<'r> sqlx::FromRow<'r, PgRow>>(
    rows: &[PgRow],
    id_column: &str,
) -> Result<(i64, i64, Vec<T>), sqlx::Error> {
    let (applied, total) = head(rows)?;
    let items = items(rows, id_column)
        .map(T::from_row)
        .collect::<Result<_, _>>()?;
    Ok((applied, total, items))
}
