//! One attempt to deliver one email, decided on the email's own stream.
//!
//! The attempt starts by appending its claim at the version it read. Of several workers
//! that read the same version, exactly one appends; the others get a conflict and leave
//! the email alone. Only the claimant talks to the SMTP server, and it records the
//! outcome at the version after its claim. A worker that dies between the two leaves a
//! claim whose lease runs out, and the next attempt (with the same Message-ID) may send
//! the message again: the one duplicate the worker allows.

use std::time::{Duration, Instant};

use email_job::{
    Delivery, Email, RetryPolicy,
    attempt::{self, Claim},
    evolve,
};
use event_store::{AppendError, AppendRequest, Appended, EventStore, ExpectedVersion};
use lettre::message::Mailbox;
use schemas::{
    DomainEvent, EventMetadata, NewEvent,
    email::{self, EmailEvent},
};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::transport::{self, Mailer};

/// What every attempt of a worker shares.
pub struct Sender {
    pub store: EventStore,
    pub mailer: Mailer,
    pub from: Mailbox,
    /// The worker instance, as its claims name it.
    pub worker: String,
    pub policy: RetryPolicy,
    pub lease: Duration,
    pub timeout: Duration,
    /// One permit per SMTP exchange allowed at once (and pooled connection).
    pub exchanges: Semaphore,
    /// Attempts under way at once: twice the exchanges, so that one attempt's reads and
    /// appends overlap another's exchange and no connection waits on the database.
    pub attempts: usize,
}

/// Makes an attempt on the email if it is due one. Returns whether it made one; an email
/// that was not due, or that another worker claimed first, is left alone.
pub async fn run(sender: &Sender, id: Uuid) -> anyhow::Result<bool> {
    let stream = email::stream_id(id);
    let recorded = sender.store.log().read_stream(&stream, None).await?;
    let Some(first) = recorded.first() else {
        return Ok(false);
    };
    // The attempt's events carry the request's correlation id, so one id follows the
    // email from the request to its delivery.
    let metadata = EventMetadata {
        correlation_id: first.correlation_id.clone(),
        actor: Some(format!("email-worker:{}", sender.worker)),
    };
    let mut state = None;
    for event in &recorded {
        state = evolve(state, &event.decode::<EmailEvent>()?, event.stream_version);
    }
    let Some(email) = state else {
        return Ok(false);
    };
    let claim = Claim {
        worker: &sender.worker,
        lease: sender.lease,
        message_domain: email_job::address::domain_of(&sender.from),
    };
    let Some(started) = attempt::start(&email, &claim, schemas::clock::now()) else {
        return Ok(false);
    };
    let started = EmailEvent::AttemptStarted(started);
    match append(&sender.store, &email, &started, &metadata).await {
        Ok(_) => {}
        Err(AppendError::Conflict { .. }) => {
            metrics::counter!("email_claims_lost_total").increment(1);
            return Ok(false);
        }
        Err(err) => return Err(err.into()),
    }
    let email = evolve(Some(email.clone()), &started, email.version + 1)
        .expect("a claimed email has a state");
    let delivery = deliver(sender, &email).await;
    let outcome = attempt::finish(
        &email,
        delivery,
        &sender.policy,
        schemas::clock::now(),
        rand::random::<f64>(),
    );
    observe(&outcome);
    record(sender, &email, &outcome, &metadata).await?;
    Ok(true)
}

/// Appends an attempt's outcome. The message may be with the server already, so a
/// passing failure of the store is retried while the claim still holds (the send took at
/// most half of it): a lost outcome would let the next attempt send the message again.
async fn record(
    sender: &Sender,
    email: &Email,
    outcome: &EmailEvent,
    metadata: &EventMetadata,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + sender.lease / 2;
    let mut pause = Duration::from_millis(50);
    loop {
        match append(&sender.store, email, outcome, metadata).await {
            Ok(_) => return Ok(()),
            // Only a takeover after the lease ran out appends here first: this attempt
            // outlived its claim, and the later attempt's outcome stands.
            Err(AppendError::Conflict { .. }) => {
                tracing::warn!(email_id = %email.id, "an attempt outlived its claim; its outcome is dropped");
                return Ok(());
            }
            Err(err) if Instant::now() + pause < deadline => {
                tracing::warn!(email_id = %email.id, error = %err, "cannot record an attempt's outcome yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Builds the message and sends it, within the attempt's time.
async fn deliver(sender: &Sender, email: &Email) -> Delivery {
    let message_id = email
        .message_id
        .as_deref()
        .expect("a claim fixes the Message-ID");
    let message = match transport::message(email, &sender.from, message_id) {
        Ok(message) => message,
        Err(err) => return Delivery::Permanent(format!("cannot build the message: {err}")),
    };
    let started = Instant::now();
    // The wait for a free exchange counts against the attempt's time, so an attempt never
    // outlives half its claim.
    let exchange = async {
        let _exchange = sender
            .exchanges
            .acquire()
            .await
            .expect("the exchanges are never closed");
        sender.mailer.send(message).await
    };
    let delivery = tokio::time::timeout(sender.timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Delivery::Transient(format!(
                "no answer within {} ms",
                sender.timeout.as_millis()
            ))
        });
    metrics::histogram!("email_attempt_duration_seconds").record(started.elapsed());
    delivery
}

/// Appends `event` right after the version `email` is at.
async fn append(
    store: &EventStore,
    email: &Email,
    event: &EmailEvent,
    metadata: &EventMetadata,
) -> Result<Appended, AppendError> {
    let request = AppendRequest::new(
        email::stream_id(email.id),
        ExpectedVersion::Exact(email.version),
        vec![NewEvent::from_domain(event)],
        metadata.clone(),
    );
    store.append(request).await
}

/// Counts the outcome; a dead email is an error someone should look at.
fn observe(outcome: &EmailEvent) {
    match outcome {
        EmailEvent::Sent(_) => metrics::counter!("emails_sent_total").increment(1),
        EmailEvent::Deferred(_) => {
            metrics::counter!("emails_failed_total", "kind" => "transient").increment(1);
        }
        EmailEvent::Failed(_) => {
            metrics::counter!("emails_failed_total", "kind" => "permanent").increment(1);
        }
        EmailEvent::Dead(dead) => {
            metrics::counter!("emails_failed_total", "kind" => "transient").increment(1);
            metrics::counter!("emails_dead_total").increment(1);
            tracing::error!(
                email_id = %dead.email_id,
                attempts = dead.attempt,
                reply = %dead.reply,
                "email is dead: every attempt failed; an admin may retry it"
            );
        }
        other => tracing::warn!(event = other.event_type(), "not an attempt's outcome"),
    }
}
