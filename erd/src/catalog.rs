//! What the database says about its own tables: columns, keys, constraints, indexes and
//! sequences of the `public` schema, read from the system catalogs in a stable order.

use sqlx::PgPool;

/// The migrator's own bookkeeping, not part of the platform's model.
const BOOKKEEPING: &str = "_sqlx_migrations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    /// `UNLOGGED` tables lose their rows in a crash of the server.
    pub unlogged: bool,
    pub columns: Vec<Column>,
    /// Constraints other than the primary key, unique and foreign keys shown as columns'
    /// keys: checks, and those keys again with their exact definition.
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// As `format_type` spells it, e.g. `timestamp with time zone`.
    pub data_type: String,
    pub nullable: bool,
    pub primary_key: bool,
    pub unique: bool,
    pub foreign_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references: String,
}

/// Every table of the `public` schema, by name, and the sequences.
pub async fn read(pool: &PgPool) -> sqlx::Result<(Vec<Table>, Vec<String>)> {
    let names: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname, c.relpersistence = 'u'
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> $1
          ORDER BY c.relname",
    )
    .bind(BOOKKEEPING)
    .fetch_all(pool)
    .await?;
    let mut tables = Vec::with_capacity(names.len());
    for (name, unlogged) in names {
        tables.push(table(pool, name, unlogged).await?);
    }
    let sequences = sqlx::query_scalar(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await?;
    Ok((tables, sequences))
}

async fn table(pool: &PgPool, name: String, unlogged: bool) -> sqlx::Result<Table> {
    let relation = format!("public.{name}");
    let columns: Vec<(String, String, bool, bool, bool, bool)> = sqlx::query_as(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid
                          AND k.contype = 'p' AND a.attnum = ANY (k.conkey)),
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid
                          AND k.contype = 'u' AND a.attnum = ANY (k.conkey)),
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid
                          AND k.contype = 'f' AND a.attnum = ANY (k.conkey))
           FROM pg_attribute a
          WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum",
    )
    .bind(&relation)
    .fetch_all(pool)
    .await?;
    let constraints: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
          WHERE conrelid = $1::regclass ORDER BY conname",
    )
    .bind(&relation)
    .fetch_all(pool)
    .await?;
    // Indexes that back a constraint are shown with it.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                              AND k.conrelid = i.indrelid)
          ORDER BY c.relname",
    )
    .bind(&relation)
    .fetch_all(pool)
    .await?;
    let foreign_keys: Vec<(Vec<String>, String)> = sqlx::query_as(
        "SELECT ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(num, ord)
                        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num
                       ORDER BY u.ord),
                k.confrelid::regclass::text
           FROM pg_constraint k
          WHERE k.conrelid = $1::regclass AND k.contype = 'f' ORDER BY k.conname",
    )
    .bind(&relation)
    .fetch_all(pool)
    .await?;
    Ok(Table {
        name,
        unlogged,
        columns: columns
            .into_iter()
            .map(
                |(name, data_type, nullable, primary_key, unique, foreign_key)| Column {
                    name,
                    data_type,
                    nullable,
                    primary_key,
                    unique,
                    foreign_key,
                },
            )
            .collect(),
        constraints: constraints
            .into_iter()
            .map(|(name, definition)| Constraint { name, definition })
            .collect(),
        indexes: indexes
            .into_iter()
            .map(|(name, definition)| Index { name, definition })
            .collect(),
        foreign_keys: foreign_keys
            .into_iter()
            .map(|(columns, references)| ForeignKey {
                columns,
                references,
            })
            .collect(),
    })
}
