//! email-bench: how fast the platform's email worker delivers, against what a plain
//! pooled SMTP client gets through to the same local sink (`scripts/smtp/server.py`).
//! One run has two phases:
//!
//! 1. `ceiling`: a lettre `AsyncSmtpTransport` with a pool of `--smtp-concurrency`
//!    connections (the platform's EMAIL_CONCURRENCY) and as many sending tasks sends
//!    `--emails` messages of the worker's shape straight to the sink.
//! 2. `platform`: one logged-in user's `--concurrency` clients request `--emails` emails
//!    through `POST /api/v1/emails` as fast as it answers (a closed loop, each `202` timed);
//!    the platform's worker delivers them to the sink.
//!
//! Each phase first sends `--warmup-emails` and waits for them to arrive. In both, every
//! message is matched with the sink's `received.jsonl` by its Message-ID `<id@domain>`,
//! which stamps each arrival with the sink's clock (`received_at`): messages delivered per
//! second (from the first handed over to the last arrival, and from the first arrival to
//! the last), and each message's latency from hand-over (its request sent, or its SMTP
//! send begun) to arrival. Every message must arrive exactly once; a missing one, a copy
//! or a failed request fails the run (non-zero exit status). The goal (the worker at no
//! less than 0.8 of the ceiling's rate, with `POST` p99 under 20 ms) is printed with
//! whether this run met it; it does not change the exit status.
//!
//! Run it with a freshly built platform, sink and database (builds, cleans up after):
//!
//! ```text
//! benches/run-email-bench [--emails 500 --concurrency 16 ...]
//! ```
//!
//! or against a platform and a sink that are already running:
//!
//! ```text
//! cargo build --release -p benches
//! target/release/email-bench --url http://127.0.0.1:8080 --smtp-url smtp://127.0.0.1:2525 \
//!     --spool /tmp/spool --mail-from 'Platform <no-reply@platform.localhost>'
//! ```
//!
//! Only loopback addresses are contacted unless `--allow-remote` is given.
//!
//! Layout: [`args`] the command line; [`ceiling`] and [`platform`] the phases; [`round`]
//! one round of sending and waiting; [`sink`] the sink's log; [`ledger`] messages matched
//! with arrivals; [`cpu`] CPU use from /proc; [`report`] the results.

mod args;
mod ceiling;
mod cpu;
mod ledger;
mod platform;
mod report;
mod round;
mod sink;

use std::process::ExitCode;

use benches::cli;
use clap::Parser;

use crate::{
    args::{Args, Phase},
    ceiling::ceiling_phase,
    cpu::Watched,
    platform::platform_phase,
    report::{Summary, print_table},
    round::Watch,
};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    args.phases.sort_unstable();
    args.phases.dedup();
    if let Err(error) = args.check_local() {
        eprintln!("email-bench: {error:#}");
        return ExitCode::from(2);
    }
    let summary = run(&args).await;
    print_table(&args, &summary);
    cli::finish(
        "email-bench",
        args.options.json,
        &summary,
        &summary.failures,
    )
}

async fn run(args: &Args) -> Summary {
    let mut summary = Summary::new(args);
    let watch = Watch {
        spool: args.spool.clone(),
        domain: args.message_domain().to_owned(),
        timeout: args.timeout(),
        settle: args.settle(),
        processes: Watched {
            platform: args.platform_pid,
            sink: args.sink_pid,
        },
    };
    if args.runs(Phase::Ceiling) {
        match ceiling_phase(args, &watch).await {
            Ok(result) => {
                summary.failures.extend(result.failures("ceiling"));
                summary.ceiling = Some(result);
            }
            Err(error) => summary.failures.push(format!("ceiling: {error:#}")),
        }
    }
    if args.runs(Phase::Platform) {
        match platform_phase(args, &watch).await {
            Ok(result) => {
                summary.failures.extend(result.failures("platform"));
                summary.platform = Some(result);
            }
            Err(error) => summary.failures.push(format!("platform: {error:#}")),
        }
    }
    summary.compare();
    summary.passed = summary.failures.is_empty();
    summary
}
