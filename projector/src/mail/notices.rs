//! The mail the platform sends on its own: a welcome on registration, a confirmation when
//! an order is placed and a notice when it ships. Each is a process manager that follows
//! one context like a projection (same runner, same checkpoint) and, for the events it
//! cares about, requests an email, which the worker then delivers like any other.
//!
//! A request carries the source event's id as its idempotency key, so a redelivery, a
//! resumed batch or a rewound checkpoint never requests the same mail twice.

use std::{marker::PhantomData, sync::Arc};

use async_trait::async_trait;
use event_store::{AppendRequest, EventStore, ExpectedVersion, Idempotency};
use schemas::{
    DomainEvent, EventMetadata, NewEvent, RecordedEvent,
    email::{self, EmailEvent, EmailRequested},
    identity::{self, IdentityEvent},
    orders::{OrderEvent, OrderStatus},
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{AnyProjection, Projection, Tables};

/// The process managers, each run like a projection.
pub fn all(store: &EventStore) -> Vec<Arc<dyn AnyProjection>> {
    vec![
        Arc::new(Notices::<Welcome>::new(store)),
        Arc::new(Notices::<OrderNotices>::new(store)),
    ]
}

/// Which events of one context call for mail, and what mail.
#[async_trait]
pub trait Notice: Send + Sync + 'static {
    /// The reactor's name, in its checkpoint.
    const NAME: &'static str;
    type Event: DomainEvent + Send;

    /// The user the mail belongs to and the mail `event` calls for, if any.
    async fn mail(store: &EventStore, event: Self::Event) -> anyhow::Result<Option<(Uuid, Mail)>>;
}

/// A reactor requesting the mail `N` asks for, once per source event.
pub struct Notices<N> {
    store: EventStore,
    notice: PhantomData<N>,
}

impl<N> Notices<N> {
    fn new(store: &EventStore) -> Self {
        Self {
            store: store.clone(),
            notice: PhantomData,
        }
    }
}

#[async_trait]
impl<N: Notice> Projection for Notices<N> {
    const NAME: &str = N::NAME;
    const CONTEXT: &str = N::Event::CONTEXT;
    const TABLES: &[&str] = &[];

    async fn apply(
        &self,
        _conn: &mut PgConnection,
        _tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        for recorded in events {
            if let Some((user, mail)) = N::mail(&self.store, recorded.decode()?).await? {
                request(&self.store, recorded, user, mail).await?;
            }
        }
        Ok(())
    }
}

/// A welcome email to every new member.
pub struct Welcome;

#[async_trait]
impl Notice for Welcome {
    const NAME: &str = "mail.welcome";
    type Event = IdentityEvent;

    async fn mail(
        _store: &EventStore,
        event: IdentityEvent,
    ) -> anyhow::Result<Option<(Uuid, Mail)>> {
        let IdentityEvent::UserRegistered(user) = event else {
            return Ok(None);
        };
        let mail = Mail {
            text: format!(
                "Hello {},\n\nyour account {} is ready. Sign in any time.\n",
                user.name, user.email
            ),
            subject: format!("Welcome, {}", user.name),
            to: user.email,
        };
        Ok(Some((user.user_id, mail)))
    }
}

/// A confirmation when an order is placed, and a notice when it ships, to its member.
pub struct OrderNotices;

#[async_trait]
impl Notice for OrderNotices {
    const NAME: &str = "mail.orders";
    type Event = OrderEvent;

    async fn mail(store: &EventStore, event: OrderEvent) -> anyhow::Result<Option<(Uuid, Mail)>> {
        let (member, subject, text) = match event {
            OrderEvent::Placed(order) => (
                order.member_id,
                format!("Order #{} placed", order.number),
                format!(
                    "We received your order #{}: {} x {} at {} each, {} in all.\n",
                    order.number,
                    order.quantity,
                    order.product_name,
                    order.unit_price,
                    i64::from(order.quantity) * order.unit_price
                ),
            ),
            OrderEvent::StatusChanged(moved) if moved.to == OrderStatus::Shipped => (
                moved.member_id,
                format!("Order #{} shipped", moved.number),
                format!("Your order #{} is on its way.\n", moved.number),
            ),
            _ => return Ok(None),
        };
        let Some(to) = address_of(store, member).await? else {
            tracing::warn!(member = %member, "no address for an order's member; no mail sent");
            return Ok(None);
        };
        Ok(Some((member, Mail { to, subject, text })))
    }
}

/// An email the platform writes.
pub struct Mail {
    to: String,
    subject: String,
    text: String,
}

/// Requests `mail` for `user` in answer to `source`, once however often it is asked.
async fn request(
    store: &EventStore,
    source: &RecordedEvent,
    user: Uuid,
    mail: Mail,
) -> anyhow::Result<()> {
    let email_id = Uuid::now_v7();
    let requested = EmailEvent::Requested(EmailRequested {
        email_id,
        requested_by: user,
        to: vec![mail.to],
        subject: mail.subject,
        text: mail.text,
        html: None,
        source_event_id: Some(source.event_id),
        requested_at: schemas::clock::now(),
    });
    let metadata = EventMetadata {
        correlation_id: source.correlation_id.clone(),
        actor: Some("platform-mail".to_owned()),
    };
    let request = AppendRequest::new(
        email::stream_id(email_id),
        ExpectedVersion::NoStream,
        vec![NewEvent::from_domain(&requested)],
        metadata,
    )
    .with_idempotency(Some(Idempotency {
        key: format!("platform-mail:{}", source.event_id),
        fingerprint: source.event_type.clone(),
    }));
    store.append(request).await?;
    Ok(())
}

/// The address of a member's account, read from the account's own stream (a read model
/// could lag behind the event that asks for the mail); None once the account is deleted.
async fn address_of(store: &EventStore, user: Uuid) -> anyhow::Result<Option<String>> {
    let mut address = None;
    for recorded in store
        .log()
        .read_stream(&identity::user_stream(user), None)
        .await?
    {
        match recorded.decode()? {
            IdentityEvent::UserRegistered(registered) => address = Some(registered.email),
            IdentityEvent::UserDeleted(_) => address = None,
            _ => {}
        }
    }
    Ok(address)
}
