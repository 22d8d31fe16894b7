//! Delivery by email: the alert becomes an email request (`EmailRequested`), which the
//! email worker then sends like any other. The request is the alert's delivery: once it
//! is appended, the alert is sent, with the email's id as its detail; how the email fares
//! is the email's own story (`GET /api/v1/emails/{id}`).

use event_store::{AppendError, AppendRequest, EventStore, ExpectedVersion, Idempotency};
use schemas::{
    EventMetadata, NewEvent,
    email::{self, EmailEvent, EmailRequested},
};
use uuid::Uuid;

use super::{job::Delivery, message::Message};

/// Requests the email of `message` to `to`. Its id is the alert's, and its idempotency
/// key too, so an attempt repeated after a worker died requests nothing twice.
pub async fn request(
    store: &EventStore,
    message: &Message<'_>,
    to: &[String],
    metadata: &EventMetadata,
) -> Delivery {
    let email_id = message.alert.alert_id;
    let requested = EmailEvent::Requested(EmailRequested {
        email_id,
        // The platform itself asks: the nil user, as no member is the email's owner.
        requested_by: Uuid::nil(),
        to: to.to_vec(),
        subject: message.subject(),
        text: message.text(),
        html: None,
        source_event_id: Some(message.alert.source_event_id),
        requested_at: schemas::clock::now(),
    });
    let request = AppendRequest::new(
        email::stream_id(email_id),
        ExpectedVersion::NoStream,
        vec![NewEvent::from_domain(&requested)],
        metadata.clone(),
    )
    .with_idempotency(Some(Idempotency {
        key: format!("alert-email:{email_id}"),
        fingerprint: "EmailRequested".to_owned(),
    }));
    match store.append(request).await {
        // A conflict is the email an earlier attempt requested.
        Ok(_) | Err(AppendError::Conflict { .. }) => Delivery::Delivered(email_id.to_string()),
        Err(err) => Delivery::Retry {
            reason: format!("cannot request the email: {err}"),
            not_before: None,
        },
    }
}
