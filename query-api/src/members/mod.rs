//! The members read model: queries, a cache by id and its invalidation.

pub mod handlers;
pub mod queries;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{DomainEvent, RecordedEvent, identity::IdentityEvent};
use uuid::Uuid;

use crate::{
    AppState,
    cache::{CacheSize, GuardedCache},
    follow::Invalidate,
    read_model::ReadModel,
};

pub struct MembersReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    pub by_id: GuardedCache<Uuid, Bytes>,
}

impl MembersReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("members", IdentityEvent::CONTEXT),
            source,
            by_id: GuardedCache::new("members", size),
        }
    }
}

impl Invalidate for MembersReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<IdentityEvent>() {
            Ok(decoded) => {
                if let Some(user) = decoded.account() {
                    self.by_id.invalidate(user, event.position);
                }
            }
            // An event this version cannot read may change any member.
            Err(_) => self.by_id.invalidate_all(event.position),
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.by_id.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/me", get(handlers::me))
        .route("/api/v1/members", get(handlers::list_members))
        .route("/api/v1/members/{id}", get(handlers::get_member))
}
