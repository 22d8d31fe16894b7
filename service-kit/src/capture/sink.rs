//! Where captured records end: each becomes an `ErrorLogged` of the platform's project,
//! recorded (with its issue opened the first time) by the errors context's recorder.

use std::{collections::BTreeMap, future::Future};

use error_report::{
    grouping::{normalise, title},
    recorder::Recorder,
};
use event_store::EventStore;
use schemas::{
    EventMetadata,
    errors::{ErrorLogged, Origin, PLATFORM_PROJECT, issue_id},
};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::CapturedRecord;

/// Records errors somewhere.
pub trait Sink: Send + Sync + 'static {
    /// Records `errors`; those it could not record come back with the cause, to be tried
    /// again (each keeps its event id, so one recorded meanwhile is not recorded twice).
    fn record(
        &self,
        errors: Vec<ErrorLogged>,
    ) -> impl Future<Output = Result<(), Unrecorded>> + Send;
}

/// Errors a sink could not record, and why.
pub struct Unrecorded {
    pub errors: Vec<ErrorLogged>,
    pub cause: String,
}

/// The process whose records are captured.
#[derive(Debug, Clone)]
pub struct Source {
    /// `command-api`, `query-api`, `projector` or `platform`.
    pub service: String,
    /// Host name and process id.
    pub instance: String,
}

impl Source {
    /// This process, as `service`.
    pub fn this_process(service: &str) -> Self {
        let host = hostname::get()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unknown-host".to_owned());
        Self {
            service: service.to_owned(),
            instance: format!("{host}:{}", std::process::id()),
        }
    }

    /// The event a (masked) record becomes: grouped by its target and normalised text, so
    /// a message that differs only in its numbers or ids is one issue.
    pub fn error_logged(&self, record: CapturedRecord) -> ErrorLogged {
        let text = record.text();
        let fingerprint = vec![record.target.clone(), normalise(&text)];
        let tags = BTreeMap::from([
            ("service".to_owned(), self.service.clone()),
            ("instance".to_owned(), self.instance.clone()),
        ]);
        ErrorLogged {
            event_id: Uuid::new_v4(),
            project: PLATFORM_PROJECT,
            issue_id: issue_id(PLATFORM_PROJECT, &fingerprint),
            fingerprint,
            level: record.level,
            title: title(&[], Some(&text)),
            culprit: Some(record.target.clone()),
            message: Some(text),
            exceptions: Vec::new(),
            origin: Origin::Platform {
                service: self.service.clone(),
                instance: self.instance.clone(),
                target: record.target,
            },
            request_id: record.request_id,
            release: Some(env!("CARGO_PKG_VERSION").to_owned()),
            environment: None,
            user: None,
            tags,
            extra: Value::Object(record.fields),
            count: record.count,
            occurred_at: record.occurred_at,
            received_at: schemas::clock::now(),
        }
    }
}

/// Records through the errors context's [`Recorder`], in the platform's event store.
#[derive(Clone)]
pub struct RecorderSink(Recorder);

impl RecorderSink {
    pub fn new(pool: PgPool) -> Self {
        Self(Recorder::new(EventStore::new(pool)))
    }
}

impl Sink for RecorderSink {
    async fn record(&self, errors: Vec<ErrorLogged>) -> Result<(), Unrecorded> {
        let requests = errors
            .iter()
            .map(|error| {
                let metadata = EventMetadata {
                    correlation_id: error.request_id.clone().unwrap_or_default(),
                    actor: None,
                };
                (error.clone(), metadata)
            })
            .collect();
        let outcomes = self.0.record_many(requests).await;
        let mut cause = None;
        let failed: Vec<ErrorLogged> = errors
            .into_iter()
            .zip(outcomes)
            .filter_map(|(error, outcome)| {
                let err = outcome.err()?;
                cause = Some(err.to_string());
                Some(error)
            })
            .collect();
        match cause {
            None => Ok(()),
            Some(cause) => Err(Unrecorded {
                errors: failed,
                cause,
            }),
        }
    }
}
