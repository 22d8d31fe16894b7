//! How the email worker sends: the SMTP server (or a directory of `.eml` files), the
//! sender address, and the retry rules.

use std::{path::PathBuf, time::Duration};

use email_job::RetryPolicy;
use secrecy::SecretString;

/// Settings of the email worker.
#[derive(Debug, Clone, clap::Args)]
pub struct MailSettings {
    /// Where to send mail: `smtp://host:port` (plain; `?tls=required` for STARTTLS,
    /// `?tls=opportunistic` to use it when offered), `smtps://host:port` (TLS from the
    /// start), with `user:password@` for credentials. Unset: mail is written to MAIL_DIR.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,

    /// The From address of every email (`Name <address>` or `address`); its domain also
    /// names the Message-IDs.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Platform <no-reply@platform.localhost>"
    )]
    pub mail_from: String,

    /// Where mail is written as `.eml` files when no SMTP_URL is set.
    #[arg(long, env = "MAIL_DIR", default_value = "var/mail")]
    pub mail_dir: PathBuf,

    /// Attempts an email gets (from its request, or from an operator's retry) before it
    /// is dead.
    #[arg(long, env = "EMAIL_MAX_ATTEMPTS", default_value_t = 8)]
    pub email_max_attempts: u32,

    /// Milliseconds to wait after the first failed attempt; each further failure doubles
    /// it (with jitter).
    #[arg(long, env = "EMAIL_RETRY_BASE_MS", default_value_t = 15_000)]
    pub email_retry_base_ms: u64,

    /// The longest wait between two attempts, in milliseconds.
    #[arg(long, env = "EMAIL_RETRY_MAX_MS", default_value_t = 3_600_000)]
    pub email_retry_max_ms: u64,

    /// Milliseconds an attempt may take, connection included. An attempt's claim lasts
    /// twice this: a worker that dies mid-attempt delays the email by that much.
    #[arg(long, env = "SMTP_TIMEOUT_MS", default_value_t = 30_000)]
    pub smtp_timeout_ms: u64,

    /// SMTP exchanges at once in this process (and pooled connections); up to twice as
    /// many attempts are under way, their database work overlapping the exchanges.
    #[arg(long, env = "EMAIL_CONCURRENCY", default_value_t = 8)]
    pub email_concurrency: u32,

    /// Send the platform's own mail (welcome, order placed, order shipped).
    #[arg(long, env = "PLATFORM_MAIL_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub platform_mail_enabled: bool,

    /// Run the email worker in this process.
    #[arg(long, env = "EMAIL_WORKER_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub email_worker_enabled: bool,
}

impl MailSettings {
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.email_max_attempts.max(1),
            base_delay: Duration::from_millis(self.email_retry_base_ms),
            max_delay: Duration::from_millis(self.email_retry_max_ms.max(self.email_retry_base_ms)),
        }
    }

    pub fn smtp_timeout(&self) -> Duration {
        Duration::from_millis(self.smtp_timeout_ms.max(1))
    }

    /// How long an attempt's claim lasts: well past the end of any live attempt.
    pub fn lease(&self) -> Duration {
        self.smtp_timeout() * 2
    }

    pub fn concurrency(&self) -> usize {
        self.email_concurrency.clamp(1, 256) as usize
    }
}
