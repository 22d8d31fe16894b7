//! One attempt to deliver one alert, decided on the alert's own stream.
//!
//! The attempt starts by appending its claim at the version it read: of several workers
//! (in one process or many) that read the same version, exactly one appends, and the
//! others get a conflict and leave the alert alone. Only the claimant posts, and it
//! records the outcome right after its claim. A worker that dies between the two leaves
//! a claim whose lease runs out; the next attempt may then post again, the one duplicate
//! allowed.

use std::time::{Duration, Instant};

use email_job::RetryPolicy;
use event_store::{AppendError, AppendRequest, Appended, EventStore, ExpectedVersion};
use reqwest::Client;
use schemas::{
    DomainEvent, EventMetadata, NewEvent,
    errors::{self, AlertChannel, ErrorsEvent},
};
use uuid::Uuid;

use super::{
    email,
    job::{self, Alert, Delivery},
    message::{self, Message},
    slack,
};

/// What every attempt of a worker shares.
pub struct Deliverer {
    pub store: EventStore,
    pub http: Client,
    /// The worker instance, as its claims name it.
    pub worker: String,
    pub policy: RetryPolicy,
    pub lease: Duration,
    /// The link template of an issue's page (see `ALERT_ISSUE_URL`).
    pub issue_url: Option<String>,
    /// Attempts under way at once.
    pub concurrency: usize,
}

/// Makes an attempt on the alert if it is due one. Returns whether it made one; an alert
/// that was not due, or that another worker claimed first, is left alone.
pub async fn run(deliverer: &Deliverer, id: Uuid) -> anyhow::Result<bool> {
    let recorded = deliverer
        .store
        .log()
        .read_stream(&errors::alert_stream_id(id), None)
        .await?;
    let Some(first) = recorded.first() else {
        return Ok(false);
    };
    // The attempt's events carry the correlation id of the error that set the alert off.
    let metadata = EventMetadata {
        correlation_id: first.correlation_id.clone(),
        actor: Some(format!("alert-worker:{}", deliverer.worker)),
    };
    let mut state = None;
    for event in &recorded {
        state = job::evolve(state, &event.decode::<ErrorsEvent>()?, event.stream_version);
    }
    let Some(alert) = state else {
        return Ok(false);
    };
    let now = schemas::clock::now();
    let Some(started) = job::start(&alert, &deliverer.worker, deliverer.lease, now) else {
        return Ok(false);
    };
    let started = ErrorsEvent::AlertAttemptStarted(started);
    match append(&deliverer.store, &alert, &started, &metadata).await {
        Ok(_) => {}
        Err(AppendError::Conflict { .. }) => {
            metrics::counter!("alert_claims_lost_total").increment(1);
            return Ok(false);
        }
        Err(err) => return Err(err.into()),
    }
    let alert = job::evolve(Some(alert.clone()), &started, alert.version + 1)
        .expect("a claimed alert has a state");
    let began = Instant::now();
    let delivery = deliver(deliverer, &alert, &metadata).await;
    metrics::histogram!("alert_attempt_duration_seconds").record(began.elapsed());
    let outcome = job::finish(
        &alert,
        delivery,
        &deliverer.policy,
        schemas::clock::now(),
        rand::random::<f64>(),
    );
    observe(&alert, &outcome);
    record(deliverer, &alert, &outcome, &metadata).await?;
    Ok(true)
}

/// Sends the alert on its channel.
async fn deliver(deliverer: &Deliverer, alert: &Alert, metadata: &EventMetadata) -> Delivery {
    let raised = &alert.raised;
    let project = match project_name(&deliverer.store, raised.project).await {
        Ok(name) => name,
        Err(err) => {
            return Delivery::Retry {
                reason: format!("cannot read the project: {err}"),
                not_before: None,
            };
        }
    };
    let message = Message {
        alert: raised,
        project: &project,
        link: deliverer
            .issue_url
            .as_deref()
            .map(|template| message::link(template, raised)),
    };
    match &raised.channel {
        AlertChannel::Slack { webhook_url } => {
            slack::post(&deliverer.http, webhook_url, &message.slack()).await
        }
        AlertChannel::Email { to } => {
            email::request(&deliverer.store, &message, to, metadata).await
        }
    }
}

/// The project's name, from its own stream (the platform's project has none to read).
async fn project_name(store: &EventStore, project: i64) -> anyhow::Result<String> {
    let mut events = Vec::new();
    for recorded in store
        .log()
        .read_stream(&errors::project_stream_id(project), None)
        .await?
    {
        events.push(recorded.decode::<ErrorsEvent>()?);
    }
    Ok(error_report::project::evolve(project, events)
        .map_or_else(|| format!("project {project}"), |project| project.name))
}

/// Appends an attempt's outcome. The alert may be posted already, so a passing failure
/// of the store is retried while the claim still holds: a lost outcome would let the
/// next attempt post again.
async fn record(
    deliverer: &Deliverer,
    alert: &Alert,
    outcome: &ErrorsEvent,
    metadata: &EventMetadata,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + deliverer.lease / 2;
    let mut pause = Duration::from_millis(50);
    loop {
        match append(&deliverer.store, alert, outcome, metadata).await {
            Ok(_) => return Ok(()),
            // Only a takeover after the lease ran out appends here first: its outcome
            // stands.
            Err(AppendError::Conflict { .. }) => {
                tracing::warn!(alert_id = %alert.raised.alert_id, "an alert attempt outlived its claim; its outcome is dropped");
                return Ok(());
            }
            Err(err) if Instant::now() + pause < deadline => {
                tracing::warn!(alert_id = %alert.raised.alert_id, error = %err, "cannot record an alert attempt's outcome yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Appends `event` right after the version `alert` is at.
async fn append(
    store: &EventStore,
    alert: &Alert,
    event: &ErrorsEvent,
    metadata: &EventMetadata,
) -> Result<Appended, AppendError> {
    store
        .append(AppendRequest::new(
            errors::alert_stream_id(alert.raised.alert_id),
            ExpectedVersion::Exact(alert.version),
            vec![NewEvent::from_domain(event)],
            metadata.clone(),
        ))
        .await
}

/// Counts the outcome per channel. A given-up alert is logged as a warning, not an error:
/// the platform's own errors are alerted on, and an error here would alert about alerts.
fn observe(alert: &Alert, outcome: &ErrorsEvent) {
    let channel = alert.raised.channel.name();
    match outcome {
        ErrorsEvent::AlertSent(_) => {
            metrics::counter!("alerts_sent_total", "channel" => channel).increment(1);
        }
        ErrorsEvent::AlertDeferred(deferred) => {
            metrics::counter!("alerts_deferred_total", "channel" => channel).increment(1);
            tracing::warn!(alert_id = %deferred.alert_id, attempt = deferred.attempt, reason = %deferred.reason, "alert deferred");
        }
        ErrorsEvent::AlertGivenUp(given_up) => {
            metrics::counter!("alerts_given_up_total", "channel" => channel).increment(1);
            tracing::warn!(
                alert_id = %given_up.alert_id,
                attempts = given_up.attempt,
                reason = %given_up.reason,
                "alert given up"
            );
        }
        other => tracing::warn!(event = other.event_type(), "not an alert attempt's outcome"),
    }
}
