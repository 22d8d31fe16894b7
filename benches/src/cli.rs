//! What the benchmarks' command lines share: argument parsers, the loopback guard and the
//! end of a run (the JSON line and the exit status).

use std::{net::IpAddr, process::ExitCode, str::FromStr};

use anyhow::{Context, ensure};
use reqwest::Url;
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

/// The options every benchmark has.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Also print one machine-readable JSON summary line.
    #[arg(long)]
    pub json: bool,

    /// Allow URLs whose host is not a loopback address.
    #[arg(long)]
    pub allow_remote: bool,
}

/// A number of seconds from 0 to a day; a trailing `s` is allowed.
pub fn seconds_or_zero(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('s').parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && (0.0..=86_400.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 86400"
        )),
    }
}

/// A number of seconds above 0, at most a day.
pub fn positive_seconds(text: &str) -> Result<f64, String> {
    seconds_or_zero(text).and_then(|s| {
        (s > 0.0)
            .then_some(s)
            .ok_or_else(|| "must be more than 0".into())
    })
}

/// A rate per second above 0, at most a million.
pub fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate between 0 and 1000000 per second"
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a URL whose host is not a loopback address (the benchmarks write data and load
/// hard); `--allow-remote` is what lifts it.
pub fn ensure_loopback_url(url: &Url) -> anyhow::Result<()> {
    ensure!(
        is_loopback(url.host_str().unwrap_or_default()),
        "{url} is not on a loopback address; pass --allow-remote to load it anyway"
    );
    Ok(())
}

/// [`ensure_loopback_url`] for a PostgreSQL URL.
pub fn ensure_loopback_database(url: &str) -> anyhow::Result<()> {
    let options =
        PgConnectOptions::from_str(url).context("--database-url is not a PostgreSQL URL")?;
    let host = options.get_host();
    // A host starting with '/' is a Unix socket directory: local by construction.
    ensure!(
        host.starts_with('/') || is_loopback(host),
        "database host {host} is not a loopback address; pass --allow-remote to use it anyway"
    );
    Ok(())
}

/// Ends a run: the JSON summary line when asked for, then the failures on stderr. The
/// exit status is non-zero when anything failed.
pub fn finish(
    benchmark: &str,
    json: bool,
    summary: &impl Serialize,
    failures: &[String],
) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::to_string(summary).expect("the summary serializes")
        );
    }
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    for failure in failures {
        eprintln!("{benchmark}: FAILED: {failure}");
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost/",
            "http://[::1]:80",
        ] {
            assert!(ensure_loopback_url(&url.parse().unwrap()).is_ok(), "{url}");
        }
        for url in ["http://10.0.0.1:8080", "http://example.com/"] {
            assert!(ensure_loopback_url(&url.parse().unwrap()).is_err(), "{url}");
        }
        assert!(ensure_loopback_database("postgres://postgres@127.0.0.1:5432/x").is_ok());
        assert!(ensure_loopback_database("postgres://postgres@db.example:5432/x").is_err());
    }

    #[test]
    fn durations_and_rates_are_bounded() {
        assert_eq!(seconds_or_zero("0"), Ok(0.0));
        assert_eq!(positive_seconds("2.5s"), Ok(2.5));
        assert!(positive_seconds("0").is_err());
        assert!(seconds_or_zero("86401").is_err());
        assert!(positive_rate("0").is_err());
        assert!(positive_rate("NaN").is_err());
        assert_eq!(positive_rate("200"), Ok(200.0));
    }
}
