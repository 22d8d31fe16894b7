//! The board read model: post listings, posts and their comments, cached and invalidated
//! by the board events.

pub mod handlers;
pub mod queries;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{DomainEvent, RecordedEvent, board::BoardEvent};
use service_kit::paging::Page;

use self::queries::PostListing;
use crate::{
    AppState,
    cache::{CacheSize, GuardedCache, Weigh},
    follow::Invalidate,
    read_model::ReadModel,
};

/// A rendered post and its version for the ETag.
#[derive(Clone)]
pub struct CachedPost {
    pub body: Bytes,
    pub version: i64,
}

impl Weigh for CachedPost {
    fn heap_bytes(&self) -> usize {
        self.body.len()
    }
}

pub struct BoardReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    pub posts: GuardedCache<i64, CachedPost>,
    /// Listing pages: every board event may change any of them (order, counts).
    pub pages: GuardedCache<PostListing, Bytes, ()>,
    /// Comment pages, per post.
    pub comments: GuardedCache<(i64, Page), Bytes, i64>,
}

impl BoardReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("board", BoardEvent::CONTEXT),
            source,
            posts: GuardedCache::new("posts", size),
            pages: GuardedCache::grouped("post_pages", size, |_| ()),
            comments: GuardedCache::grouped("comment_pages", size, |(post, _)| *post),
        }
    }
}

impl Invalidate for BoardReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<BoardEvent>() {
            Ok(decoded) => {
                let post = decoded.post_id();
                self.posts.invalidate(post, event.position);
                self.comments.invalidate(post, event.position);
                self.pages.invalidate((), event.position);
            }
            // An event this version cannot read may change anything.
            Err(_) => self.on_reset(event.position),
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.posts.invalidate_all(position);
        self.pages.invalidate_all(position);
        self.comments.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/posts", get(handlers::list_posts))
        .route("/api/v1/posts/{id}", get(handlers::get_post))
        .route("/api/v1/posts/{id}/comments", get(handlers::list_comments))
}
