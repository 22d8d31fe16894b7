//! How alerts are raised and delivered: whether this process does it, the retry rules,
//! the webhook timeout and the link to an issue's page.

use std::time::Duration;

use email_job::RetryPolicy;

/// Settings of the alert rules reactor and the alert delivery worker.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertSettings {
    /// Raise alerts in this process: follow the errors and apply each project's rules.
    #[arg(long, env = "ALERTS_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub alerts_enabled: bool,

    /// Run the alert delivery worker (Slack webhooks, email requests) in this process.
    #[arg(long, env = "ALERT_WORKER_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub alert_worker_enabled: bool,

    /// Attempts an alert gets before it is given up.
    #[arg(long, env = "ALERT_MAX_ATTEMPTS", default_value_t = 8)]
    pub alert_max_attempts: u32,

    /// Milliseconds to wait after the first failed attempt; each further failure doubles
    /// it (with jitter). A `429`'s `Retry-After` may ask for longer.
    #[arg(long, env = "ALERT_RETRY_BASE_MS", default_value_t = 10_000)]
    pub alert_retry_base_ms: u64,

    /// The longest backoff between two attempts, in milliseconds.
    #[arg(long, env = "ALERT_RETRY_MAX_MS", default_value_t = 3_600_000)]
    pub alert_retry_max_ms: u64,

    /// Milliseconds a webhook may take to answer, connection included. An attempt's
    /// claim lasts twice this: a worker that dies mid-attempt delays the alert by that.
    #[arg(long, env = "ALERT_HTTP_TIMEOUT_MS", default_value_t = 10_000)]
    pub alert_http_timeout_ms: u64,

    /// Alerts delivered at once in this process.
    #[arg(long, env = "ALERT_CONCURRENCY", default_value_t = 4)]
    pub alert_concurrency: u32,

    /// The address of an issue's page, linked from every alert: `{issue}` and
    /// `{project}` are replaced with the issue's id and project
    /// (`https://ops.example.com/errors/issues/{issue}`). Unset: alerts carry no link.
    #[arg(long, env = "ALERT_ISSUE_URL")]
    pub alert_issue_url: Option<String>,
}

impl AlertSettings {
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.alert_max_attempts.max(1),
            base_delay: Duration::from_millis(self.alert_retry_base_ms),
            max_delay: Duration::from_millis(self.alert_retry_max_ms.max(self.alert_retry_base_ms)),
        }
    }

    pub fn http_timeout(&self) -> Duration {
        Duration::from_millis(self.alert_http_timeout_ms.max(1))
    }

    /// How long an attempt's claim lasts: well past the end of any live attempt.
    pub fn lease(&self) -> Duration {
        self.http_timeout() * 2
    }

    pub fn concurrency(&self) -> usize {
        self.alert_concurrency.clamp(1, 64) as usize
    }
}
