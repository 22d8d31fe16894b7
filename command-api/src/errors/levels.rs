//! Changing the log levels at run time: an admin sets the log filter (`RUST_LOG` syntax)
//! and the capture level for one service or for all. The setting is appended to the
//! `log-levels` stream, which every running process follows (see
//! `service_kit::log_levels`) and applies within a second.

use axum::{
    Router,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::put,
};
use event_store::{Appended, ExpectedVersion};
use schemas::errors::{ErrorsEvent, LOG_LEVELS_STREAM, Level, LogLevelsChanged};
use serde::{Deserialize, Serialize};
use serde_json::Map;
use service_kit::{
    ApiError, Json,
    auth::Caller,
    capture,
    error::{ErrorBody, Unauthorized},
    log_levels::SERVICES,
    ok, telemetry,
};
use utoipa::ToSchema;

use crate::{
    AppState,
    command::{self, CommandContext, Outcome, Target},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/errors/log-levels", put(change_log_levels))
}

/// Longest filter accepted.
pub const MAX_FILTER_CHARS: usize = 1000;

/// Body of `PUT /errors/log-levels`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogLevelsInput {
    /// `command-api`, `query-api`, `projector` or `platform`; null or absent for every
    /// service.
    #[schema(example = "command-api")]
    #[serde(default)]
    pub service: Option<String>,
    /// A `RUST_LOG` filter, 1 to 1,000 characters.
    #[schema(example = "info,command_api=debug", min_length = 1, max_length = 1000)]
    pub filter: String,
    /// Records from this level up become ErrorLogged events: `error` or `warning`.
    #[schema(example = "error")]
    pub capture: String,
}

/// A setting that passed validation; also the answer's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LogLevels {
    /// The service it applies to; null for every service.
    pub service: Option<String>,
    pub filter: String,
    #[schema(value_type = String, example = "error")]
    pub capture: Level,
}

/// A setting as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogLevelsSet {
    #[serde(flatten)]
    pub setting: LogLevels,
    /// Global position of the change; running processes apply it within a second.
    pub position: i64,
}

impl LogLevelsInput {
    /// Checks every field and reports every broken rule at once.
    pub fn parse(self) -> Result<LogLevels, ApiError> {
        let mut broken = Map::new();
        if let Some(service) = &self.service
            && !SERVICES.contains(&service.as_str())
        {
            let rule = format!("must be one of {} or null", SERVICES.join(", "));
            broken.insert("service".into(), rule.into());
        }
        let filter = self.filter.trim();
        if filter.chars().count() > MAX_FILTER_CHARS {
            let rule = format!("must be at most {MAX_FILTER_CHARS} characters");
            broken.insert("filter".into(), rule.into());
        } else if let Err(rule) = telemetry::parse_filter(filter) {
            broken.insert("filter".into(), rule.into());
        }
        let capture = capture::parse_level(&self.capture);
        if capture.is_err() {
            broken.insert("capture".into(), "must be error or warning".into());
        }
        match capture {
            Ok(capture) if broken.is_empty() => Ok(LogLevels {
                service: self.service,
                filter: filter.to_owned(),
                capture,
            }),
            _ => Err(ApiError::invalid_fields(broken)),
        }
    }
}

/// Set the log filter and the capture level of one service or of every service (admins
/// only). Every running instance applies it within a second, and on start.
#[utoipa::path(
    put, path = "/api/v1/errors/log-levels", tag = "errors",
    request_body = LogLevelsInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 200, description = "Recorded; applied by every instance within a second", body = inline(service_kit::Envelope<LogLevelsSet>),
         headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A filter that does not parse, an unknown service or capture level (details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn change_log_levels(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<LogLevelsInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let setting = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "ChangeLogLevels", &setting)?;
    if let Some(earlier) = command::earlier_outcome(&state.store, &context)
        .await
        .map_err(command::append_error)?
    {
        return Ok(answer(setting, &earlier.appended));
    }
    let event = ErrorsEvent::LogLevelsChanged(LogLevelsChanged {
        service: setting.service.clone(),
        filter: setting.filter.clone(),
        capture: setting.capture,
        by: caller.user_id,
        changed_at: command::now(),
    });
    let target = Target::Stream(LOG_LEVELS_STREAM.to_owned(), ExpectedVersion::Any);
    let appended = match command::append(&state.store, &context, target, &[event])
        .await
        .map_err(command::append_error)?
    {
        Outcome::Appended(appended) => appended,
        Outcome::Replayed(earlier) => earlier.appended,
    };
    Ok(answer(setting, &appended))
}

/// The setting as recorded (a retry's is the first request's: same key, same input).
fn answer(setting: LogLevels, appended: &Appended) -> Response {
    let body = LogLevelsSet {
        setting,
        position: appended.last_position,
    };
    (command::position_headers(appended), ok(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(service: Option<&str>, filter: &str, capture: &str) -> LogLevelsInput {
        LogLevelsInput {
            service: service.map(str::to_owned),
            filter: filter.to_owned(),
            capture: capture.to_owned(),
        }
    }

    #[test]
    fn a_valid_setting_parses_with_its_filter_trimmed() {
        let setting = input(Some("query-api"), " info,query_api=debug ", "warn")
            .parse()
            .unwrap();
        assert_eq!(setting.filter, "info,query_api=debug");
        assert_eq!(setting.capture, Level::Warning);
        assert!(input(None, "warn", "error").parse().is_ok());
    }

    #[test]
    fn every_broken_rule_is_named_by_its_field() {
        let err = input(Some("mailer"), "info,[=", "debug")
            .parse()
            .unwrap_err();
        let fields = &err.details.unwrap()["fields"];
        assert!(fields["service"].as_str().unwrap().contains("command-api"));
        assert!(
            fields["filter"]
                .as_str()
                .unwrap()
                .starts_with("is no valid filter")
        );
        assert_eq!(fields["capture"], "must be error or warning");
        let err = input(None, "  ", "error").parse().unwrap_err();
        assert_eq!(
            err.details.unwrap()["fields"]["filter"],
            "must not be empty"
        );
    }
}
