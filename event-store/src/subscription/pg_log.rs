//! Following the PostgreSQL log directly, woken by LISTEN/NOTIFY.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::{PgPool, postgres::PgListener};

use super::{Batch, Subscription};
use crate::{StoreError, store};

pub(super) const SOURCE: &str = "log";

/// Catch-up reads happen without waiting; this only bounds the wait when a notification
/// was lost with a dropped connection.
const SAFETY_WAKE: Duration = Duration::from_secs(30);

pub struct PgLogSubscription {
    /// Woken by append notices, and reads the log on the same connection.
    listener: PgListener,
    contexts: Option<Vec<String>>,
    after: i64,
    /// The cursor was last moved by a notice of a batch with nothing for this
    /// subscription: everything committed up to it has been seen, and any later commit
    /// sends a notice of its own, so the log need not be read before the next notice.
    passed_over: bool,
}

impl PgLogSubscription {
    /// Listens first, then reads: a commit between the two still wakes the reader.
    pub async fn start(
        pool: PgPool,
        contexts: Option<Vec<String>>,
        after: i64,
    ) -> Result<Self, StoreError> {
        let mut listener = crate::database::reading_listener(&pool).await?;
        listener.listen("events").await?;
        Ok(Self {
            listener,
            contexts,
            after,
            passed_over: false,
        })
    }

    /// Reads after the cursor. Positions commit in order, so everything at or below the
    /// head read in the same snapshot (one statement) is visible: nothing can appear
    /// behind the cursor.
    async fn read(&mut self, max: usize) -> Result<Batch, StoreError> {
        let (head, events) = store::read_to_head(
            &mut self.listener,
            self.after,
            max as i64,
            self.contexts.as_deref(),
        )
        .await?;
        let through = match events.last() {
            Some(last) if events.len() == max => last.position,
            _ => head.max(self.after),
        };
        Ok(Batch { events, through })
    }
}

impl PgLogSubscription {
    /// The end of a committed batch this subscription can move past unread: the batch
    /// follows the cursor directly and holds no event of the followed contexts.
    fn passes_over(&self, payload: &str) -> Option<i64> {
        let contexts = self.contexts.as_ref()?;
        let batch = BatchNotice::parse(payload)?;
        let unrelated = !batch
            .contexts
            .iter()
            .any(|c| contexts.iter().any(|f| f == c));
        (batch.first == self.after + 1 && unrelated).then_some(batch.last)
    }
}

/// What an append notification says: the batch's positions and contexts.
struct BatchNotice<'a> {
    first: i64,
    last: i64,
    contexts: Vec<&'a str>,
}

impl<'a> BatchNotice<'a> {
    fn parse(payload: &'a str) -> Option<Self> {
        let mut parts = payload.splitn(3, ':');
        let first = parts.next()?.parse().ok()?;
        let last = parts.next()?.parse().ok()?;
        let contexts = parts.next()?.split(',').collect();
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
            if !std::mem::take(&mut self.passed_over) {
                let batch = self.read(max).await?;
                if batch.through > self.after {
                    self.after = batch.through;
                    return Ok(batch);
                }
            }
            // Caught up: sleep until an append commits.
            let notice = tokio::select! {
                notice = self.listener.try_recv() => notice?,
                _ = tokio::time::sleep(SAFETY_WAKE) => None,
            };
            if let Some(through) = notice.and_then(|n| self.passes_over(n.payload())) {
                self.after = through;
                self.passed_over = true;
                return Ok(Batch {
                    events: Vec::new(),
                    through,
                });
            }
        }
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}
