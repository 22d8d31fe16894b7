//! The log levels in force: for each service, the newest setting that names it or every
//! service. Read straight from the `log-levels` stream, as the running processes read it
//! themselves, so the answer is what they apply (no read model to lag behind); a handful
//! of events, read only by admins.

use axum::{Router, extract::State, response::Response, routing::get};
use event_log::EventLog;
use schemas::{
    DomainEvent,
    errors::{ErrorsEvent, LOG_LEVELS_STREAM, Level, LogLevelsChanged},
};
use serde::Serialize;
use service_kit::{
    ApiError,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    log_levels::{SERVICES, applicable},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/errors/log-levels", get(log_levels))
}

/// The levels of every service.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogLevelsView {
    pub services: Vec<ServiceLevels>,
    /// Version of the `log-levels` stream read (0: no admin set anything yet).
    pub version: i64,
}

/// What one service logs and captures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLevels {
    #[schema(example = "command-api")]
    pub service: String,
    /// The `RUST_LOG` filter set at run time; null while none was: the process keeps the
    /// filter it was started with (`RUST_LOG`, default `info`).
    #[schema(example = "info,command_api=debug")]
    pub filter: Option<String>,
    /// The capture level set at run time; null while none was (`CAPTURE_LEVEL`, default
    /// `error`).
    #[schema(value_type = Option<String>, example = "error")]
    pub capture: Option<Level>,
    /// Whether the setting named this service (`service`) or every service (`all`); null
    /// while none was set.
    #[schema(example = "all")]
    pub set_for: Option<String>,
    pub changed_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub changed_at: Option<OffsetDateTime>,
}

/// The log filter and capture level in force for each service (admins only).
#[utoipa::path(
    get, path = "/api/v1/errors/log-levels", tag = "errors",
    responses(
        (status = 200, description = "The levels of each service", body = inline(service_kit::Envelope<LogLevelsView>)),
        Unauthorized,
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn log_levels(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let events = EventLog::new(state.pool.clone())
        .read_stream(LOG_LEVELS_STREAM, None)
        .await
        .map_err(ApiError::failure)?;
    let version = events.last().map_or(0, |event| event.stream_version);
    let changes: Vec<LogLevelsChanged> = events
        .into_iter()
        .filter_map(|event| {
            match ErrorsEvent::decode(&event.event_type, event.schema_version, &event.data) {
                Ok(ErrorsEvent::LogLevelsChanged(change)) => Some(change),
                _ => None,
            }
        })
        .collect();
    let services = SERVICES
        .iter()
        .map(|service| levels_of(service, applicable(service, &changes)))
        .collect();
    Ok(axum::response::IntoResponse::into_response(ok(
        LogLevelsView { services, version },
    )))
}

fn levels_of(service: &str, change: Option<&LogLevelsChanged>) -> ServiceLevels {
    ServiceLevels {
        service: service.to_owned(),
        filter: change.map(|c| c.filter.clone()),
        capture: change.map(|c| c.capture),
        set_for: change.map(|c| c.service.clone().unwrap_or_else(|| "all".to_owned())),
        changed_by: change.map(|c| c.by),
        changed_at: change.map(|c| c.changed_at),
    }
}
