//! Following the PostgreSQL log directly, woken by LISTEN/NOTIFY.
//!
//! Every follower of one [`PgLog`] shares one `LISTEN` connection, whose append notices
//! fan out in-process: PostgreSQL wakes every listening backend of a database for every
//! notice, so each listener costs it work per append batch, whatever it listens to.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use sqlx::PgPool;
use tokio::sync::{OnceCell, broadcast};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{Batch, Subscription};
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
        let stop = CancellationToken::new();
        tokio::spawn(relay_notices(listener, notices.clone(), stop.clone()));
        Ok(Shared {
            notices,
            readers,
            _listening: stop.drop_guard(),
        })
    }
}

/// Passes every append notice on to the followers until stopped.
async fn relay_notices(
    mut listener: sqlx::postgres::PgListener,
    notices: broadcast::Sender<Notice>,
    stop: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            _ = stop.cancelled() => return,
        };
        // A send fails only while no follower is subscribed: nothing to tell then.
        match received {
            Ok(Some(notice)) => {
                let _ = notices.send(BatchNotice::parse(notice.payload()).map(Arc::new));
            }
            // Reconnected: what was appended meanwhile was not announced.
            Ok(None) => {
                let _ = notices.send(None);
            }
            Err(err) => {
                tracing::warn!(error = %err, "log listener failed; retrying");
                let _ = notices.send(None);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }
    }
}

pub struct PgLogSubscription {
    readers: PgPool,
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
    /// Reads after the cursor. Positions commit in order, so everything at or below the
    /// head read in the same snapshot (one statement) is visible: nothing can appear
    /// behind the cursor.
    async fn read(&self, max: usize) -> Result<Batch, StoreError> {
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
