//! Storms summarised: after `threshold` identical records (same level, target and
//! normalised message) within `window`, further ones are only counted, and when the window
//! ends one record stands for them all with their `count`. A failing dependency that logs
//! on every request then costs a few events per window, not one per request.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use error_report::grouping::normalise;
use schemas::errors::Level;

use super::CapturedRecord;

/// How many distinct records are watched at once; beyond that, new ones pass unwatched
/// rather than growing the map without bound.
const MAX_WATCHED: usize = 10_000;

/// When identical records count as a storm.
#[derive(Debug, Clone, Copy)]
pub struct StormRule {
    /// Records of one kind that pass within a window before the rest are folded.
    pub threshold: u32,
    pub window: Duration,
}

/// The windows of the records seen lately, by kind.
pub(crate) struct Storms {
    rule: StormRule,
    windows: HashMap<Kind, Window>,
}

type Kind = (Level, String, String);

struct Window {
    started: Instant,
    seen: u32,
    /// The first folded record, counting every folded one.
    folded: Option<CapturedRecord>,
}

impl Storms {
    pub(crate) fn new(rule: StormRule) -> Self {
        Self {
            rule,
            windows: HashMap::new(),
        }
    }

    /// Passes `record` to `out`, or folds it into its window's summary.
    pub(crate) fn observe(
        &mut self,
        record: CapturedRecord,
        now: Instant,
        out: &mut Vec<CapturedRecord>,
    ) {
        let kind = (
            record.level,
            record.target.clone(),
            normalise(&record.text()),
        );
        let watched = self.windows.len();
        match self.windows.get_mut(&kind) {
            Some(window) if now < window.started + self.rule.window => {
                window.seen = window.seen.saturating_add(1);
                if window.seen <= self.rule.threshold {
                    out.push(record);
                } else if let Some(summary) = &mut window.folded {
                    summary.count += record.count;
                } else {
                    window.folded = Some(record);
                }
            }
            Some(window) => {
                out.extend(window.folded.take());
                *window = Window::open(now);
                out.push(record);
            }
            None if watched >= MAX_WATCHED => out.push(record),
            None => {
                self.windows.insert(kind, Window::open(now));
                out.push(record);
            }
        }
    }

    /// Ends the windows that are over, passing their summaries to `out`.
    pub(crate) fn expire(&mut self, now: Instant, out: &mut Vec<CapturedRecord>) {
        let length = self.rule.window;
        self.windows.retain(|_, window| {
            if now < window.started + length {
                return true;
            }
            out.extend(window.folded.take());
            false
        });
    }

    /// Ends every window (the process is stopping).
    pub(crate) fn close(&mut self, out: &mut Vec<CapturedRecord>) {
        out.extend(self.windows.drain().filter_map(|(_, window)| window.folded));
    }
}

impl Window {
    fn open(now: Instant) -> Self {
        Self {
            started: now,
            seen: 1,
            folded: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn record(message: &str) -> CapturedRecord {
        CapturedRecord {
            level: Level::Error,
            message: message.to_owned(),
            target: "app::db".to_owned(),
            request_id: None,
            fields: Default::default(),
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            count: 1,
        }
    }

    const RULE: StormRule = StormRule {
        threshold: 3,
        window: Duration::from_secs(10),
    };

    #[test]
    fn records_past_the_threshold_are_folded_into_one_summary_when_the_window_ends() {
        let mut storms = Storms::new(RULE);
        let start = Instant::now();
        let mut out = Vec::new();
        for n in 0..10 {
            // The numbers differ; normalised, they are one kind.
            storms.observe(record(&format!("query {n} failed")), start, &mut out);
        }
        assert_eq!(out.len(), 3);
        storms.expire(start + Duration::from_secs(9), &mut out);
        assert_eq!(out.len(), 3, "the window is not over yet");
        storms.expire(start + Duration::from_secs(10), &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].count, 7);
        assert_eq!(out[3].message, "query 3 failed");
        assert!(out[..3].iter().all(|r| r.count == 1));
    }

    #[test]
    fn different_records_have_windows_of_their_own() {
        let mut storms = Storms::new(RULE);
        let start = Instant::now();
        let mut out = Vec::new();
        for _ in 0..5 {
            storms.observe(record("disk full"), start, &mut out);
            storms.observe(record("socket closed"), start, &mut out);
        }
        storms.close(&mut out);
        let counts = |message: &str| {
            out.iter()
                .filter(|r| r.message == message)
                .map(|r| r.count)
                .collect::<Vec<_>>()
        };
        assert_eq!(counts("disk full"), [1, 1, 1, 2]);
        assert_eq!(counts("socket closed"), [1, 1, 1, 2]);
    }

    #[test]
    fn a_record_after_the_window_opens_a_new_one_and_sends_the_old_summary() {
        let mut storms = Storms::new(RULE);
        let start = Instant::now();
        let mut out = Vec::new();
        for _ in 0..5 {
            storms.observe(record("disk full"), start, &mut out);
        }
        storms.observe(record("disk full"), start + RULE.window, &mut out);
        let counts: Vec<i64> = out.iter().map(|r| r.count).collect();
        assert_eq!(counts, [1, 1, 1, 2, 1]);
    }
}
