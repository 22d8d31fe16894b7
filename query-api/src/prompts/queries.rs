//! SQL of the `profiles` read model. Each read also returns the projection's checkpoint
//! from the same snapshot (one statement), which tells the cache how current the rows
//! are. Listings of reference texts read their titles only: the texts live apart and only
//! a text's own view, and a dialogue, read them.

use crate::snapshot;
use schemas::prompts::Language;
use serde::{Deserialize, Serialize};
use service_kit::paging::Page;
use sqlx::{PgPool, QueryBuilder, Row, postgres::PgRow, types::Json};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A profile's own fields, as listings and views show them.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ProfileFields {
    #[sqlx(rename = "profile_id")]
    pub id: i64,
    pub description: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String, example = "en")]
    pub language: Language,
    pub major: String,
    /// 0 before university, 1 to 4 the undergraduate year, 5 a graduate.
    pub understanding_level: i16,
    pub only_references: bool,
    pub data_in_sequence: bool,
    /// Version of the profile; send it in `If-Match` when changing it.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A profile in a listing: its links as ids.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ProfileSummary {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub profile: ProfileFields,
    /// The linked books still there, in the profile's order.
    pub ref_book_ids: Vec<i64>,
    /// The linked reference texts still there, in the profile's order.
    pub ref_data_ids: Vec<i64>,
}

/// A linked book as a profile shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookRef {
    pub id: i64,
    pub author: String,
    pub title: String,
}

/// A linked reference text as a profile shows it (its text is its own view's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DataRef {
    pub id: i64,
    pub title: String,
}

/// A profile with what it links.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: ProfileFields,
    /// The linked books still there, in the profile's order; a deleted one is gone.
    pub ref_books: Vec<BookRef>,
    /// The linked reference texts still there, in the profile's order.
    pub ref_data: Vec<DataRef>,
}

/// A profile row and its owner, who alone may see it.
pub struct Owned<T> {
    pub owner_id: Uuid,
    pub view: T,
}

/// A reference book.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct BookView {
    #[sqlx(rename = "book_id")]
    pub id: i64,
    pub author: String,
    pub title: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A reference text in a listing: without its text.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DataSummary {
    #[sqlx(rename = "data_id")]
    pub id: i64,
    pub title: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A reference text whole.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DataView {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub data: DataSummary,
    pub text: String,
}

/// A linked book, as a dialogue cites it.
#[derive(Debug, Clone, Deserialize)]
pub struct Citation {
    pub author: String,
    pub title: String,
}

/// A linked reference text, as a dialogue carries it.
#[derive(Debug, Clone, Deserialize)]
pub struct Passage {
    pub title: String,
    pub text: String,
}

/// What a profile's dialogue is written from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DialogueSource {
    pub owner_id: Uuid,
    #[sqlx(try_from = "String")]
    pub language: Language,
    pub major: String,
    pub understanding_level: i16,
    pub only_references: bool,
    pub data_in_sequence: bool,
    pub version: i64,
    pub books: Json<Vec<Citation>>,
    pub passages: Json<Vec<Passage>>,
}

const PROFILE: &str = "p.profile_id, p.owner_id, p.description, p.language, p.major, \
     p.understanding_level, p.only_references, p.data_in_sequence, p.version, p.created_at, \
     p.updated_at";

/// A profile's linked books and texts, in its order, as ids.
const LINK_IDS: &str = "ARRAY(SELECT l.book_id FROM prompt_profile_books l \
         WHERE l.profile_id = p.profile_id ORDER BY l.ord) AS ref_book_ids, \
     ARRAY(SELECT l.data_id FROM prompt_profile_data l \
         WHERE l.profile_id = p.profile_id ORDER BY l.ord) AS ref_data_ids";

/// One profile with its linked books and texts, its owner, and the position the snapshot
/// reflects.
pub async fn profile(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, Owned<ProfileView>)>, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, ");
    query.push(PROFILE).push(
        ", coalesce((SELECT jsonb_agg(jsonb_build_object('id', b.book_id, 'author', b.author, \
             'title', b.title) ORDER BY l.ord) FROM prompt_profile_books l \
             JOIN prompt_books b USING (book_id) WHERE l.profile_id = p.profile_id), '[]') \
             AS ref_books, \
         coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.data_id, 'title', d.title) \
             ORDER BY l.ord) FROM prompt_profile_data l JOIN prompt_data d USING (data_id) \
             WHERE l.profile_id = p.profile_id), '[]') AS ref_data \
         FROM prompt_profiles p, ",
    );
    snapshot::push_checkpoint(&mut query, "profiles", source);
    query.push(" c WHERE p.profile_id = ").push_bind(id);
    let Some(row) = query.build().fetch_optional(pool).await? else {
        return Ok(None);
    };
    let view = ProfileView {
        profile: sqlx::FromRow::from_row(&row)?,
        ref_books: row.try_get::<Json<Vec<BookRef>>, _>("ref_books")?.0,
        ref_data: row.try_get::<Json<Vec<DataRef>>, _>("ref_data")?.0,
    };
    let owned = Owned {
        owner_id: row.try_get("owner_id")?,
        view,
    };
    Ok(Some((row.try_get("applied")?, owned)))
}

/// One page of `owner`'s profiles, newest first: the position the snapshot reflects, the
/// total, the profiles.
pub async fn profiles(
    pool: &PgPool,
    source: &str,
    owner: Uuid,
    page: Page,
) -> Result<(i64, i64, Vec<ProfileSummary>), sqlx::Error> {
    let columns = format!("{PROFILE}, {LINK_IDS}");
    paged(
        pool,
        source,
        "prompt_profiles",
        "profile_id",
        &columns,
        owner,
        page,
    )
    .await
}

/// What profile `id`'s dialogue is written from, and the position the snapshot reflects.
pub async fn dialogue_source(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, DialogueSource)>, sqlx::Error> {
    let mut query = QueryBuilder::new(
        "SELECT c.applied, p.owner_id, p.language, p.major, p.understanding_level, \
         p.only_references, p.data_in_sequence, p.version, \
         coalesce((SELECT jsonb_agg(jsonb_build_object('author', b.author, 'title', b.title) \
             ORDER BY l.ord) FROM prompt_profile_books l JOIN prompt_books b USING (book_id) \
             WHERE l.profile_id = p.profile_id), '[]') AS books, \
         coalesce((SELECT jsonb_agg(jsonb_build_object('title', d.title, 'text', t.text) \
             ORDER BY l.ord) FROM prompt_profile_data l JOIN prompt_data d USING (data_id) \
             JOIN prompt_data_texts t USING (data_id) WHERE l.profile_id = p.profile_id), '[]') \
             AS passages \
         FROM prompt_profiles p, ",
    );
    snapshot::push_checkpoint(&mut query, "profiles", source);
    query.push(" c WHERE p.profile_id = ").push_bind(id);
    let row = query.build().fetch_optional(pool).await?;
    row.map(|row| Ok((row.try_get("applied")?, sqlx::FromRow::from_row(&row)?)))
        .transpose()
}

/// One book, its owner, and the position the snapshot reflects.
pub async fn book(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, Owned<BookView>)>, sqlx::Error> {
    let columns = "b.book_id, b.owner_id, b.author, b.title, b.version, b.created_at, b.updated_at";
    let from = "prompt_books b";
    one(pool, source, columns, from, "b.book_id", id).await
}

/// One page of `owner`'s books, newest first.
pub async fn books(
    pool: &PgPool,
    source: &str,
    owner: Uuid,
    page: Page,
) -> Result<(i64, i64, Vec<BookView>), sqlx::Error> {
    let columns = "p.book_id, p.author, p.title, p.version, p.created_at, p.updated_at";
    paged(
        pool,
        source,
        "prompt_books",
        "book_id",
        columns,
        owner,
        page,
    )
    .await
}

/// One reference text with its text, its owner, and the position the snapshot reflects.
pub async fn data(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, Owned<DataView>)>, sqlx::Error> {
    let columns = "d.data_id, d.owner_id, d.title, d.version, d.created_at, d.updated_at, t.text";
    let from = "prompt_data d JOIN prompt_data_texts t USING (data_id)";
    one(pool, source, columns, from, "d.data_id", id).await
}

/// One page of `owner`'s reference texts, newest first, without their texts.
pub async fn data_list(
    pool: &PgPool,
    source: &str,
    owner: Uuid,
    page: Page,
) -> Result<(i64, i64, Vec<DataSummary>), sqlx::Error> {
    let columns = "p.data_id, p.title, p.version, p.created_at, p.updated_at";
    paged(pool, source, "prompt_data", "data_id", columns, owner, page).await
}

/// The row of `from` whose `key` is `id`, as `T`, with its owner and the checkpoint.
async fn one<T: for<'r> sqlx::FromRow<'r, PgRow>>(
    pool: &PgPool,
    source: &str,
    columns: &str,
    from: &str,
    key: &str,
    id: i64,
) -> Result<Option<(i64, Owned<T>)>, sqlx::Error> {
    let mut query = QueryBuilder::new(format!("SELECT c.applied, {columns} FROM {from}, "));
    snapshot::push_checkpoint(&mut query, "profiles", source);
    query.push(format!(" c WHERE {key} = ")).push_bind(id);
    let Some(row) = query.build().fetch_optional(pool).await? else {
        return Ok(None);
    };
    let owned = Owned {
        owner_id: row.try_get("owner_id")?,
        view: T::from_row(&row)?,
    };
    Ok(Some((row.try_get("applied")?, owned)))
}

/// One page of `owner`'s rows of `table` (aliased `p`), newest first by `id_column`: the
/// position the snapshot reflects, the total, the rows.
async fn paged<T: for<'r> sqlx::FromRow<'r, PgRow>>(
    pool: &PgPool,
    source: &str,
    table: &str,
    id_column: &str,
    columns: &str,
    owner: Uuid,
    page: Page,
) -> Result<(i64, i64, Vec<T>), sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, t.total, p.* FROM ");
    snapshot::push_checkpoint(&mut query, "profiles", source);
    query
        .push(format!(
            " c CROSS JOIN (SELECT count(*) AS total FROM {table} WHERE owner_id = "
        ))
        .push_bind(owner)
        .push(format!(
            ") t LEFT JOIN LATERAL (SELECT {columns} FROM {table} p WHERE p.owner_id = "
        ))
        .push_bind(owner)
        .push(format!(" ORDER BY p.{id_column} DESC LIMIT "))
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset())
        .push(format!(") p ON true ORDER BY p.{id_column} DESC"));
    let rows = query.build().fetch_all(pool).await?;
    snapshot::split_page(&rows, id_column)
}
