//! Alerts as admins act on them: a given-up alert tried again. Alerts are raised by the
//! alert rules and delivered by the worker, both in the projector.

pub mod handlers;

use axum::{Router, routing::post};
use command::Aggregate;
use error_report::alert::{self, Alert};
use schemas::errors::ErrorsEvent;

use crate::{AppState, command};

impl Aggregate for Alert {
    type Event = ErrorsEvent;

    fn evolve(state: Option<Self>, event: &ErrorsEvent, version: i64) -> Option<Self> {
        alert::evolve(state, event, version)
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/errors/alerts/{id}/retry",
        post(handlers::retry_alert),
    )
}
