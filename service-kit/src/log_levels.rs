//! Following the log levels admins set (the `log-levels` stream): every process reads the
//! stream on start and then every 250 ms, and applies the newest setting that names its
//! service or every service. The stream is in PostgreSQL with either transport, and a
//! read of its few newest events costs next to nothing.

use std::time::Duration;

use event_log::EventLog;
use schemas::{
    DomainEvent,
    errors::{ErrorsEvent, LOG_LEVELS_STREAM, LogLevelsChanged},
};
use tokio_util::sync::CancellationToken;

use crate::telemetry::Telemetry;

/// How often the stream is read: a change is applied within a second.
const POLL: Duration = Duration::from_millis(250);

/// The services a setting may name (`platform` is all three in one process).
pub const SERVICES: [&str; 4] = ["command-api", "query-api", "projector", "platform"];

/// The newest of `changes` (in stream order) that applies to `service`: one for it, or
/// one for every service.
pub fn applicable<'a>(
    service: &str,
    changes: impl IntoIterator<Item = &'a LogLevelsChanged>,
) -> Option<&'a LogLevelsChanged> {
    changes
        .into_iter()
        .filter(|change| {
            change
                .service
                .as_deref()
                .is_none_or(|named| named == service)
        })
        .last()
}

/// Applies each new setting for this process until `shutdown`.
pub async fn follow(log: EventLog, telemetry: &'static Telemetry, shutdown: CancellationToken) {
    let mut read = 0;
    loop {
        match log
            .read_versions(LOG_LEVELS_STREAM, read + 1..=i64::MAX)
            .await
        {
            Ok(events) => {
                read = events.last().map_or(read, |event| event.stream_version);
                let changes: Vec<LogLevelsChanged> = events
                    .into_iter()
                    .filter_map(|event| {
                        match ErrorsEvent::decode(
                            &event.event_type,
                            event.schema_version,
                            &event.data,
                        ) {
                            Ok(ErrorsEvent::LogLevelsChanged(change)) => Some(change),
                            _ => None,
                        }
                    })
                    .collect();
                if let Some(change) = applicable(telemetry.service(), &changes) {
                    apply(telemetry, change);
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot read the log levels"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

fn apply(telemetry: &Telemetry, change: &LogLevelsChanged) {
    telemetry.set_capture(change.capture);
    match telemetry.set_filter(&change.filter) {
        Ok(()) => tracing::info!(
            filter = %change.filter,
            capture = %change.capture,
            by = %change.by,
            "log levels applied"
        ),
        // Checked when the admin set it; a filter this version cannot read stays unused.
        Err(err) => tracing::warn!(filter = %change.filter, error = %err, "log filter not applied"),
    }
}

#[cfg(test)]
mod tests {
    use schemas::errors::Level;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    fn change(service: Option<&str>, filter: &str) -> LogLevelsChanged {
        LogLevelsChanged {
            service: service.map(str::to_owned),
            filter: filter.to_owned(),
            capture: Level::Error,
            by: Uuid::nil(),
            changed_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_newest_setting_for_the_service_or_for_all_applies() {
        let changes = [
            change(None, "info"),
            change(Some("query-api"), "debug"),
            change(Some("command-api"), "warn"),
        ];
        let filter = |service| applicable(service, &changes).map(|c| c.filter.as_str());
        assert_eq!(filter("command-api"), Some("warn"));
        assert_eq!(filter("query-api"), Some("debug"));
        assert_eq!(filter("platform"), Some("info"));
        let later = [changes[1].clone(), change(None, "error")];
        assert_eq!(applicable("query-api", &later).unwrap().filter, "error");
        assert!(applicable("projector", &changes[1..]).is_none());
    }
}
