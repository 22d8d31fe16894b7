//! The reactors that send mail. Unlike projections they act on the world and record what
//! they did as events, appended through the event store.
//!
//! - [`settings`]: the SMTP server, the sender address, the retry rules.
//! - [`transport`]: SMTP over one pooled transport, or `.eml` files; the message itself.
//! - [`worker`]: the email worker: the queue loop over the emails that are due.
//! - [`attempt`]: one attempt, claimed on the email's stream so only one worker sends.
//! - [`notices`]: the mail the platform sends on its own, requested in reaction to other
//!   contexts' events.

pub mod attempt;
pub mod notices;
pub mod settings;
pub mod transport;
pub mod worker;

use std::sync::Arc;

use anyhow::Context;
use event_store::EventStore;
use lettre::message::Mailbox;
pub use settings::MailSettings;
use tokio::{sync::Semaphore, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use self::{attempt::Sender, transport::Mailer};

/// Starts the email worker (unless disabled); it stops on `shutdown`.
pub fn spawn_worker(
    store: &EventStore,
    settings: &MailSettings,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    if !settings.email_worker_enabled {
        return Ok(None);
    }
    let from: Mailbox = settings.mail_from.parse().with_context(|| {
        format!(
            "MAIL_FROM is not an email address: {:?}",
            settings.mail_from
        )
    })?;
    let mailer = Mailer::new(
        settings.smtp_url.as_ref(),
        &settings.mail_dir,
        u32::try_from(settings.concurrency()).unwrap_or(u32::MAX),
        settings.smtp_timeout(),
    )?;
    let sender = Sender {
        store: store.clone(),
        mailer,
        from,
        worker: worker_id(),
        policy: settings.retry_policy(),
        lease: settings.lease(),
        timeout: settings.smtp_timeout(),
        exchanges: Semaphore::new(settings.concurrency()),
        attempts: 2 * settings.concurrency(),
    };
    Ok(Some(tokio::spawn(worker::run(
        Arc::new(sender),
        shutdown.clone(),
    ))))
}

/// This process's name in the claims it appends: the host, the process and a random
/// part, so two workers on one host (or a restarted one) are told apart.
pub(crate) fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}
