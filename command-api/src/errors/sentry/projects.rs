//! The projects reports are checked against, folded from their streams and kept for a
//! few seconds, so that ingestion does not read a project's stream for every report. A
//! changed key or quota therefore takes effect within that time on every instance.

use std::{sync::Arc, time::Duration};

use error_report::project::{self, Project};
use event_store::EventStore;
use moka::sync::Cache;
use schemas::errors::{ErrorsEvent, project_stream_id};
use service_kit::ApiError;

use crate::command::aggregate::load_events;

/// Projects as of at most `ttl` ago; unknown ids too, so that reports to a project that
/// does not exist cost no read each either.
#[derive(Clone)]
pub struct Projects {
    store: EventStore,
    cache: Cache<i64, Option<Arc<Project>>>,
}

impl Projects {
    pub fn new(store: EventStore, ttl: Duration) -> Self {
        let cache = Cache::builder()
            .max_capacity(10_000)
            .time_to_live(ttl)
            .build();
        Self { store, cache }
    }

    /// The project `id`, or none while it has not been created. Two reports that miss the
    /// cache at once may both read the stream: the reads are small and the answer the same.
    pub async fn get(&self, id: i64) -> Result<Option<Arc<Project>>, ApiError> {
        if let Some(known) = self.cache.get(&id) {
            return Ok(known);
        }
        let events = load_events::<ErrorsEvent>(&self.store, &project_stream_id(id), None).await?;
        let folded = project::evolve(id, events.into_iter().map(|(event, _)| event)).map(Arc::new);
        self.cache.insert(id, folded.clone());
        Ok(folded)
    }
}
