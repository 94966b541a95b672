//! The delay before retrying a failed refresh: exponential from one second, capped, and
//! jittered so that several exporters do not hammer a recovering database in step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The first retry's delay, before jitter.
pub const INITIAL_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The longest delay between two retries: a database back after an outage is noticed
/// within a minute, whatever the refresh interval.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Consecutive failed refreshes to retry before retrying is no longer "the database is
/// restarting": the failure is then logged at ERROR, once, for an operator to act.
pub const FAILURES_BEFORE_ERROR: u32 = 5;

/// Retry delays of one run of consecutive failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff whose delays never exceed `cap` nor [`MAX_RETRY_DELAY`]; callers pass
    /// the refresh interval, since retrying slower than the schedule would be pointless.
    pub fn new(cap: Duration) -> Backoff {
        Backoff {
            cap: cap.min(MAX_RETRY_DELAY),
            failures: 0,
        }
    }

    /// Records one more failure and returns how long to wait before the next attempt:
    /// between half and all of `INITIAL_RETRY_DELAY * 2^(failures - 1)`, capped.
    pub fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let exponent = (self.failures - 1).min(16);
        let ceiling = INITIAL_RETRY_DELAY
            .saturating_mul(1 << exponent)
            .min(self.cap);
        ceiling / 2 + ceiling.mul_f64(random_fraction() / 2.0)
    }

    /// Changes the cap, after a reload changed the refresh interval.
    pub fn set_cap(&mut self, cap: Duration) {
        self.cap = cap.min(MAX_RETRY_DELAY);
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A number in `[0, 1)` that differs between calls and processes; the standard library's
/// randomly keyed hasher is enough for jitter.
fn random_fraction() -> f64 {
    let bits = RandomState::new().build_hasher().finish() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each delay lies between half and all of a doubling ceiling that starts at one second.
    #[test]
    fn delays_double_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_secs(3600));
        for ceiling_secs in [1, 2, 4, 8, 16, 32] {
            let delay = backoff.next_delay();
            let ceiling = Duration::from_secs(ceiling_secs);
            assert!(delay >= ceiling / 2 && delay <= ceiling, "{delay:?}");
        }
        assert_eq!(backoff.failures(), 6);
    }

    /// Delays stop growing at the refresh interval, and at a minute for long intervals.
    #[test]
    fn delays_are_capped() {
        let mut short = Backoff::new(Duration::from_secs(5));
        let mut long = Backoff::new(Duration::from_secs(3600));
        for _ in 0..100 {
            assert!(short.next_delay() <= Duration::from_secs(5));
            assert!(long.next_delay() <= MAX_RETRY_DELAY);
        }
    }

    /// After a reset the next delay is a first delay again.
    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(Duration::from_secs(3600));
        for _ in 0..10 {
            backoff.next_delay();
        }
        backoff.reset();
        assert!(backoff.next_delay() <= INITIAL_RETRY_DELAY);
        assert_eq!(backoff.failures(), 1);
    }

    /// Two runs of delays differ, so exporters restarted together drift apart.
    #[test]
    fn delays_are_jittered() {
        let delays: Vec<Duration> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(60)).next_delay())
            .collect();
        assert!(delays.iter().any(|d| *d != delays[0]), "{delays:?}");
    }
}
