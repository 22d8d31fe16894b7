//! Sessions revoked before their access tokens expire (logout, refresh-token reuse), known
//! to every instance: each loads the recent revocations on start and hears new ones from
//! PostgreSQL `NOTIFY revocations`, sent in the same transaction that revokes.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{
    PgPool,
    postgres::{PgListener, PgPoolOptions},
};
use tokio::{sync::broadcast, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The channel revocations are announced on; the payload is the session id.
pub const CHANNEL: &str = "revocations";

/// Revoked sessions whose access tokens may still be unexpired.
#[derive(Clone)]
pub struct Revocations {
    revoked: Arc<RwLock<HashMap<Uuid, Instant>>>,
    /// Whether a listener feeds this set already (services sharing it start one).
    followed: Arc<AtomicBool>,
    /// Every revocation as it is heard of, for those who hold sessions open (streams).
    announced: broadcast::Sender<Uuid>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            revoked: Arc::default(),
            followed: Arc::default(),
            announced: broadcast::channel(1024).0,
        }
    }
}

impl Revocations {
    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.revoked
            .read()
            .expect("revocations lock")
            .contains_key(&session)
    }

    /// Records a revocation heard of (or made) here.
    pub fn revoke(&self, session: Uuid) {
        self.revoked
            .write()
            .expect("revocations lock")
            .insert(session, Instant::now());
        // Nobody listening is fine.
        let _ = self.announced.send(session);
    }

    /// Revocations from now on. A receiver that falls behind misses some (it is told so
    /// by `RecvError::Lagged`) and should check the sessions it holds with `is_revoked`.
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.announced.subscribe()
    }

    /// Forgets revocations older than `ttl`: every token they could stop has expired.
    fn prune(&self, ttl: Duration) {
        self.revoked
            .write()
            .expect("revocations lock")
            .retain(|_, at| at.elapsed() < ttl);
    }

    /// Listens, then loads the revocations of the last `ttl` (so none is missed between
    /// the two), and returns once loaded; a task then keeps listening until `shutdown`,
    /// reloading after a lost connection.
    pub async fn spawn(
        &self,
        pool: PgPool,
        ttl: Duration,
        shutdown: CancellationToken,
    ) -> sqlx::Result<Option<JoinHandle<()>>> {
        if self.followed.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        let listener = match self.start(&pool, ttl).await {
            Ok(listener) => listener,
            Err(err) => {
                self.followed.store(false, Ordering::SeqCst);
                return Err(err);
            }
        };
        let revocations = self.clone();
        Ok(Some(tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                let result = match listener.take() {
                    Some(listener) => revocations.listen(&pool, listener, ttl, &shutdown).await,
                    None => match revocations.start(&pool, ttl).await {
                        Ok(listener) => revocations.listen(&pool, listener, ttl, &shutdown).await,
                        Err(err) => Err(err),
                    },
                };
                match result {
                    Ok(()) => return,
                    Err(err) => {
                        tracing::error!(error = %err, "revocation listener failed; reconnecting")
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        })))
    }

    async fn start(&self, pool: &PgPool, ttl: Duration) -> sqlx::Result<PgListener> {
        // A connection of its own: a listener holds it for as long as it lives.
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with((*pool.connect_options()).clone())
            .await?;
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANNEL).await?;
        self.load_recent(pool, ttl).await?;
        Ok(listener)
    }

    /// The revocations of the last `ttl`, from the table every revocation is written to:
    /// what a listener that was not listening would have missed.
    async fn load_recent(&self, pool: &PgPool, ttl: Duration) -> sqlx::Result<()> {
        let recent: Vec<Uuid> = sqlx::query_scalar(
            "SELECT session_id FROM sessions WHERE revoked_at > now() - make_interval(secs => $1)",
        )
        .bind(ttl.as_secs_f64())
        .fetch_all(pool)
        .await?;
        for session in recent {
            self.revoke(session);
        }
        Ok(())
    }

    /// Hears revocations until `shutdown` (Ok) or a failure (Err). The listener reconnects
    /// by itself after a lost connection; what was announced meanwhile is reloaded.
    async fn listen(
        &self,
        pool: &PgPool,
        mut listener: PgListener,
        ttl: Duration,
        shutdown: &CancellationToken,
    ) -> sqlx::Result<()> {
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received?,
                _ = shutdown.cancelled() => return Ok(()),
            };
            let Some(notification) = received else {
                tracing::warn!("revocation listener reconnecting; reloading recent revocations");
                self.load_recent(pool, ttl).await?;
                continue;
            };
            match notification.payload().parse::<Uuid>() {
                Ok(session) => self.revoke(session),
                Err(_) => tracing::warn!(payload = notification.payload(), "malformed revocation"),
            }
            self.prune(ttl);
        }
    }
}
