//! The alert delivery worker: the queue loop (see [`crate::queue`]) over the alerts read
//! model, an attempt per due alert.

use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    attempt::{self, Deliverer},
    projection::AlertsProjection,
};
use crate::{
    Projection,
    queue::{self, Queue, Worker},
};

const QUEUE: Queue = Queue {
    kind: "alert",
    table: "error_alerts",
    id_column: "alert_id",
    projection: AlertsProjection::NAME,
    depth_gauge: "alerts_queue_depth",
};

impl Worker for Deliverer {
    fn name(&self) -> &str {
        &self.worker
    }

    fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    fn slots(&self) -> usize {
        self.concurrency
    }

    async fn attempt(&self, id: Uuid) -> anyhow::Result<bool> {
        attempt::run(self, id).await
    }
}

/// Runs the alert delivery worker until `shutdown`.
pub async fn run(deliverer: Arc<Deliverer>, shutdown: CancellationToken) {
    queue::run(QUEUE, deliverer, shutdown).await;
}
