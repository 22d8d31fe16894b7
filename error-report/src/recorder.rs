//! Appending reported errors: each to a stream of its own (`error-<project>-<event id>`),
//! so a report sent twice (an SDK retrying after a lost answer) is recognised by its
//! stream already existing and is not counted twice; and the first error of a fingerprint
//! opens its issue in the same all-or-nothing append.
//!
//! Whether an issue exists is remembered, so that the common case, one more error of a
//! known issue, is a single append without a read. Issue streams are never deleted, so a
//! remembered issue cannot stop existing.

use std::time::Duration;

use event_store::{AppendError, AppendRequest, Appended, EventStore, ExpectedVersion};
use futures::future::join_all;
use moka::sync::Cache;
use schemas::{
    EventMetadata, NewEvent,
    errors::{ErrorLogged, ErrorsEvent, IssueOpened, error_stream_id, issue_stream_id},
};
use uuid::Uuid;

/// How many issue ids are remembered, and for how long one unused stays.
const KNOWN_ISSUES: u64 = 100_000;
const KNOWN_ISSUE_IDLE: Duration = Duration::from_secs(3600);

/// What became of a reported error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Appended; `position` is the last global position the append produced.
    Appended { position: i64 },
    /// An error with this event id was already recorded for the project.
    Duplicate,
}

/// Appends reported errors and opens their issues. Cheap to clone; clones share what they
/// know of existing issues.
#[derive(Clone)]
pub struct Recorder {
    store: EventStore,
    known_issues: Cache<Uuid, ()>,
}

impl Recorder {
    pub fn new(store: EventStore) -> Self {
        let known_issues = Cache::builder()
            .max_capacity(KNOWN_ISSUES)
            .time_to_idle(KNOWN_ISSUE_IDLE)
            .build();
        Self {
            store,
            known_issues,
        }
    }

    /// Records one error, opening its issue if it is the first of its fingerprint.
    pub async fn record(
        &self,
        error: ErrorLogged,
        metadata: EventMetadata,
    ) -> Result<Recorded, AppendError> {
        let issue = error.issue_id;
        let recorded = if self.known_issues.contains_key(&issue) || self.issue_exists(issue).await?
        {
            self.append_error(&error, metadata).await?
        } else {
            self.open_issue_with(&error, metadata).await?
        };
        self.known_issues.insert(issue, ());
        Ok(recorded)
    }

    /// Records several errors concurrently (the store commits concurrent appends together),
    /// each with its own outcome, in the order given.
    pub async fn record_many(
        &self,
        errors: Vec<(ErrorLogged, EventMetadata)>,
    ) -> Vec<Result<Recorded, AppendError>> {
        join_all(
            errors
                .into_iter()
                .map(|(error, metadata)| self.record(error, metadata)),
        )
        .await
    }

    async fn issue_exists(&self, issue: Uuid) -> Result<bool, AppendError> {
        let last = self
            .store
            .log()
            .last_events(&[issue_stream_id(issue)])
            .await?;
        Ok(!last.is_empty())
    }

    /// The error alone, to a stream that must not exist yet.
    async fn append_error(
        &self,
        error: &ErrorLogged,
        metadata: EventMetadata,
    ) -> Result<Recorded, AppendError> {
        let request = error_request(error, metadata);
        match self.store.append(request).await {
            Ok(appended) => Ok(Recorded::Appended {
                position: appended.last_position,
            }),
            Err(AppendError::Conflict { .. }) => Ok(Recorded::Duplicate),
            Err(err) => Err(err),
        }
    }

    /// The issue's opening and its first error, together. A conflict means another
    /// process opened the issue meanwhile, or this error was recorded before: the error
    /// alone then tells which.
    async fn open_issue_with(
        &self,
        error: &ErrorLogged,
        metadata: EventMetadata,
    ) -> Result<Recorded, AppendError> {
        let opened = AppendRequest::new(
            issue_stream_id(error.issue_id),
            ExpectedVersion::NoStream,
            vec![NewEvent::from_domain(&ErrorsEvent::IssueOpened(
                issue_opened(error),
            ))],
            metadata.clone(),
        );
        let requests = vec![opened, error_request(error, metadata.clone())];
        match self.store.append_all(requests).await {
            Ok(appended) => Ok(Recorded::Appended {
                position: last_position(&appended),
            }),
            Err(AppendError::Conflict { .. }) => self.append_error(error, metadata).await,
            Err(err) => Err(err),
        }
    }
}

fn error_request(error: &ErrorLogged, metadata: EventMetadata) -> AppendRequest {
    AppendRequest::new(
        error_stream_id(error.project, error.event_id),
        ExpectedVersion::NoStream,
        vec![NewEvent::from_domain(&ErrorsEvent::ErrorLogged(Box::new(
            error.clone(),
        )))],
        metadata,
    )
}

/// The issue as its first error opens it; it is first seen when the platform received
/// that error (a reporter's clock may be anywhere).
fn issue_opened(error: &ErrorLogged) -> IssueOpened {
    IssueOpened {
        issue_id: error.issue_id,
        project: error.project,
        fingerprint: error.fingerprint.clone(),
        title: error.title.clone(),
        level: error.level,
        first_event_id: error.event_id,
        opened_at: error.received_at,
    }
}

fn last_position(appended: &[Appended]) -> i64 {
    appended
        .iter()
        .map(|a| a.last_position)
        .max()
        .unwrap_or_default()
}
