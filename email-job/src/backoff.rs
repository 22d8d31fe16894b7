//! How many attempts an email gets, and how long to wait between them: exponential
//! backoff with jitter, so emails that failed together (a server down) do not all come
//! back in the same instant.

use std::time::Duration;

/// The retry rules the worker applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per round (from the request, or from an operator's retry) before the
    /// email is dead.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest wait, however many attempts failed.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_secs(15),
            max_delay: Duration::from_secs(6 * 60 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failed`-th attempt of a round failed for now (`failed` from 1),
    /// spread by `jitter` (a number in `[0, 1)`) over 75% to 125% of the exponential
    /// delay, and never over `max_delay`.
    pub fn delay(&self, failed: u32, jitter: f64) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        let exponential = self
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        exponential
            .mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
            .min(self.max_delay)
    }

    /// Whether a round that has made `attempts` attempts may make another.
    pub fn allows_another(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(300),
        }
    }

    #[test]
    fn each_failure_doubles_the_wait_around_its_middle() {
        let middle = |failed| policy().delay(failed, 0.5);
        assert_eq!(middle(1), Duration::from_secs(10));
        assert_eq!(middle(2), Duration::from_secs(20));
        assert_eq!(middle(3), Duration::from_secs(40));
    }

    #[test]
    fn jitter_spreads_the_wait_over_a_quarter_either_side() {
        assert_eq!(policy().delay(2, 0.0), Duration::from_secs(15));
        assert!(policy().delay(2, 0.999) < Duration::from_secs(25));
        assert!(policy().delay(2, 0.999) > Duration::from_secs(24));
    }

    #[test]
    fn the_wait_never_exceeds_the_maximum_however_many_failures() {
        assert_eq!(policy().delay(30, 0.999), Duration::from_secs(300));
        assert_eq!(policy().delay(u32::MAX, 0.5), Duration::from_secs(300));
    }

    #[test]
    fn the_allowance_ends_at_the_maximum() {
        assert!(policy().allows_another(7));
        assert!(!policy().allows_another(8));
    }
}
