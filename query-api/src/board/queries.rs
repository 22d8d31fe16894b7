//! SQL of the board read model. Each query also returns the projection's checkpoint from
//! the same snapshot (one statement), which tells the cache how current the rows are.
//! Listings read the posts table only: bodies live apart and only the detail reads one.

use crate::snapshot;
use serde::Serialize;
use service_kit::paging::{MAX_DEPTH, Page};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A post in a listing: an excerpt of its content, not the content.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PostSummary {
    #[sqlx(rename = "post_id")]
    pub id: i64,
    pub author_id: Uuid,
    pub title: String,
    /// The start of the content, whitespace folded.
    pub excerpt: String,
    pub comment_count: i32,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A post with its whole content.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PostView {
    #[sqlx(rename = "post_id")]
    pub id: i64,
    pub author_id: Uuid,
    pub title: String,
    pub content: String,
    pub comment_count: i32,
    /// Version of the post; send it in `If-Match` when editing or deleting it.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A comment on a post.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CommentView {
    #[sqlx(rename = "comment_id")]
    pub id: i64,
    pub post_id: i64,
    pub author_id: Uuid,
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// What a post listing asks for; also the key of its cached page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostListing {
    pub page: Page,
    pub author: Option<Uuid>,
    /// Only posts whose title contains this text (literally, ignoring case).
    pub title: Option<String>,
}

const SUMMARY: &str = "p.post_id, p.author_id, p.title, p.excerpt, p.comment_count, p.version, \
     p.created_at, p.updated_at";

/// One post with its content, and the position the snapshot reflects.
pub async fn post(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, PostView)>, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, p.post_id, p.author_id, p.title, ");
    query.push(
        "b.content, p.comment_count, p.version, p.created_at, p.updated_at \
         FROM posts p JOIN post_bodies b ON b.post_id = p.post_id, ",
    );
    snapshot::push_checkpoint(&mut query, "board", source);
    query.push(" c WHERE p.post_id = ").push_bind(id);
    let row = query.build().fetch_optional(pool).await?;
    row.map(|row| Ok((row.try_get("applied")?, sqlx::FromRow::from_row(&row)?)))
        .transpose()
}

/// One page of posts, newest first: the position the snapshot reflects, the total, the
/// posts.
pub async fn posts(
    pool: &PgPool,
    source: &str,
    listing: &PostListing,
) -> Result<(i64, i64, Vec<PostSummary>), sqlx::Error> {
    let rows = posts_query("", source, listing)
        .build()
        .fetch_all(pool)
        .await?;
    snapshot::split_page(&rows, "post_id")
}

/// The statement of a post listing, after `prefix` (e.g. `EXPLAIN `).
pub fn posts_query<'a>(
    prefix: &str,
    source: &'a str,
    listing: &'a PostListing,
) -> QueryBuilder<'a, Postgres> {
    let mut query = QueryBuilder::new(prefix);
    query.push("SELECT c.applied, t.total, p.* FROM ");
    snapshot::push_checkpoint(&mut query, "board", source);
    // Counting stops one row past the deepest a page reaches: past it the total is only
    // "more than that", and an exact count would walk every match of every new search.
    query.push(" c CROSS JOIN (SELECT count(*) AS total FROM (SELECT FROM posts p");
    post_filters(&mut query, listing);
    query
        .push(" LIMIT ")
        .push_bind(MAX_DEPTH + 1)
        .push(") counted) t LEFT JOIN LATERAL (SELECT ")
        .push(SUMMARY)
        .push(" FROM posts p");
    post_filters(&mut query, listing);
    query
        .push(" ORDER BY p.post_id DESC LIMIT ")
        .push_bind(listing.page.limit())
        .push(" OFFSET ")
        .push_bind(listing.page.offset())
        .push(") p ON true ORDER BY p.post_id DESC");
    query
}

fn post_filters<'a>(query: &mut QueryBuilder<'a, Postgres>, listing: &'a PostListing) {
    query.push(" WHERE true");
    if let Some(author) = listing.author {
        query.push(" AND p.author_id = ").push_bind(author);
    }
    if let Some(title) = &listing.title {
        // LIKE, which the trigram index of lower(title) serves, with the text's own `%`,
        // `_` and `\` escaped: the search text is never a pattern.
        query
            .push(" AND lower(p.title) LIKE '%' || lower(")
            .push_bind(literal_pattern(title))
            .push(") || '%'");
    }
}

/// `text` as a LIKE pattern that matches itself only.
fn literal_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

/// One page of a post's comments, oldest first: the position the snapshot reflects, the
/// total, the comments; None when there is no such post.
pub async fn comments(
    pool: &PgPool,
    source: &str,
    post_id: i64,
    page: Page,
) -> Result<Option<(i64, i64, Vec<CommentView>)>, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, t.total, k.* FROM ");
    snapshot::push_checkpoint(&mut query, "board", source);
    query
        .push(
            " c CROSS JOIN (SELECT p.comment_count::bigint AS total FROM posts p \
             WHERE p.post_id = ",
        )
        .push_bind(post_id)
        .push(
            ") t LEFT JOIN LATERAL (SELECT k.comment_id, k.post_id, k.author_id, k.content, \
             k.created_at FROM comments k WHERE k.post_id = ",
        )
        .push_bind(post_id)
        .push(" ORDER BY k.comment_id LIMIT ")
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset())
        .push(") k ON true ORDER BY k.comment_id");
    let rows = query.build().fetch_all(pool).await?;
    // No row at all: the post is not there (the CROSS JOIN found no count).
    if rows.is_empty() {
        return Ok(None);
    }
    snapshot::split_page(&rows, "comment_id").map(Some)
}
