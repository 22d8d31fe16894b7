//! Following the PostgreSQL log directly, woken by LISTEN/NOTIFY.
//!
//! Every follower of one [`PgLog`] shares one `LISTEN` connection, whose append notices
//! fan out in-process: PostgreSQL wakes every listening backend of a database for every
//! notice, so each listener costs it work per append batch, whatever it listens to. The
//! relay of those notices also reads each announced batch once, into [`Recent`], where
//! caught-up followers find their events without a read of their own.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use sqlx::PgPool;
use tokio::sync::{OnceCell, broadcast};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{
    Batch, Subscription,
    recent::{self, Recent},
};
use crate::{StoreError, database, read};

pub(super) const SOURCE: &str = "log";

/// Catch-up reads happen without waiting; this only bounds the wait when a notice was
/// lost with a dropped connection.
const SAFETY_WAKE: Duration = Duration::from_secs(30);
/// Notices a follower may fall behind by before it is told it missed some (it then reads
/// the log, which is correct, only not skipped).
const NOTICE_BACKLOG: usize = 1024;
/// Connections reading the log for the followers of one source.
const READERS: u32 = 4;

/// The PostgreSQL log as a source of subscriptions.
#[derive(Clone)]
pub struct PgLog {
    pool: PgPool,
    shared: Arc<OnceCell<Shared>>,
}

/// Started by the first subscription: the notice fan-out and the reading connections.
struct Shared {
    notices: broadcast::Sender<Notice>,
    /// Reads of the log only, planned as [`database::log_readers`] says.
    readers: PgPool,
    recent: Arc<Mutex<Recent>>,
    /// Stops the listening task when the last clone of the source is dropped.
    _listening: DropGuard,
}

/// An append notice, or None when notices may have been missed (the listening connection
/// was lost): followers then read the log to learn what it holds.
type Notice = Option<Arc<BatchNotice>>;

impl PgLog {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            shared: Arc::new(OnceCell::new()),
        }
    }

    /// Follows `contexts` (all when None) after position `after`.
    pub async fn subscribe(
        &self,
        contexts: Option<Vec<String>>,
        after: i64,
    ) -> Result<PgLogSubscription, StoreError> {
        self.subscribe_types(contexts, None, after).await
    }

    /// Follows the events of `event_types` (all when None) of `contexts` after `after`;
    /// the others are passed over unread.
    pub async fn subscribe_types(
        &self,
        contexts: Option<Vec<String>>,
        event_types: Option<&'static [&'static str]>,
        after: i64,
    ) -> Result<PgLogSubscription, StoreError> {
        let shared = self.shared.get_or_try_init(|| self.start()).await?;
        Ok(PgLogSubscription {
            readers: shared.readers.clone(),
            recent: shared.recent.clone(),
            // Subscribed before the first read: a commit between the two still wakes it.
            notices: shared.notices.subscribe(),
            contexts,
            event_types,
            after,
            caught_up: false,
        })
    }

    async fn start(&self) -> Result<Shared, StoreError> {
        let mut listener = database::listener(&self.pool).await?;
        listener.listen("events").await?;
        let readers = database::log_readers(&self.pool, READERS).await?;
        let (notices, _) = broadcast::channel(NOTICE_BACKLOG);
        let recent = Arc::new(Mutex::new(Recent::default()));
        let stop = CancellationToken::new();
        let relay = Relay {
            notices: notices.clone(),
            readers: readers.clone(),
            recent: recent.clone(),
        };
        tokio::spawn(relay.run(listener, stop.clone()));
        Ok(Shared {
            notices,
            readers,
            recent,
            _listening: stop.drop_guard(),
        })
    }
}

/// Locks the recent stretch; a panic elsewhere cannot leave it inconsistent (every change
/// is made under one lock), so a poisoned lock is taken as it is.
fn lock(recent: &Mutex<Recent>) -> std::sync::MutexGuard<'_, Recent> {
    recent.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Passes append notices on to the followers, each after reading its batch into the
/// recent stretch.
struct Relay {
    notices: broadcast::Sender<Notice>,
    readers: PgPool,
    recent: Arc<Mutex<Recent>>,
}

impl Relay {
    async fn run(self, mut listener: sqlx::postgres::PgListener, stop: CancellationToken) {
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                _ = stop.cancelled() => return,
            };
            match received {
                Ok(Some(first)) => {
                    // The notices already received are read in one go.
                    let notices: Vec<_> = std::iter::once(first)
                        .chain(std::iter::from_fn(|| listener.next_buffered()))
                        .map(|notice| BatchNotice::parse(notice.payload()))
                        .collect();
                    self.remember(&notices).await;
                    for notice in notices {
                        self.announce(notice.map(Arc::new));
                    }
                }
                // Reconnected: what was appended meanwhile was not announced.
                Ok(None) => self.missed(),
                Err(err) => {
                    tracing::warn!(error = %err, "log listener failed; retrying");
                    self.missed();
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.cancelled() => return,
                    }
                }
            }
        }
    }

    fn announce(&self, notice: Notice) {
        // A send fails only while no follower is subscribed: nothing to tell then.
        let _ = self.notices.send(notice);
    }

    /// Notices may have been lost: the stretch can no longer vouch for what follows it.
    fn missed(&self) {
        lock(&self.recent).forget();
        self.announce(None);
    }

    /// Reads the announced batches (and anything between the stretch and them) into the
    /// recent stretch, before the followers hear of them. Batches too large to keep, an
    /// unreadable notice or a failed read leave the followers to read the log themselves.
    async fn remember(&self, notices: &[Option<BatchNotice>]) {
        let Some(batches) = notices
            .iter()
            .map(Option::as_ref)
            .collect::<Option<Vec<_>>>()
        else {
            lock(&self.recent).forget();
            return;
        };
        let (Some(first), Some(last)) = (
            batches.iter().map(|b| b.first).min(),
            batches.iter().map(|b| b.last).max(),
        ) else {
            return;
        };
        let after = match lock(&self.recent).end() {
            Some(end) if end >= last => return,
            Some(end) => end,
            None => first - 1,
        };
        if self.notices.receiver_count() == 0 || last - after > recent::CAPACITY as i64 {
            lock(&self.recent).forget();
            return;
        }
        match read::read_all(&self.readers, after, last - after, None).await {
            Ok(events) => {
                let mut recent = lock(&self.recent);
                if recent.end() != Some(after) {
                    recent.restart(after);
                }
                recent.extend(events, last);
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read announced batches; followers read them themselves");
                lock(&self.recent).forget();
            }
        }
    }
}

pub struct PgLogSubscription {
    readers: PgPool,
    recent: Arc<Mutex<Recent>>,
    notices: broadcast::Receiver<Notice>,
    contexts: Option<Vec<String>>,
    event_types: Option<&'static [&'static str]>,
    after: i64,
    /// Everything committed up to the cursor has been seen (a read reached the head, or
    /// a notice showed the batch after it holds nothing for this subscription), and any
    /// later commit sends a notice of its own: the log need not be read before the next
    /// notice. Without this, every batch would cost a second, empty read.
    caught_up: bool,
}

impl PgLogSubscription {
    /// Reads after the cursor: from the recent stretch when it holds the cursor, from the
    /// log otherwise. Positions commit in order, so everything at or below the head read
    /// in the same snapshot (one statement) is visible: nothing can appear behind the
    /// cursor.
    async fn read(&self, max: usize) -> Result<Batch, StoreError> {
        let recent = lock(&self.recent).batch_after(
            self.after,
            max,
            self.contexts.as_deref(),
            self.event_types,
        );
        if let Some(batch) = recent {
            metrics::counter!("event_log_follower_reads_total", "from" => "recent").increment(1);
            return Ok(batch);
        }
        metrics::counter!("event_log_follower_reads_total", "from" => "log").increment(1);
        let (head, events) = read::read_to_head(
            &self.readers,
            self.after,
            max as i64,
            self.contexts.as_deref(),
            self.event_types,
        )
        .await?;
        let through = match events.last() {
            Some(last) if events.len() == max => last.position,
            _ => head.max(self.after),
        };
        Ok(Batch { events, through })
    }

    /// The end of a committed batch this subscription can move past unread: the batch
    /// follows the cursor directly and holds no event of the followed contexts.
    fn passes_over(&self, batch: &BatchNotice) -> Option<i64> {
        let contexts = self.contexts.as_ref()?;
        let unrelated = !batch
            .contexts
            .iter()
            .any(|c| contexts.iter().any(|f| f == c));
        (batch.first == self.after + 1 && unrelated).then_some(batch.last)
    }

    /// Waits for the next notice; None when some may have been missed.
    async fn next_notice(&mut self) -> Result<Notice, StoreError> {
        tokio::select! {
            received = self.notices.recv() => match received {
                Ok(notice) => Ok(notice),
                Err(broadcast::error::RecvError::Lagged(_)) => Ok(None),
                Err(broadcast::error::RecvError::Closed) => Err(StoreError::ListenerClosed),
            },
            _ = tokio::time::sleep(SAFETY_WAKE) => Ok(None),
        }
    }
}

/// What an append notice says: the batch's positions and contexts.
#[derive(Debug, PartialEq, Eq)]
struct BatchNotice {
    first: i64,
    last: i64,
    contexts: Vec<String>,
}

impl BatchNotice {
    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.splitn(3, ':');
        let first = parts.next()?.parse().ok()?;
        let last = parts.next()?.parse().ok()?;
        let contexts = parts.next()?.split(',').map(str::to_owned).collect();
        Some(Self {
            first,
            last,
            contexts,
        })
    }
}

#[async_trait]
impl Subscription for PgLogSubscription {
    fn source(&self) -> &str {
        SOURCE
    }

    async fn next_batch(&mut self, max: usize) -> Result<Batch, StoreError> {
        loop {
            if !self.caught_up {
                let batch = self.read(max).await?;
                self.caught_up = batch.events.len() < max;
                if batch.through > self.after {
                    self.after = batch.through;
                    return Ok(batch);
                }
            }
            // Caught up: sleep until an append commits.
            match self.next_notice().await? {
                // A batch the last read already saw.
                Some(notice) if notice.last <= self.after => {}
                Some(notice) => match self.passes_over(&notice) {
                    Some(through) => {
                        self.after = through;
                        return Ok(Batch {
                            events: Vec::new(),
                            through,
                        });
                    }
                    None => self.caught_up = false,
                },
                None => self.caught_up = false,
            }
        }
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_the_batch_positions_and_contexts() {
        assert_eq!(
            BatchNotice::parse("11:40:items,orders"),
            Some(BatchNotice {
                first: 11,
                last: 40,
                contexts: vec!["items".into(), "orders".into()],
            })
        );
        assert_eq!(BatchNotice::parse("11:40"), None);
        assert_eq!(BatchNotice::parse("x:40:items"), None);
    }
}
