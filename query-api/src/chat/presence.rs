//! Presence: a user is online while they hold at least one live stream on any instance.
//!
//! Each instance writes which of its users stream (table `chat_presence`, one row per
//! instance and user) and announces every change on `NOTIFY chat_presence`; every instance
//! keeps the whole picture from those announcements. A user's last stream closing counts
//! only after a grace period, so a reconnect does not flap. An instance that stops
//! heartbeating is swept by the others and its users go offline. Changes are pushed to the
//! user's contacts (everyone sharing a room with them) at most once per interval, the
//! latest state winning.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Serialize;
use sqlx::PgPool;
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{frames, hub::Hub};

const CHANNEL: &str = "chat_presence";
/// How often an instance says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// An instance silent this long is gone, and so are its users' streams.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// Presence changes reach contacts at most this often.
const PUSH_INTERVAL: Duration = Duration::from_secs(1);

pub struct Presence {
    pool: PgPool,
    instance: Uuid,
    grace: Duration,
    signals: mpsc::UnboundedSender<Signal>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Signal>>>,
    /// Users online anywhere, and on which instances.
    online: Mutex<HashMap<Uuid, HashSet<Uuid>>>,
    /// Changes not pushed yet: user and whether they are online now.
    pending: Mutex<HashMap<Uuid, bool>>,
}

enum Signal {
    /// The user opened their first stream here.
    Connected(Uuid),
    /// The grace period after the user's last stream here closed has passed.
    Check(Uuid),
}

/// What contacts are told.
#[derive(Serialize)]
struct PresenceChange {
    user_id: Uuid,
    online: bool,
}

impl Presence {
    pub fn new(pool: PgPool, grace: Duration) -> Arc<Self> {
        let (signals, receiver) = mpsc::unbounded_channel();
        Arc::new(Self {
            pool,
            instance: Uuid::now_v7(),
            grace,
            signals,
            receiver: Mutex::new(Some(receiver)),
            online: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// The user opened their first stream on this instance.
    pub fn connected(&self, user: Uuid) {
        let _ = self.signals.send(Signal::Connected(user));
    }

    /// The user's last stream on this instance closed: offline after the grace period,
    /// unless a stream reopened by then.
    pub fn disconnected(&self, user: Uuid) {
        let signals = self.signals.clone();
        let grace = self.grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let _ = signals.send(Signal::Check(user));
        });
    }

    /// Starts the writer, the listener, the heartbeat and the pusher; returns once this
    /// instance is registered and the current picture is loaded.
    pub async fn spawn(
        self: &Arc<Self>,
        hub: Arc<Hub>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Vec<JoinHandle<()>>> {
        self.heartbeat().await?;
        let mut listener = event_log::database::listener(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        self.reload().await?;
        let receiver = self
            .receiver
            .lock()
            .expect("presence lock")
            .take()
            .ok_or_else(|| anyhow::anyhow!("presence started twice"))?;
        Ok(vec![
            tokio::spawn(self.clone().write(receiver, hub.clone(), shutdown.clone())),
            tokio::spawn(self.clone().listen(listener, shutdown.clone())),
            tokio::spawn(self.clone().keep_alive(shutdown.clone())),
            tokio::spawn(self.clone().push(hub, shutdown)),
        ])
    }

    /// Records this instance's users' presence, in the order the changes happened.
    async fn write(
        self: Arc<Self>,
        mut receiver: mpsc::UnboundedReceiver<Signal>,
        hub: Arc<Hub>,
        shutdown: CancellationToken,
    ) {
        // Users written as online from here.
        let mut marked: HashSet<Uuid> = HashSet::new();
        loop {
            let signal = tokio::select! {
                signal = receiver.recv() => signal,
                _ = shutdown.cancelled() => None,
            };
            let result = match signal {
                Some(Signal::Connected(user)) if marked.insert(user) => self.mark(user, true).await,
                Some(Signal::Check(user)) if hub.streams_of(user) == 0 && marked.remove(&user) => {
                    self.mark(user, false).await
                }
                Some(_) => Ok(()),
                None => break,
            };
            if let Err(err) = result {
                tracing::error!(error = %err, "could not record presence");
            }
        }
        // Leaving: this instance's users are offline unless they stream elsewhere.
        for user in marked {
            if let Err(err) = self.mark(user, false).await {
                tracing::error!(error = %err, "could not record presence on shutdown");
            }
        }
        let _ = sqlx::query("DELETE FROM chat_instances WHERE instance_id = $1")
            .bind(self.instance)
            .execute(&self.pool)
            .await;
    }

    async fn mark(&self, user: Uuid, online: bool) -> sqlx::Result<()> {
        let sql = if online {
            "WITH p AS (INSERT INTO chat_presence (instance_id, user_id, since) \
                 VALUES ($1, $2, now()) ON CONFLICT DO NOTHING) \
             SELECT pg_notify($3, $1 || ':' || $2 || ':1')"
        } else {
            "WITH p AS (DELETE FROM chat_presence WHERE instance_id = $1 AND user_id = $2), \
             s AS (INSERT INTO chat_last_seen (user_id, last_seen_at) VALUES ($2, now()) \
                 ON CONFLICT (user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at) \
             SELECT pg_notify($3, $1 || ':' || $2 || ':0')"
        };
        sqlx::query(sql)
            .bind(self.instance)
            .bind(user)
            .bind(CHANNEL)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Hears every instance's changes; reloads the picture after a lost connection.
    async fn listen(
        self: Arc<Self>,
        mut listener: sqlx::postgres::PgListener,
        shutdown: CancellationToken,
    ) {
        loop {
            let notification = tokio::select! {
                n = listener.try_recv() => n,
                _ = shutdown.cancelled() => return,
            };
            match notification {
                Ok(Some(notification)) => self.heard(notification.payload()),
                // Reconnected: announcements may have been missed.
                Ok(None) => {
                    if let Err(err) = self.reload().await {
                        tracing::error!(error = %err, "could not reload presence");
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "presence listener failed");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }

    /// Applies one announcement, `<instance>:<user>:<1|0>`.
    fn heard(&self, payload: &str) {
        let mut parts = payload.split(':');
        let (Some(instance), Some(user), Some(flag)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (Ok(instance), Ok(user)) = (instance.parse::<Uuid>(), user.parse::<Uuid>()) else {
            return;
        };
        let mut online = self.online.lock().expect("presence lock");
        let was = online.contains_key(&user);
        if flag == "1" {
            online.entry(user).or_default().insert(instance);
        } else if let Some(instances) = online.get_mut(&user) {
            instances.remove(&instance);
            if instances.is_empty() {
                online.remove(&user);
            }
        }
        let now = online.contains_key(&user);
        drop(online);
        if was != now {
            self.pending
                .lock()
                .expect("presence lock")
                .insert(user, now);
        }
    }

    /// Replaces the picture with the table's, queuing the differences for contacts.
    async fn reload(&self) -> sqlx::Result<()> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT p.instance_id, p.user_id FROM chat_presence p \
             JOIN chat_instances i USING (instance_id) \
             WHERE i.heartbeat_at > now() - make_interval(secs => $1)",
        )
        .bind(STALE_AFTER.as_secs_f64())
        .fetch_all(&self.pool)
        .await?;
        let mut fresh: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        for (instance, user) in rows {
            fresh.entry(user).or_default().insert(instance);
        }
        let mut online = self.online.lock().expect("presence lock");
        let mut pending = self.pending.lock().expect("presence lock");
        for user in online.keys().filter(|u| !fresh.contains_key(u)) {
            pending.insert(*user, false);
        }
        for user in fresh.keys().filter(|u| !online.contains_key(u)) {
            pending.insert(*user, true);
        }
        *online = fresh;
        Ok(())
    }

    /// Heartbeats, and sweeps the instances that stopped.
    async fn keep_alive(self: Arc<Self>, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            if let Err(err) = self.heartbeat().await {
                tracing::error!(error = %err, "presence heartbeat failed");
            }
        }
    }

    async fn heartbeat(&self) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO chat_instances (instance_id, heartbeat_at) VALUES ($1, now()) \
             ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(self.instance)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "WITH stale AS (DELETE FROM chat_instances \
                 WHERE heartbeat_at < now() - make_interval(secs => $1) RETURNING instance_id), \
             gone AS (DELETE FROM chat_presence p USING stale \
                 WHERE p.instance_id = stale.instance_id RETURNING p.instance_id, p.user_id), \
             seen AS (INSERT INTO chat_last_seen (user_id, last_seen_at) \
                 SELECT DISTINCT user_id, now() FROM gone \
                 ON CONFLICT (user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at) \
             SELECT count(pg_notify($2, instance_id || ':' || user_id || ':0')) FROM gone",
        )
        .bind(STALE_AFTER.as_secs_f64())
        .bind(CHANNEL)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pushes the changes of the last interval to the contacts of each user who changed.
    async fn push(self: Arc<Self>, hub: Arc<Hub>, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(PUSH_INTERVAL);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            let changes = std::mem::take(&mut *self.pending.lock().expect("presence lock"));
            for (user_id, online) in changes {
                let frame = frames::state("presence", &PresenceChange { user_id, online });
                hub.notify(&hub.contacts(user_id), &frame);
            }
        }
    }
}
