//! The email worker: the queue loop (see [`crate::queue`]) over the emails read model,
//! an attempt per due email.

use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::attempt::{self, Sender};
use crate::{
    Projection,
    email::EmailProjection,
    queue::{self, Queue, Worker},
};

const QUEUE: Queue = Queue {
    kind: "email",
    table: "emails",
    id_column: "email_id",
    projection: EmailProjection::NAME,
    depth_gauge: "emails_queue_depth",
};

impl Worker for Sender {
    fn name(&self) -> &str {
        &self.worker
    }

    fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    fn slots(&self) -> usize {
        self.attempts
    }

    async fn attempt(&self, id: Uuid) -> anyhow::Result<bool> {
        attempt::run(self, id).await
    }
}

/// Runs the email worker until `shutdown`.
pub async fn run(sender: Arc<Sender>, shutdown: CancellationToken) {
    tracing::info!(to = %sender.mailer.describe(), "email worker sends");
    queue::run(QUEUE, sender, shutdown).await;
}
