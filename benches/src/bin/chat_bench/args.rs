//! The command line: how many streams and rooms, where, and how hard to load.

use anyhow::ensure;
use benches::{
    cli::{self, positive_rate, positive_seconds, seconds_or_zero},
    load::Limits,
};
use clap::{Parser, ValueEnum};
use reqwest::Url;
use serde::Serialize;

/// Members a group room holds at most, its creator included.
pub(crate) const MAX_ROOM_MEMBERS: u32 = 100;
/// Most messages one run may schedule (rate × (warm-up + duration)): the ledger keeps a
/// few bytes for each.
pub(crate) const MAX_SCHEDULED: f64 = 10_000_000.0;

/// Which live stream each subscriber opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StreamKind {
    /// `GET /api/v1/chats/{id}/stream`: one stream per membership, carrying that room.
    Room,
    /// `GET /api/v1/chats/stream`: the user's all-rooms stream, carrying every room the
    /// user is in (so each message reaches more streams than its room has members).
    User,
}

impl StreamKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Room => "room",
            Self::User => "user",
        }
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Room => "/api/v1/chats/{id}/stream",
            Self::User => "/api/v1/chats/stream",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "chat-bench",
    about = "Chat live delivery: concurrent SSE streams, memory per stream, send-to-receive latency"
)]
pub(crate) struct Args {
    /// Base URL of the platform (commands and queries in one process).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: Url,

    /// Base URL of the platform's metrics listener (its METRICS_ADDR).
    #[arg(long, default_value = "http://127.0.0.1:9080")]
    pub metrics_url: Url,

    /// Process id of the platform, for its memory (VmRSS) and CPU time from /proc; without
    /// it only the benchmark's own are reported.
    #[arg(long)]
    pub server_pid: Option<u32>,

    /// Live streams opened and held (one per room membership).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub subscribers: u32,

    /// Group rooms; the subscribers spread evenly over them (members per room =
    /// subscribers ÷ rooms, at most 100).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rooms: u32,

    /// Streams each user holds: users registered = subscribers ÷ this, each a member of
    /// this many rooms (the platform's --chat-max-streams-per-user must allow it).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub streams_per_user: u32,

    /// Which stream each subscriber opens.
    #[arg(long, value_enum, default_value = "room")]
    pub stream_kind: StreamKind,

    /// Messages per second, spread round-robin over the rooms.
    #[arg(long, default_value_t = 1_000.0, value_parser = positive_rate)]
    pub rate: f64,

    /// Measured seconds of sending.
    #[arg(long, visible_alias = "seconds", default_value_t = 30.0, value_parser = positive_seconds)]
    pub duration: f64,

    /// Seconds of sending before the measurement (their messages are checked for loss but
    /// not timed).
    #[arg(long, default_value_t = 2.0, value_parser = seconds_or_zero)]
    pub warmup_seconds: f64,

    /// Seconds to wait after the setup before reading the platform's memory without
    /// streams (then 100 `GET /metrics` wake its threads, whose allocator gives freed
    /// pages back on activity): the argon2 buffers of the registrations stay resident
    /// until the platform's blocking threads idle out (10 s). Only with --server-pid.
    #[arg(long, default_value_t = 15.0, value_parser = seconds_or_zero)]
    pub settle_seconds: f64,

    /// Longest wait, after the last send answered, for the last deliveries.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub drain_seconds: f64,

    /// Most messages measured (the warm-up is bounded the same way).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_messages: u64,

    /// Most sends in flight (also the size of the sending connection pool).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4_096))]
    pub max_in_flight: u32,

    /// Registrations (and logins) in flight at once during the setup.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub register_concurrency: u32,

    /// Streams being opened at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1_024))]
    pub connect_concurrency: u32,

    #[command(flatten)]
    pub options: cli::Options,
}

impl Args {
    pub(crate) fn limits(&self) -> Limits {
        Limits::from_seconds(self.warmup_seconds, self.duration, self.max_messages)
    }

    /// Users registered: each holds at most `--streams-per-user` streams.
    pub(crate) fn users(&self) -> u32 {
        self.subscribers.div_ceil(self.streams_per_user)
    }

    /// Members of the largest room.
    pub(crate) fn members_per_room(&self) -> u32 {
        self.subscribers.div_ceil(self.rooms)
    }

    /// Messages the open loop may schedule: it starts message `n` at `n ÷ rate` seconds
    /// and stops at warm-up + duration.
    pub(crate) fn scheduled(&self) -> usize {
        (self.rate * (self.warmup_seconds + self.duration)).floor() as usize + 2
    }
}

/// Refuses layouts the platform cannot hold and, unless `--allow-remote`, non-loopback
/// hosts (the bench opens thousands of connections and loads hard).
pub(crate) fn check_args(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.rooms <= args.subscribers,
        "--rooms ({}) must be at most --subscribers ({}): every room needs a subscriber",
        args.rooms,
        args.subscribers
    );
    let members = args.members_per_room();
    ensure!(
        members <= MAX_ROOM_MEMBERS,
        "{members} members per room (--subscribers ÷ --rooms): a group room holds at most {MAX_ROOM_MEMBERS}"
    );
    ensure!(
        members <= args.users(),
        "{members} members per room, but only {} users (--subscribers ÷ --streams-per-user): \
         lower --streams-per-user or raise --rooms",
        args.users()
    );
    ensure!(
        args.rate * (args.warmup_seconds + args.duration) <= MAX_SCHEDULED,
        "--rate × (--warmup-seconds + --duration) must be at most {MAX_SCHEDULED} messages"
    );
    if !args.options.allow_remote {
        cli::ensure_loopback_url(&args.url)?;
        cli::ensure_loopback_url(&args.metrics_url)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        Args::parse_from(std::iter::once("chat-bench").chain(extra.iter().copied()))
    }

    #[test]
    fn the_default_is_a_thousand_rooms_of_ten_and_a_thousand_users() {
        let args = args(&[]);
        check_args(&args).unwrap();
        assert_eq!(
            (args.users(), args.members_per_room()),
            (1_000, 10),
            "{args:?}"
        );
        assert_eq!(args.scheduled(), 32_002);
    }

    #[test]
    fn rooms_that_cannot_be_filled_are_refused() {
        assert!(check_args(&args(&["--subscribers", "200", "--rooms", "1"])).is_err());
        assert!(check_args(&args(&["--subscribers", "10", "--rooms", "20"])).is_err());
        // 20 members per room but only 10 users.
        assert!(
            check_args(&args(&[
                "--subscribers",
                "200",
                "--rooms",
                "10",
                "--streams-per-user",
                "20"
            ]))
            .is_err()
        );
        assert!(check_args(&args(&["--url", "http://192.0.2.1:8080"])).is_err());
        check_args(&args(&[
            "--subscribers",
            "200",
            "--rooms",
            "20",
            "--rate",
            "100",
        ]))
        .unwrap();
    }
}
