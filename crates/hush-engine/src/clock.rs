//! The engine's notion of "now". Real servers follow the system clock; the demo and replays
//! drive a manual clock so that grouping windows, grace periods and default query times follow
//! simulated time, not the wall clock it is played at.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, from the system or set by hand.
#[derive(Debug)]
pub struct Clock {
    /// `i64::MIN` means the system clock.
    manual: AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    pub fn system() -> Self {
        Self {
            manual: AtomicI64::new(i64::MIN),
        }
    }

    /// A clock that stands at `ms` until [`Clock::set`] moves it.
    pub fn manual(ms: i64) -> Self {
        let c = Self::system();
        c.set(ms);
        c
    }

    /// Moves a manual clock (or turns a system clock into a manual one).
    pub fn set(&self, ms: i64) {
        self.manual.store(ms.max(i64::MIN + 1), Ordering::Release);
    }

    pub fn now_ms(&self) -> i64 {
        match self.manual.load(Ordering::Acquire) {
            i64::MIN => system_ms(),
            ms => ms,
        }
    }
}

pub fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_stands_until_moved() {
        let c = Clock::manual(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.set(5_000);
        assert_eq!(c.now_ms(), 5_000);
        let s = Clock::system();
        assert!(s.now_ms() > 1_700_000_000_000);
    }
}
