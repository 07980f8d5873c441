//! When a run ends: a signal (SIGINT, SIGTERM, SIGHUP), `--duration`, or
//! the consumer itself (the TUI's `q`, a closed pipe). Every loop and every
//! wait on another thread checks it, so no part of the pipeline can keep
//! the process alive once the run is over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    duration: Option<Duration>,
    /// Set by `start_clock`: the run's time counts from when tracing
    /// starts, not from when setup (name lookups, loading) began.
    deadline: Arc<OnceLock<Instant>>,
}

impl Stop {
    /// The flag itself, for signal handlers to set (the pipeline registers
    /// SIGINT, SIGTERM and SIGHUP).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// A stop raised only by `raise` (and by the clock, `duration` after
    /// `start_clock`).
    pub fn new(duration: Option<Duration>) -> Stop {
        Stop {
            flag: Arc::new(AtomicBool::new(false)),
            duration,
            deadline: Arc::new(OnceLock::new()),
        }
    }

    /// The run's duration counts from now (once; later calls change nothing).
    pub fn start_clock(&self) {
        if let Some(d) = self.duration {
            let _ = self.deadline.set(Instant::now() + d);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline.get().copied()
    }

    pub fn raise(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    pub fn is_raised(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// How long to wait for something before looking at the stop again:
    /// `most`, or less when the deadline comes sooner.
    pub fn wait(&self, most: Duration) -> Duration {
        self.deadline().map_or(most, |d| {
            d.saturating_duration_since(Instant::now()).min(most)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_by_hand_or_by_the_deadline() {
        let s = Stop::new(None);
        assert!(!s.is_raised());
        assert_eq!(
            s.wait(Duration::from_millis(100)),
            Duration::from_millis(100)
        );
        s.clone().raise();
        assert!(s.is_raised(), "clones share the flag");

        let d = Stop::new(Some(Duration::ZERO));
        assert!(!d.is_raised(), "the clock has not started");
        d.clone().start_clock();
        assert!(d.is_raised());
        assert_eq!(d.wait(Duration::from_secs(1)), Duration::ZERO);
        let later = Stop::new(Some(Duration::from_secs(3600)));
        later.start_clock();
        assert!(!later.is_raised());
    }
}
