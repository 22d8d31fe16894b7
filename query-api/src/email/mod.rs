//! The emails read model: single emails with their attempts, listings, their caches and
//! invalidation; and the feed of email status changes into the users' live streams.
//!
//! An email event retires the cached email, the cached listings of its owner and the
//! cached listings over every user, and nothing else. The same events, followed by this
//! model's subscription, go to the chat hub, which puts them on the owner's stream
//! (`GET /api/v1/chats/stream`, `event: email`) in log order with the chat frames: see
//! [`crate::chat::feed`] for why one order, and [`crate::chat::history`] for what a
//! resuming stream is sent.
//!
//! - [`queries`]: the SQL, each read with the projection's checkpoint.
//! - [`listing`]: what a listing asks for, parsed from the query string.
//! - [`change`]: a status change as the live stream carries it.
//! - [`handlers`]: the endpoints.

pub mod change;
pub mod handlers;
pub mod listing;
pub mod queries;

use std::sync::Arc;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{DomainEvent, RecordedEvent, email::EmailEvent};
use uuid::Uuid;

use self::listing::{Listing, Scope};
use crate::{
    AppState,
    cache::{CacheSize, GuardedCache, Weigh},
    chat::{feed::Lane, hub::Hub},
    follow::Invalidate,
    read_model::ReadModel,
};

/// A rendered email, its version for the ETag and its owner for access checks.
#[derive(Clone)]
pub struct CachedEmail {
    pub body: Bytes,
    pub version: i64,
    pub requested_by: Uuid,
}

impl Weigh for CachedEmail {
    fn heap_bytes(&self) -> usize {
        self.body.len()
    }
}

pub struct EmailsReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    pub by_id: GuardedCache<Uuid, CachedEmail>,
    /// Rendered listing pages, invalidated per scope.
    pub pages: GuardedCache<Listing, Bytes, Scope>,
    /// Where status changes go live.
    hub: Arc<Hub>,
}

impl EmailsReadModel {
    pub fn new(size: CacheSize, source: String, hub: Arc<Hub>) -> Self {
        Self {
            progress: ReadModel::new("emails", EmailEvent::CONTEXT),
            source,
            by_id: GuardedCache::new("emails", size),
            pages: GuardedCache::grouped("email_pages", size, |listing| listing.scope),
            hub,
        }
    }
}

impl Invalidate for EmailsReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<EmailEvent>() {
            Ok(email) => {
                self.by_id.invalidate(email.email_id(), event.position);
                self.pages
                    .invalidate(Scope::Sender(email.requested_by()), event.position);
                self.pages.invalidate(Scope::All, event.position);
            }
            // An event this version cannot read may change any email.
            Err(_) => self.on_reset(event.position),
        }
        self.hub.push(Lane::Email, event);
    }

    fn on_through(&self, position: i64) {
        self.hub.advance(Lane::Email, position);
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
        .route("/api/v1/emails", get(handlers::list_emails))
        .route("/api/v1/emails/{id}", get(handlers::get_email))
}
