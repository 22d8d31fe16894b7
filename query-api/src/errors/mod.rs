//! The errors read model (admins only): projects with their DSNs, issues with their
//! latest error, an issue's errors, counts per level per minute, and the alerts raised
//! on them.
//!
//! Projects change seldom and are read often (every dashboard load): the list is cached
//! and retired by the project events. Issues change with every error, so they are read
//! from the tables each time.
//!
//! - [`projects`]: projects and their DSN.
//! - [`listing`]: what an issue listing asks for, parsed from the query string.
//! - [`issues`]: the issue queries and their views.
//! - [`counts`]: errors per level per minute, zero-filled.
//! - [`handlers`]: the endpoints.
//! - [`alerts`]: the alerts raised on reported errors, with every delivery attempt.
//! - [`levels`]: the log filter and capture level in force for each service.

pub mod alerts;
pub mod counts;
pub mod handlers;
pub mod issues;
pub mod levels;
pub mod listing;
pub mod projects;

use std::sync::Arc;

use axum::{Router, routing::get};
use schemas::{
    DomainEvent, RecordedEvent,
    errors::{ErrorsEvent, PROJECT_EVENT_TYPES},
};

use self::projects::ProjectRow;
use crate::{
    AppState,
    cache::{CacheSize, GuardedCache},
    follow::Invalidate,
    read_model::ReadModel,
};

/// The projection's checkpoint for a source (`$1`), 0 before it ran.
const CHECKPOINT: &str = "SELECT coalesce((SELECT position FROM projection_checkpoints \
     WHERE projection = 'errors' AND source = $1), 0)";

/// The events that change a project's row.
pub struct ErrorsReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    /// Every project, as one entry: there are few, and each event changes the list.
    pub projects: GuardedCache<(), Arc<Vec<ProjectRow>>>,
}

impl ErrorsReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("errors", ErrorsEvent::CONTEXT),
            source,
            projects: GuardedCache::new("error_projects", size),
        }
    }
}

impl Invalidate for ErrorsReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    /// Only project events retire anything; errors, the bulk of the context, are told
    /// apart by their type without decoding them.
    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&PROJECT_EVENT_TYPES)
    }

    fn on_event(&self, event: &RecordedEvent) {
        if PROJECT_EVENT_TYPES.contains(&event.event_type.as_str()) {
            self.projects.invalidate((), event.position);
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.projects.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/errors/projects", get(handlers::list_projects))
        .route("/api/v1/errors/projects/{id}", get(handlers::get_project))
        .route("/api/v1/errors/issues", get(handlers::list_issues))
        .route("/api/v1/errors/issues/{id}", get(handlers::get_issue))
        .route(
            "/api/v1/errors/issues/{id}/events",
            get(handlers::issue_events),
        )
        .route("/api/v1/errors/counts", get(handlers::counts))
}
