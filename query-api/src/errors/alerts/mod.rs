//! The alerts read model: every alert raised on the errors' issues (one per channel),
//! with its delivery attempts; admins list them by project, issue and status.
//!
//! An alert event retires every cached page (listings span all projects); the other
//! events of the errors context leave them.
//!
//! - [`listing`]: what a listing asks for, parsed from the query string.
//! - [`queries`]: the SQL, read with the projection's checkpoint in one snapshot.
//! - [`handlers`]: the endpoint.

pub mod handlers;
pub mod listing;
pub mod queries;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{
    DomainEvent, RecordedEvent,
    errors::{ALERT_EVENT_TYPES, ErrorsEvent},
};

use self::listing::Listing;
use crate::{
    AppState,
    cache::{CacheSize, GuardedCache},
    follow::Invalidate,
    read_model::ReadModel,
};

pub struct AlertsReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    /// Rendered listing pages.
    pub pages: GuardedCache<Listing, Bytes>,
}

impl AlertsReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("alerts", ErrorsEvent::CONTEXT),
            source,
            pages: GuardedCache::new("alert_pages", size),
        }
    }
}

impl Invalidate for AlertsReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&ALERT_EVENT_TYPES)
    }

    fn on_event(&self, event: &RecordedEvent) {
        if ALERT_EVENT_TYPES.contains(&event.event_type.as_str()) {
            self.pages.invalidate_all(event.position);
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.pages.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/errors/alerts", get(handlers::list_alerts))
}
