//! What a projection is: a named read model fed by one context's events.

use std::sync::Arc;

use async_trait::async_trait;
use schemas::RecordedEvent;
use sqlx::PgConnection;

/// Physical names of a projection's tables: the live ones, or the shadow copies a
/// replay writes before swapping them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Live,
    Rebuild,
}

impl Tables {
    /// The physical name of a logical table.
    pub fn name(self, table: &str) -> String {
        match self {
            Self::Live => table.to_owned(),
            Self::Rebuild => format!("{table}__rebuild"),
        }
    }
}

/// A read model built from the events of one context: what each projection implements.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Name used by the replay CLI, in checkpoints and in notifications.
    const NAME: &'static str;
    /// The context whose events it applies.
    const CONTEXT: &'static str;
    /// Its tables, which a replay rebuilds and swaps together.
    const TABLES: &'static [&'static str];
    /// The event types of its context it applies, when not all: the runner's subscription
    /// passes over the others unread (a replay may still give them; `apply` ignores them).
    const EVENT_TYPES: Option<&'static [&'static str]> = None;

    /// Applies events, in order, inside the caller's transaction. The runner and the
    /// replay never give it an event twice.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()>;
}

/// Any projection, as the runner, the replay and the lag gauges hold it (a trait with
/// constants cannot be a trait object; this one can).
#[async_trait]
pub trait AnyProjection: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn context(&self) -> &'static str;
    fn tables(&self) -> &'static [&'static str];
    fn event_types(&self) -> Option<&'static [&'static str]>;
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()>;
}

#[async_trait]
impl<P: Projection> AnyProjection for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn context(&self) -> &'static str {
        P::CONTEXT
    }

    fn tables(&self) -> &'static [&'static str] {
        P::TABLES
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        P::EVENT_TYPES
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        Projection::apply(self, conn, tables, events).await
    }
}

/// Every projection the projector runs.
pub fn all() -> Vec<Arc<dyn AnyProjection>> {
    vec![
        Arc::new(crate::items::ItemsProjection),
        Arc::new(crate::members::MembersProjection),
        Arc::new(crate::orders::OrdersProjection),
        Arc::new(crate::board::BoardProjection),
        Arc::new(crate::chat::ChatProjection),
        Arc::new(crate::email::EmailProjection),
        Arc::new(crate::errors::ErrorsProjection),
        Arc::new(crate::alerts::projection::AlertsProjection),
        Arc::new(crate::prompts::ProfilesProjection),
        Arc::new(crate::prompts::public_scripts::PublicScriptsProjection),
    ]
}

/// Advisory lock key that serialises a projection's writers (runners and the replay swap).
pub fn lock_key(projection: &str) -> String {
    format!("projection:{projection}")
}
