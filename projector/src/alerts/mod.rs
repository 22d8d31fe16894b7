//! Alerts on reported errors: raised by each project's rules, delivered to a Slack
//! incoming webhook or by email, every attempt recorded on the alert's stream.
//!
//! - [`settings`]: whether this process raises and delivers alerts, the retry rules, the
//!   webhook timeout, the link to an issue's page.
//! - [`decision`]: the rules as pure functions (new issue, regression, N errors in M
//!   minutes; never a muted issue, at most one alert per issue per interval).
//! - [`rules`]: the reactor that follows the errors context and raises the alerts.
//! - [`memory`]: what the reactor remembers between events, read and written per batch.
//! - [`projection`]: the alerts read model, which is also the delivery worker's queue.
//! - [`target`]: where an alert went, as listings may show it (webhook URLs masked).
//! - [`job`]: the claim that starts an attempt and the event that ends it.
//! - [`message`]: what an alert says on each channel.
//! - [`slack`], [`retry_after`]: posting to a webhook and reading its answer.
//! - [`email`]: an alert as an email request.
//! - [`attempt`]: one attempt, claimed on the alert's stream so only one worker delivers.
//! - [`worker`]: the delivery worker: the queue loop over the alerts that are due.

pub mod attempt;
pub mod decision;
pub mod email;
pub mod job;
pub mod memory;
pub mod message;
pub mod projection;
pub mod retry_after;
pub mod rules;
pub mod settings;
pub mod slack;
pub mod target;
pub mod worker;

use std::sync::Arc;

use event_store::EventStore;
pub use settings::AlertSettings;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::attempt::Deliverer;

/// Starts the alert delivery worker (unless disabled); it stops on `shutdown`.
pub fn spawn_worker(
    store: &EventStore,
    settings: &AlertSettings,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    if !settings.alert_worker_enabled {
        return Ok(None);
    }
    let deliverer = Deliverer {
        store: store.clone(),
        http: slack::client(settings.http_timeout())?,
        worker: crate::mail::worker_id(),
        policy: settings.retry_policy(),
        lease: settings.lease(),
        issue_url: settings.alert_issue_url.clone(),
        concurrency: settings.concurrency(),
    };
    Ok(Some(tokio::spawn(worker::run(
        Arc::new(deliverer),
        shutdown.clone(),
    ))))
}
