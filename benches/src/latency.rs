//! Latency recording with HdrHistogram at microsecond resolution.

use std::{fmt, time::Duration};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency recorded exactly: one hour. Longer ones are recorded as one hour.
const HIGHEST_MICROS: u64 = 3_600_000_000;
/// Three significant digits: a recorded value is within 0.1 % of the true one.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in microseconds. Each load worker fills its own; they are merged.
#[derive(Debug, Clone)]
pub struct Recorder {
    histogram: Histogram<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            histogram: Histogram::new_with_max(HIGHEST_MICROS, SIGNIFICANT_DIGITS)
                .expect("valid histogram bounds"),
        }
    }

    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(micros);
    }

    pub fn merge(&mut self, other: &Recorder) {
        self.histogram
            .add(&other.histogram)
            .expect("recorders share their bounds");
    }

    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    pub fn summary(&self) -> LatencySummary {
        let h = &self.histogram;
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }
}

/// Percentiles of a [`Recorder`], in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

/// A latency in microseconds, printed in the unit that suits it: `870 µs`, `4.21 ms`, `1.30 s`.
#[derive(Debug, Clone, Copy)]
pub struct Micros(pub u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        let text = if us < 1_000 {
            format!("{us} µs")
        } else if us < 1_000_000 {
            format!("{:.2} ms", us as f64 / 1e3)
        } else {
            format!("{:.2} s", us as f64 / 1e6)
        };
        f.pad(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_recorded_latencies() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for ms in 1..=50 {
            a.record(Duration::from_millis(ms));
        }
        for ms in 51..=100 {
            b.record(Duration::from_millis(ms));
        }
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 100);
        assert!((49_900..=50_100).contains(&s.p50_us), "{s:?}");
        assert!((98_900..=99_100).contains(&s.p99_us), "{s:?}");
        assert!((99_900..=100_100).contains(&s.max_us), "{s:?}");
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(Recorder::new().summary(), LatencySummary::default());
    }

    #[test]
    fn micros_pick_a_unit() {
        assert_eq!(Micros(870).to_string(), "870 µs");
        assert_eq!(Micros(4_210).to_string(), "4.21 ms");
        assert_eq!(Micros(1_300_000).to_string(), "1.30 s");
    }
}
