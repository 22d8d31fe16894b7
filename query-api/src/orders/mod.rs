//! The orders read model: listings and single orders, their caches and invalidation.
//!
//! An order event retires the cached order, the cached listings of its member and the
//! cached listings over every member, and nothing else: other members' pages stay hot
//! while orders are being placed.

pub mod handlers;
pub mod listing;
pub mod queries;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{DomainEvent, RecordedEvent, orders::OrderEvent};
use uuid::Uuid;

use self::listing::{Listing, Scope};
use crate::{
    AppState,
    cache::{CacheSize, GuardedCache, Weigh},
    follow::Invalidate,
    read_model::ReadModel,
};

/// A rendered order, its version for the ETag and its member for access checks.
#[derive(Clone)]
pub struct CachedOrder {
    pub body: Bytes,
    pub version: i64,
    pub member_id: Uuid,
}

impl Weigh for CachedOrder {
    fn heap_bytes(&self) -> usize {
        self.body.len()
    }
}

pub struct OrdersReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    pub by_number: GuardedCache<i64, CachedOrder>,
    /// Rendered listing pages, invalidated per scope.
    pub pages: GuardedCache<Listing, Bytes, Scope>,
}

impl OrdersReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("orders", OrderEvent::CONTEXT),
            source,
            by_number: GuardedCache::new("orders", size),
            pages: GuardedCache::grouped("order_pages", size, |listing| listing.scope),
        }
    }
}

impl Invalidate for OrdersReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<OrderEvent>() {
            Ok(order) => {
                self.by_number.invalidate(order.number(), event.position);
                self.pages
                    .invalidate(Scope::Member(order.member_id()), event.position);
                self.pages.invalidate(Scope::All, event.position);
            }
            // An event this version cannot read may change any order.
            Err(_) => self.on_reset(event.position),
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.by_number.invalidate_all(position);
        self.pages.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", get(handlers::list_orders))
        .route("/api/v1/orders/{number}", get(handlers::get_order))
}
