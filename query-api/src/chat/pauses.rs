//! Pauses in the opening of a stream, for tests only (feature `testing`): a test holds the
//! next stream of a user at one of these moments and makes messages commit meanwhile,
//! the interleavings that would open a gap or a duplicate if the stream's history and its
//! live frames did not meet exactly at its registration.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex, PoisonError},
};

use tokio::sync::oneshot;
use uuid::Uuid;

/// Where the opening of a stream can be held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Moment {
    /// Authorised and past `Last-Event-ID`'s checks, not yet registered with the hub.
    BeforeRegistering,
    /// Registered (live frames queue up), the missed history not yet read.
    BeforeHistory,
}

struct Armed {
    reached: oneshot::Sender<()>,
    released: oneshot::Receiver<()>,
}

/// Keyed by user, so tests sharing a process do not hold each other's streams.
static ARMED: LazyLock<Mutex<HashMap<(Moment, Uuid), Armed>>> = LazyLock::new(Default::default);

/// A held moment: tells when a stream reached it, and lets it go on.
pub struct Pause {
    reached: Option<oneshot::Receiver<()>>,
    release: oneshot::Sender<()>,
}

/// Holds the next stream `user` opens at `moment`, until the pause is released.
pub fn arm(moment: Moment, user: Uuid) -> Pause {
    let (reached_tx, reached) = oneshot::channel();
    let (release, released) = oneshot::channel();
    let armed = Armed {
        reached: reached_tx,
        released,
    };
    ARMED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((moment, user), armed);
    Pause {
        reached: Some(reached),
        release,
    }
}

impl Pause {
    /// Waits until a stream is held here.
    pub async fn reached(&mut self) {
        if let Some(reached) = self.reached.take() {
            reached.await.expect("the paused stream is gone");
        }
    }

    pub fn release(self) {
        let _ = self.release.send(());
    }
}

/// Where a stream of `user` passes `moment`: held there if a test armed it.
pub(crate) async fn pass(moment: Moment, user: Uuid) {
    let armed = ARMED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&(moment, user));
    if let Some(armed) = armed {
        let _ = armed.reached.send(());
        let _ = armed.released.await;
    }
}
