//! Which records a dashboard's tail shows: a minimum level, a service, a project, a text.

use std::collections::HashMap;

use schemas::errors::Level;
use serde_json::json;
use service_kit::ApiError;

use super::tail::Record;

/// Longest text filter accepted.
const MAX_TEXT: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Records below this level are left out.
    pub level: Option<Level>,
    /// Only this service's records (a platform service, or an SDK's server name).
    pub service: Option<String>,
    pub project: Option<i64>,
    /// Only records whose title, message, target or culprit hold this text (any case).
    pub text: Option<String>,
}

impl Filter {
    /// From the query string's `level`, `service`, `project` and `q`; every bad parameter
    /// is named in one `422`.
    pub fn parse(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let mut problems = serde_json::Map::new();
        let given = |name: &str| query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let level = given("level").and_then(|text| {
            let level = Level::parse(text);
            if level.is_none() {
                problems.insert(
                    "level".into(),
                    json!("must be one of debug, info, warning, error, fatal"),
                );
            }
            level
        });
        let project = given("project").and_then(|text| {
            let project = text.parse::<i64>().ok().filter(|p| *p >= 0);
            if project.is_none() {
                problems.insert("project".into(), json!("must be a project number"));
            }
            project
        });
        let text = given("q").map(str::to_lowercase);
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
            problems.insert(
                "q".into(),
                json!(format!("must be at most {MAX_TEXT} characters")),
            );
        }
        if !problems.is_empty() {
            return Err(ApiError::invalid_fields(problems));
        }
        Ok(Self {
            level,
            service: given("service").map(str::to_owned),
            project,
            text,
        })
    }

    pub fn admits(&self, record: &Record) -> bool {
        self.level.is_none_or(|level| record.level >= level)
            && self
                .service
                .as_deref()
                .is_none_or(|service| record.service.as_deref() == Some(service))
            && self.project.is_none_or(|project| record.project == project)
            && self.text.as_deref().is_none_or(|text| {
                [
                    Some(record.title.as_str()),
                    record.message.as_deref(),
                    record.target.as_deref(),
                    record.culprit.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|field| field.to_lowercase().contains(text))
            })
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    fn record(level: Level, service: &str, title: &str) -> Record {
        Record {
            position: 1,
            event_id: Uuid::nil(),
            project: 0,
            issue_id: Uuid::nil(),
            level,
            title: title.into(),
            message: None,
            culprit: None,
            service: Some(service.into()),
            instance: None,
            target: Some("query_api::orders".into()),
            request_id: None,
            environment: None,
            release: None,
            count: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            received_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Filter, ApiError> {
        Filter::parse(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn records_pass_when_they_meet_every_filter_given() {
        let filter =
            parse(&[("level", "warn"), ("service", "query-api"), ("q", "ORDERS")]).unwrap();
        assert!(filter.admits(&record(Level::Error, "query-api", "x")));
        assert!(!filter.admits(&record(Level::Info, "query-api", "x")));
        assert!(!filter.admits(&record(Level::Error, "command-api", "x")));
        let text = parse(&[("q", "timeout")]).unwrap();
        assert!(text.admits(&record(Level::Debug, "a", "Pool Timeout")));
        assert!(!text.admits(&record(Level::Debug, "a", "refused")));
        assert!(parse(&[]).unwrap().admits(&record(Level::Debug, "a", "b")));
    }

    #[test]
    fn bad_filters_are_refused_together() {
        let err = parse(&[("level", "loud"), ("project", "-1")]).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &err.details.unwrap()["fields"];
        assert!(fields["level"].is_string() && fields["project"].is_string());
    }
}
