//! The live tail: every collected record (`ErrorLogged`, whoever reported it) as it is
//! appended, to every dashboard following it on this instance.
//!
//! One follower per instance reads the errors context and broadcasts each record. A
//! dashboard subscribes and reads `through` under the same lock the follower sends under,
//! so every record after `through` reaches its receiver and everything up to it is
//! history, read from the log.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use event_log::subscription::EventSource;
use schemas::{
    DomainEvent, RecordedEvent,
    errors::{ErrorLogged, ErrorsEvent, Origin},
};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use uuid::Uuid;

/// Records a dashboard may fall behind by before its stream ends (it then resumes from
/// the log with `Last-Event-ID`).
const BUFFER: usize = 4096;

/// One collected record, as the tail shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Record {
    /// The position of its event in the log: its id on the stream.
    pub position: i64,
    pub event_id: Uuid,
    pub project: i64,
    pub issue_id: Uuid,
    /// `debug`, `info`, `warning`, `error` or `fatal`.
    #[schema(value_type = String)]
    pub level: schemas::errors::Level,
    pub title: String,
    pub message: Option<String>,
    pub culprit: Option<String>,
    /// The platform service that logged it, or the SDK's server name.
    pub service: Option<String>,
    pub instance: Option<String>,
    /// The log target, or the SDK's logger.
    pub target: Option<String>,
    pub request_id: Option<String>,
    pub environment: Option<String>,
    pub release: Option<String>,
    /// How many identical records it stands for (above 1 for a summarised storm).
    pub count: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
}

impl Record {
    /// The record an event holds, when it is an `ErrorLogged`.
    pub fn of(event: &RecordedEvent) -> Option<Self> {
        Self::decode(
            event.position,
            &event.event_type,
            event.schema_version,
            &event.data,
        )
    }

    /// The record of a stored `ErrorLogged` payload.
    pub fn decode(
        position: i64,
        event_type: &str,
        schema_version: i32,
        data: &serde_json::Value,
    ) -> Option<Self> {
        if event_type != "ErrorLogged" {
            return None;
        }
        match ErrorsEvent::decode(event_type, schema_version, data) {
            Ok(ErrorsEvent::ErrorLogged(error)) => Some(Self::from_error(position, *error)),
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(position, error = %err, "an ErrorLogged event did not decode");
                None
            }
        }
    }

    fn from_error(position: i64, error: ErrorLogged) -> Self {
        let (service, instance, target) = match error.origin {
            Origin::Platform {
                service,
                instance,
                target,
            } => (Some(service), Some(instance), Some(target)),
            Origin::Sdk {
                server_name,
                logger,
                ..
            } => (server_name, None, logger),
        };
        Self {
            position,
            event_id: error.event_id,
            project: error.project,
            issue_id: error.issue_id,
            level: error.level,
            title: error.title,
            message: error.message,
            culprit: error.culprit,
            service,
            instance,
            target,
            request_id: error.request_id,
            environment: error.environment,
            release: error.release,
            count: error.count,
            occurred_at: error.occurred_at,
            received_at: error.received_at,
        }
    }
}

/// The broadcast of records, and how far it has come.
pub struct Tail {
    sender: broadcast::Sender<Arc<Record>>,
    /// Every record at or below this position has been broadcast. Held while sending.
    through: Mutex<i64>,
}

impl Tail {
    pub fn new() -> Self {
        Self {
            sender: broadcast::Sender::new(BUFFER),
            through: Mutex::new(0),
        }
    }

    /// A receiver of every record after the returned position.
    pub fn subscribe(&self) -> (broadcast::Receiver<Arc<Record>>, i64) {
        let through = self.through.lock().expect("tail lock");
        (self.sender.subscribe(), *through)
    }

    pub fn through(&self) -> i64 {
        *self.through.lock().expect("tail lock")
    }

    /// Broadcasts a batch of the errors context, delivered through `through`.
    fn publish(&self, events: &[RecordedEvent], through: i64) {
        {
            // Nobody watching: nothing to decode. Checked under the lock `subscribe` takes,
            // so a receiver either counts here or starts after `through`.
            let mut at = self.through.lock().expect("tail lock");
            if self.sender.receiver_count() == 0 {
                *at = (*at).max(through);
                return;
            }
        }
        let records: Vec<_> = events.iter().filter_map(Record::of).collect();
        let mut at = self.through.lock().expect("tail lock");
        for record in records {
            if record.position > *at {
                // No receiver is fine: nobody is watching.
                let _ = self.sender.send(Arc::new(record));
            }
        }
        *at = (*at).max(through);
    }

    /// Follows the errors context from the head of the log until shutdown, resubscribing
    /// after a failure from where it stopped.
    pub async fn follow(
        self: Arc<Self>,
        source: EventSource,
        head: i64,
        shutdown: CancellationToken,
    ) {
        {
            let mut at = self.through.lock().expect("tail lock");
            *at = (*at).max(head);
        }
        loop {
            let err = tokio::select! {
                err = self.follow_once(&source) => err,
                _ = shutdown.cancelled() => return,
            };
            tracing::warn!(error = %err, "the errors tail's follower failed; resubscribing");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn follow_once(&self, source: &EventSource) -> event_log::StoreError {
        // Only the records: the rest of the context is passed over unread. Every instance
        // sees every record: a follower of its own, in no consumer group.
        let subscription =
            source.follow_types(ErrorsEvent::CONTEXT, Some(&["ErrorLogged"]), self.through());
        let mut subscription = match subscription.await {
            Ok(subscription) => subscription,
            Err(err) => return err,
        };
        loop {
            let batch = match subscription.next_batch(1000).await {
                Ok(batch) => batch,
                Err(err) => return err,
            };
            self.publish(&batch.events, batch.through);
            if let Err(err) = subscription.commit().await {
                return err;
            }
        }
    }
}

impl Default for Tail {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use schemas::errors::{Level, issue_id};

    use super::*;

    fn logged(position: i64, title: &str) -> RecordedEvent {
        let fingerprint = vec![title.to_owned()];
        let error = ErrorsEvent::ErrorLogged(Box::new(ErrorLogged {
            event_id: Uuid::new_v4(),
            project: 0,
            issue_id: issue_id(0, &fingerprint),
            fingerprint,
            level: Level::Error,
            title: title.to_owned(),
            culprit: None,
            message: None,
            exceptions: Vec::new(),
            origin: Origin::Platform {
                service: "command-api".into(),
                instance: "host:1".into(),
                target: "command_api::items".into(),
            },
            request_id: Some("r1".into()),
            release: None,
            environment: None,
            user: None,
            tags: BTreeMap::new(),
            extra: serde_json::Value::Null,
            count: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            received_at: OffsetDateTime::UNIX_EPOCH,
        }));
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: "error-0-x".into(),
            stream_version: 1,
            position,
            context: "errors".into(),
            event_type: "ErrorLogged".into(),
            schema_version: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            correlation_id: "test".into(),
            actor: None,
            data: error.payload().into(),
        }
    }

    #[test]
    fn a_subscriber_gets_every_record_after_the_position_it_was_given() {
        let tail = Tail::new();
        tail.publish(&[logged(3, "before")], 3);
        let (mut receiver, through) = tail.subscribe();
        assert_eq!(through, 3);
        tail.publish(&[logged(3, "again"), logged(5, "after")], 6);
        let record = receiver.try_recv().unwrap();
        assert_eq!((record.position, record.title.as_str()), (5, "after"));
        assert_eq!(record.service.as_deref(), Some("command-api"));
        assert!(
            receiver.try_recv().is_err(),
            "a redelivered record is not sent twice"
        );
        assert_eq!(tail.through(), 6);
    }

    #[test]
    fn an_unwatched_batch_moves_the_position_and_the_next_watcher_starts_after_it() {
        let tail = Tail::new();
        tail.publish(&[logged(2, "unwatched")], 4);
        let (mut receiver, through) = tail.subscribe();
        assert_eq!(through, 4);
        tail.publish(&[logged(7, "watched")], 7);
        let record = receiver.try_recv().unwrap();
        assert_eq!((record.position, record.title.as_str()), (7, "watched"));
        assert!(receiver.try_recv().is_err());
    }
}
