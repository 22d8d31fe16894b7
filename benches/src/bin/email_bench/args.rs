//! The command line.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use benches::cli::{self, positive_seconds, seconds_or_zero};
use clap::{Parser, ValueEnum};
use lettre::message::Mailbox;
use reqwest::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Phase {
    /// A plain pooled lettre client sending straight to the sink: the ceiling.
    Ceiling,
    /// Emails requested through the platform's API and delivered by its worker.
    Platform,
}

#[derive(Debug, Parser)]
#[command(
    name = "email-bench",
    about = "Email delivery: requests through the platform's API and its worker's delivery rate, against a plain pooled SMTP client to the same sink"
)]
pub(crate) struct Args {
    /// Base URL of the platform (the command and query APIs).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: Url,

    /// The SMTP sink the platform sends to (its SMTP_URL); the ceiling phase sends there
    /// too.
    #[arg(long, default_value = "smtp://127.0.0.1:2525")]
    pub smtp_url: Url,

    /// The sink's spool folder: what it accepted is read from its received.jsonl.
    #[arg(long)]
    pub spool: PathBuf,

    /// The platform's MAIL_FROM: the ceiling's messages come from it too, and its domain
    /// names the Message-IDs.
    #[arg(long, default_value = "Platform <no-reply@platform.localhost>")]
    pub mail_from: Mailbox,

    /// Emails measured in each phase.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub emails: u64,

    /// Emails sent and seen delivered before each phase measures (results discarded).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub warmup_emails: u64,

    /// Concurrent clients requesting emails from the API, each starting its next request
    /// when the last one is answered.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// The platform's EMAIL_CONCURRENCY: the ceiling's pool size and sending tasks.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub smtp_concurrency: u32,

    /// Longest a round may spend sending, and again waiting for its messages to arrive.
    #[arg(long, default_value_t = 120.0, value_parser = positive_seconds)]
    pub timeout_seconds: f64,

    /// How long the sink is watched after the last message arrived, for copies.
    #[arg(long, default_value_t = 1.0, value_parser = seconds_or_zero)]
    pub settle_seconds: f64,

    /// The platform's process id, for its CPU time from /proc.
    #[arg(long)]
    pub platform_pid: Option<u32>,

    /// The sink's process id, for its CPU time from /proc.
    #[arg(long)]
    pub sink_pid: Option<u32>,

    /// Phases to run, comma-separated; they always run in the order ceiling, platform.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ceiling,platform"
    )]
    pub phases: Vec<Phase>,

    #[command(flatten)]
    pub options: cli::Options,
}

impl Args {
    pub(crate) fn runs(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_seconds)
    }

    pub(crate) fn settle(&self) -> Duration {
        Duration::from_secs_f64(self.settle_seconds)
    }

    /// The domain of the Message-IDs: MAIL_FROM's.
    pub(crate) fn message_domain(&self) -> &str {
        self.mail_from.email.domain()
    }

    /// The sink's host and port, from `--smtp-url`.
    pub(crate) fn smtp_server(&self) -> anyhow::Result<(String, u16)> {
        anyhow::ensure!(
            self.smtp_url.scheme() == "smtp",
            "--smtp-url must be smtp://host:port (plain SMTP), not {}",
            self.smtp_url
        );
        let host = self
            .smtp_url
            .host_str()
            .context("--smtp-url has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']');
        Ok((host.to_owned(), self.smtp_url.port().unwrap_or(25)))
    }

    /// Refuses non-loopback hosts unless `--allow-remote`: the bench sends a lot of mail.
    pub(crate) fn check_local(&self) -> anyhow::Result<()> {
        if self.options.allow_remote {
            return Ok(());
        }
        if self.runs(Phase::Platform) {
            cli::ensure_loopback_url(&self.url)?;
        }
        cli::ensure_loopback_url(&self.smtp_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut line = vec!["email-bench", "--spool", "/tmp/spool"];
        line.extend(extra);
        Args::try_parse_from(line).unwrap()
    }

    #[test]
    fn the_sink_and_the_message_domain_come_from_the_settings() {
        let args = args(&[
            "--smtp-url",
            "smtp://127.0.0.1:2600",
            "--mail-from",
            "Bench <bench@mail.test>",
        ]);
        assert_eq!(args.smtp_server().unwrap(), ("127.0.0.1".to_owned(), 2600));
        assert_eq!(args.message_domain(), "mail.test");
        assert!(args.check_local().is_ok());
    }

    #[test]
    fn a_remote_sink_is_refused_unless_allowed() {
        assert!(
            args(&["--smtp-url", "smtp://mail.example.com:25"])
                .check_local()
                .is_err()
        );
        let allowed = args(&["--smtp-url", "smtp://mail.example.com", "--allow-remote"]);
        assert!(allowed.check_local().is_ok());
        assert_eq!(allowed.smtp_server().unwrap().1, 25);
        assert!(
            args(&["--smtp-url", "smtps://127.0.0.1:465"])
                .smtp_server()
                .is_err()
        );
    }
}
