//! The loop a delivery worker runs over its queue: a read-model table whose rows carry the
//! time their next attempt is due (`next_attempt_at`, null when none is). The email worker
//! and the alert worker each run it over their own table.
//!
//! The loop takes the rows that are due, longest-waiting first, and runs an attempt for
//! each, several at once. It wakes when the projection that builds the table commits (its
//! notice on the checkpoint channel, which every projector process sends), when an attempt
//! ends, when the next retry falls due, and at least every [`IDLE_POLL`] in case a notice
//! was missed. Which worker acts on a job is decided on the job's own stream, never here,
//! so any number of workers may share one queue.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::Arc,
    time::Duration,
};

use event_log::{checkpoint, database};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::{task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The longest the worker sleeps with nothing due.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often the queue depth gauge is refreshed.
const DEPTH_INTERVAL: Duration = Duration::from_secs(1);
/// How long a job the queue offered but its stream said was not due (the read model had
/// not caught up yet) is left alone, so a lagging projection does not make the worker read
/// the same stream over and over.
const REST: Duration = Duration::from_millis(500);

/// One queue table and what names it.
#[derive(Debug, Clone, Copy)]
pub struct Queue {
    /// What a job is, in log lines (`email`, `alert`).
    pub kind: &'static str,
    pub table: &'static str,
    /// The column holding a job's id.
    pub id_column: &'static str,
    /// The projection that builds the table: its commits may make jobs due.
    pub projection: &'static str,
    /// The gauge of jobs waiting or under way.
    pub depth_gauge: &'static str,
}

/// What a worker does with one job.
pub trait Worker: Send + Sync + 'static {
    /// This worker instance, as its claims name it.
    fn name(&self) -> &str;
    /// The pool the queue is read from.
    fn pool(&self) -> &PgPool;
    /// Attempts under way at once.
    fn slots(&self) -> usize;
    /// Makes an attempt on the job if it is due one; returns whether it made one.
    fn attempt(&self, id: Uuid) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

/// Runs the worker over `queue` until `shutdown`, starting over after failures (the queue
/// is in PostgreSQL: nothing is lost by starting over).
pub async fn run<W: Worker>(queue: Queue, worker: Arc<W>, shutdown: CancellationToken) {
    service_kit::restart::restarting(
        &shutdown,
        || {
            let (worker, shutdown) = (Arc::clone(&worker), shutdown.clone());
            async move { work(queue, &worker, &shutdown).await }
        },
        |err| tracing::error!(error = %err, "{} worker failed; starting over", queue.kind),
    )
    .await;
}

async fn work<W: Worker>(
    queue: Queue,
    worker: &Arc<W>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let pool = worker.pool().clone();
    let reads = Reads::new(&queue);
    let mut listener = database::listener(&pool).await?;
    listener.listen(checkpoint::CHANNEL).await?;
    tracing::info!(worker = %worker.name(), "{} worker started", queue.kind);
    let mut slots = Slots::new(queue.kind, worker);
    let mut depth_measured = Instant::now() - DEPTH_INTERVAL;
    loop {
        slots.end_rests();
        if slots.free() > 0 {
            for id in reads.due(&pool, slots.free() + slots.taken_count()).await? {
                slots.start(id);
            }
        }
        if depth_measured.elapsed() >= DEPTH_INTERVAL {
            metrics::gauge!(queue.depth_gauge).set(reads.depth(&pool).await? as f64);
            depth_measured = Instant::now();
        }
        let wait = if slots.free() == 0 {
            // Every slot is busy: the next free one wakes the loop.
            IDLE_POLL
        } else {
            reads.until_next_due(&pool, slots.taken()).await?
        };
        let deadline = Instant::now() + wait;
        loop {
            tokio::select! {
                notice = listener.recv() => {
                    let notice = notice?;
                    // Other projections' notices are many and say nothing of the queue.
                    if checkpoint::Notice::parse(notice.payload())
                        .is_some_and(|n| n.projection == queue.projection)
                    {
                        break;
                    }
                }
                Some(done) = slots.attempts.join_next(), if !slots.attempts.is_empty() => {
                    let (id, attempted) = done?;
                    slots.ended(id, attempted);
                    break;
                }
                _ = tokio::time::sleep_until(deadline) => break,
                _ = shutdown.cancelled() => {
                    // Let attempts under way record their outcome; each is bounded by its
                    // channel's timeout.
                    while let Some(done) = slots.attempts.join_next().await {
                        done?;
                    }
                    return Ok(());
                }
            }
        }
    }
}

/// The attempts one worker has under way, and the jobs it leaves alone for a while.
struct Slots<W> {
    kind: &'static str,
    worker: Arc<W>,
    size: usize,
    attempts: JoinSet<(Uuid, bool)>,
    in_flight: HashSet<Uuid>,
    /// Jobs the queue offered but their streams said were not due, since when.
    resting: HashMap<Uuid, Instant>,
}

impl<W: Worker> Slots<W> {
    fn new(kind: &'static str, worker: &Arc<W>) -> Self {
        Self {
            kind,
            worker: Arc::clone(worker),
            size: worker.slots(),
            attempts: JoinSet::new(),
            in_flight: HashSet::new(),
            resting: HashMap::new(),
        }
    }

    fn free(&self) -> usize {
        self.size.saturating_sub(self.attempts.len())
    }

    /// Jobs the queue may offer that are not to be started: under way or resting.
    fn taken(&self) -> Vec<Uuid> {
        self.in_flight
            .iter()
            .chain(self.resting.keys())
            .copied()
            .collect()
    }

    fn taken_count(&self) -> usize {
        self.in_flight.len() + self.resting.len()
    }

    /// Offers the jobs that rested long enough to the queue again.
    fn end_rests(&mut self) {
        self.resting.retain(|_, since| since.elapsed() < REST);
    }

    /// Starts an attempt on job `id`, unless every slot is busy or the job is taken.
    fn start(&mut self, id: Uuid) {
        if self.in_flight.len() >= self.size
            || self.resting.contains_key(&id)
            || !self.in_flight.insert(id)
        {
            return;
        }
        let (worker, kind) = (Arc::clone(&self.worker), self.kind);
        self.attempts.spawn(async move {
            match worker.attempt(id).await {
                Ok(attempted) => (id, attempted),
                Err(err) => {
                    tracing::error!(job_id = %id, error = %err, "{kind} attempt failed");
                    (id, false)
                }
            }
        });
    }

    /// An attempt ended; a job that was not due after all rests.
    fn ended(&mut self, id: Uuid, attempted: bool) {
        self.in_flight.remove(&id);
        if !attempted {
            self.resting.insert(id, Instant::now());
        }
    }
}

/// The queue's statements, written once from its table and column names.
struct Reads {
    due: String,
    next_due: String,
    depth: String,
}

impl Reads {
    fn new(queue: &Queue) -> Self {
        let Queue {
            table, id_column, ..
        } = queue;
        Self {
            due: format!(
                "SELECT {id_column} FROM {table} WHERE next_attempt_at <= $1 \
                 ORDER BY next_attempt_at LIMIT $2"
            ),
            next_due: format!(
                "SELECT min(next_attempt_at) FROM {table} \
                 WHERE next_attempt_at IS NOT NULL AND {id_column} <> ALL($1)"
            ),
            depth: format!("SELECT count(*) FROM {table} WHERE next_attempt_at IS NOT NULL"),
        }
    }

    /// Up to `limit` jobs due now, the longest-waiting first.
    async fn due(&self, pool: &PgPool, limit: usize) -> Result<Vec<Uuid>, sqlx::Error> {
        sqlx::query_scalar(&self.due)
            .bind(OffsetDateTime::now_utc())
            .bind(limit as i64)
            .fetch_all(pool)
            .await
    }

    /// How long until the next job not `taken` here falls due, at most [`IDLE_POLL`].
    async fn until_next_due(
        &self,
        pool: &PgPool,
        taken: Vec<Uuid>,
    ) -> Result<Duration, sqlx::Error> {
        let next: Option<OffsetDateTime> = sqlx::query_scalar(&self.next_due)
            .bind(&taken)
            .fetch_one(pool)
            .await?;
        let wait = next.map_or(IDLE_POLL, |next| {
            let until = next - OffsetDateTime::now_utc();
            Duration::try_from(until).unwrap_or(Duration::ZERO)
        });
        Ok(wait.clamp(Duration::from_millis(5), IDLE_POLL))
    }

    /// Jobs waiting for an attempt or under way.
    async fn depth(&self, pool: &PgPool) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(&self.depth).fetch_one(pool).await
    }
}
