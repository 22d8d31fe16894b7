//! The delivery: records the drain's batches through a sink, trying a failed batch again
//! briefly before giving it up. Whatever is logged while it delivers (the store failing,
//! say) is not captured: it would feed the queue it is emptying.

use std::time::Duration;

use tokio::sync::mpsc;

use super::{
    CapturedRecord,
    layer::OWN_TARGET,
    sink::{Sink, Source, Unrecorded},
};

tokio::task_local! {
    /// Set while a batch is being delivered.
    static DELIVERING: ();
}

/// Pauses before the second and third attempts at a batch.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(800)];

/// Whether the current task is delivering captured records.
pub(crate) fn delivering() -> bool {
    DELIVERING.try_with(|_| ()).is_ok()
}

/// Delivers every batch until the drain ends.
pub(crate) async fn deliver(
    sink: impl Sink,
    source: Source,
    mut batches: mpsc::Receiver<Vec<CapturedRecord>>,
) {
    while let Some(batch) = batches.recv().await {
        let errors = batch
            .into_iter()
            .map(|record| source.error_logged(record))
            .collect();
        DELIVERING.scope((), record(&sink, errors)).await;
    }
}

async fn record(sink: &impl Sink, errors: Vec<schemas::errors::ErrorLogged>) {
    let mut result = sink.record(errors).await;
    for pause in RETRY_PAUSES {
        let Err(Unrecorded { errors, .. }) = result else {
            return;
        };
        tokio::time::sleep(pause).await;
        result = sink.record(errors).await;
    }
    if let Err(Unrecorded { errors, cause }) = result {
        metrics::counter!("errors_capture_dropped_total", "reason" => "not_recorded")
            .increment(errors.len() as u64);
        tracing::warn!(target: OWN_TARGET, dropped = errors.len(), %cause, "captured errors could not be recorded");
    }
}
