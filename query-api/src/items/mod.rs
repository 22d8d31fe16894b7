//! The items read model: queries, caches and their invalidation.

pub mod handlers;
pub mod queries;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{DomainEvent, RecordedEvent, items::ItemEvent};
use service_kit::paging::Page;

use crate::{
    AppState,
    cache::{CacheSize, GuardedCache, Weigh},
    follow::Invalidate,
    read_model::ReadModel,
};

/// A rendered item response and the version for its ETag.
#[derive(Clone)]
pub struct CachedItem {
    pub body: Bytes,
    pub version: i64,
}

impl Weigh for CachedItem {
    fn heap_bytes(&self) -> usize {
        self.body.len()
    }
}

pub struct ItemsReadModel {
    pub progress: ReadModel,
    pub by_id: GuardedCache<i64, CachedItem>,
    pub pages: GuardedCache<Page, Bytes>,
}

impl ItemsReadModel {
    pub fn new(size: CacheSize) -> Self {
        Self {
            progress: ReadModel::new("items", ItemEvent::CONTEXT),
            by_id: GuardedCache::new("items", size),
            pages: GuardedCache::new("item_pages", size),
        }
    }
}

impl Invalidate for ItemsReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<ItemEvent>() {
            Ok(item) => self.by_id.invalidate(item.item_id(), event.position),
            // An event this version cannot read may still change any item.
            Err(_) => self.by_id.invalidate_all(event.position),
        }
        self.pages.invalidate_all(event.position);
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.by_id.invalidate_all(position);
        self.pages.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/items", get(handlers::list_items))
        .route("/api/v1/items/{id}", get(handlers::get_item))
}
