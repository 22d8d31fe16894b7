//! The board read model: posts (without bodies), post bodies apart, and comments.
//!
//! A post's comment count moves with its comments, in the same statement. A comment
//! whose post was deleted before it arrived (a comment racing the deletion) is not
//! shown, as the deletion's comments are not.

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    board::{BoardEvent, CommentAdded, PostCreated},
};
use sqlx::PgConnection;

use crate::{Projection, Tables};

/// Characters of the content a listing shows.
pub const EXCERPT_CHARS: usize = 200;

pub struct BoardProjection;

#[async_trait]
impl Projection for BoardProjection {
    const NAME: &str = "board";
    const CONTEXT: &str = BoardEvent::CONTEXT;
    const TABLES: &[&str] = &["posts", "post_bodies", "comments"];

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let names = Names {
            posts: tables.name("posts"),
            bodies: tables.name("post_bodies"),
            comments: tables.name("comments"),
        };
        for event in events {
            let version = event.stream_version;
            match event.decode::<BoardEvent>()? {
                BoardEvent::PostCreated(e) => create_post(conn, &names, &e, version).await?,
                BoardEvent::PostUpdated(e) => {
                    let sql = format!(
                        "WITH p AS (UPDATE {} SET title = $2, excerpt = $3, version = $4, \
                         updated_at = $5 WHERE post_id = $1 AND version = $4 - 1 RETURNING post_id) \
                         UPDATE {} b SET content = $6 FROM p WHERE b.post_id = p.post_id",
                        names.posts, names.bodies
                    );
                    let changed = sqlx::query(&sql)
                        .bind(e.post_id)
                        .bind(&e.title)
                        .bind(excerpt(&e.content))
                        .bind(version)
                        .bind(e.updated_at)
                        .bind(&e.content)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                    follows(changed, event)?;
                }
                BoardEvent::PostDeleted(e) => {
                    let sql = format!(
                        "WITH p AS (DELETE FROM {} WHERE post_id = $1 AND version = $2 - 1 \
                             RETURNING post_id), \
                         c AS (DELETE FROM {} WHERE post_id IN (SELECT post_id FROM p)) \
                         DELETE FROM {} b USING p WHERE b.post_id = p.post_id",
                        names.posts, names.comments, names.bodies
                    );
                    let deleted = sqlx::query(&sql)
                        .bind(e.post_id)
                        .bind(version)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                    follows(deleted, event)?;
                }
                BoardEvent::CommentAdded(e) => add_comment(conn, &names, &e, version).await?,
                BoardEvent::CommentDeleted(e) => {
                    let sql = format!(
                        "WITH c AS (DELETE FROM {} WHERE comment_id = $1 AND version = $2 - 1 \
                             RETURNING post_id) \
                         UPDATE {} p SET comment_count = p.comment_count - 1 \
                         FROM c WHERE p.post_id = c.post_id",
                        names.comments, names.posts
                    );
                    sqlx::query(&sql)
                        .bind(e.comment_id)
                        .bind(version)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// Physical table names of one apply.
struct Names {
    posts: String,
    bodies: String,
    comments: String,
}

/// The start of `content` shown in listings: whitespace runs folded to one space.
pub fn excerpt(content: &str) -> String {
    let folded = content.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

/// Strict on purpose: a post created twice fails the batch (primary key).
async fn create_post(
    conn: &mut PgConnection,
    names: &Names,
    e: &PostCreated,
    version: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH p AS (INSERT INTO {} (post_id, author_id, title, excerpt, version, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)) \
         INSERT INTO {} (post_id, content) VALUES ($1, $7)",
        names.posts, names.bodies
    );
    sqlx::query(&sql)
        .bind(e.post_id)
        .bind(e.author_id)
        .bind(&e.title)
        .bind(excerpt(&e.content))
        .bind(version)
        .bind(e.created_at)
        .bind(&e.content)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the comment and counts it, unless its post is gone.
async fn add_comment(
    conn: &mut PgConnection,
    names: &Names,
    e: &CommentAdded,
    version: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "WITH p AS (UPDATE {posts} SET comment_count = comment_count + 1 WHERE post_id = $2 \
             RETURNING post_id) \
         INSERT INTO {comments} (comment_id, post_id, author_id, content, version, created_at) \
         SELECT $1, p.post_id, $3, $4, $5, $6 FROM p",
        posts = names.posts,
        comments = names.comments
    );
    sqlx::query(&sql)
        .bind(e.comment_id)
        .bind(e.post_id)
        .bind(e.author_id)
        .bind(&e.content)
        .bind(version)
        .bind(e.created_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// A change or deletion of a post must have found its row at the version before it.
fn follows(rows: u64, event: &RecordedEvent) -> anyhow::Result<()> {
    anyhow::ensure!(
        rows == 1,
        "{} {} at version {} does not follow the read model's row",
        event.event_type,
        event.stream_id,
        event.stream_version
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_folds_whitespace_and_stops_at_its_length() {
        assert_eq!(excerpt("a\n\n  b\tc"), "a b c");
        let long = "가".repeat(300);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
