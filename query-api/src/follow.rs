//! Background tasks that keep this instance's knowledge current: the stream follower
//! (cache invalidation) and the projector listener (how far projections have applied).

use std::{sync::Arc, time::Duration};

use event_log::{
    checkpoint::{self, Notice},
    subscription::EventSource,
};
use schemas::RecordedEvent;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::read_model::ReadModel;

/// A read model's caches, driven by the stream.
pub trait Invalidate: Send + Sync + 'static {
    fn progress(&self) -> &ReadModel;
    /// The event types of the context `on_event` acts on, when not all: the others are
    /// passed over unread.
    fn event_types(&self) -> Option<&'static [&'static str]> {
        None
    }
    /// An event of the read model's context arrived.
    fn on_event(&self, event: &RecordedEvent);
    /// Every event of the context up to `position` has been passed to `on_event` (a
    /// position past the last event when the log moved on in other contexts).
    fn on_through(&self, _position: i64) {}
    /// The projection has applied the log up to `position`.
    fn on_applied(&self, position: i64);
    /// The projection's tables were replaced (a replay swapped them in).
    fn on_reset(&self, position: i64);
}

/// Follows the read model's context from `after`, invalidating as events arrive.
pub async fn stream(
    source: EventSource,
    model: Arc<dyn Invalidate>,
    after: i64,
    shutdown: CancellationToken,
) {
    let mut after = after;
    loop {
        let err = tokio::select! {
            err = follow_from(&source, model.as_ref(), &mut after) => err,
            _ = shutdown.cancelled() => return,
        };
        tracing::error!(context = model.progress().context, error = %err, "stream follower failed; resubscribing");
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Follows until an error, keeping `after` at what has been handled.
async fn follow_from(
    source: &EventSource,
    model: &dyn Invalidate,
    after: &mut i64,
) -> event_log::StoreError {
    let progress = model.progress();
    // No consumer group: what this instance knows lives in its memory, and a restart
    // follows again from where its read models are.
    let subscription = source.follow_types(progress.context, model.event_types(), *after);
    let mut subscription = match subscription.await {
        Ok(subscription) => subscription,
        Err(err) => return err,
    };
    loop {
        let batch = match subscription.next_batch(1000).await {
            Ok(batch) => batch,
            Err(err) => return err,
        };
        for event in &batch.events {
            model.on_event(event);
        }
        progress.set_seen(batch.through);
        model.on_through(batch.through);
        *after = batch.through;
        if let Err(err) = subscription.commit().await {
            return err;
        }
    }
}

/// Listens to the projector's notifications; reloads checkpoints after reconnecting.
pub async fn projections(
    pool: PgPool,
    models: Vec<Arc<dyn Invalidate>>,
    source_name: impl Fn(&str) -> String + Send + 'static,
    shutdown: CancellationToken,
) {
    loop {
        let result = tokio::select! {
            result = listen(&pool, &models, &source_name) => result,
            _ = shutdown.cancelled() => return,
        };
        if let Err(err) = result {
            tracing::error!(error = %err, "projection listener failed; reconnecting");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn listen(
    pool: &PgPool,
    models: &[Arc<dyn Invalidate>],
    source_name: &impl Fn(&str) -> String,
) -> Result<(), sqlx::Error> {
    let mut listener = event_log::database::listener(pool).await?;
    listener.listen(checkpoint::CHANNEL).await?;
    reload(pool, models, source_name).await?;
    loop {
        match listener.try_recv().await? {
            // The connection dropped and came back: notifications may have been missed.
            None => reload(pool, models, source_name).await?,
            Some(notification) => {
                let Some(notice) = Notice::parse(notification.payload()) else {
                    continue;
                };
                for model in models
                    .iter()
                    .filter(|m| m.progress().projection == notice.projection)
                {
                    if notice.reset {
                        model.on_reset(notice.position);
                    }
                    model.on_applied(notice.position);
                }
            }
        }
    }
}

/// Reads every projection's checkpoint for this instance's source.
async fn reload(
    pool: &PgPool,
    models: &[Arc<dyn Invalidate>],
    source_name: &impl Fn(&str) -> String,
) -> Result<(), sqlx::Error> {
    for model in models {
        let progress = model.progress();
        let position =
            checkpoint::position(pool, progress.projection, &source_name(progress.context)).await?;
        model.on_applied(position);
    }
    Ok(())
}
