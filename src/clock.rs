//! Kernel timestamps are CLOCK_MONOTONIC nanoseconds; this converts them to
//! wall-clock time with an offset measured once at start.

use chrono::{DateTime, Local, TimeZone, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Wall-clock ns at monotonic zero (i.e. boot time as Unix ns).
    pub boot_unix_ns: i128,
}

fn now_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer; these clocks always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

impl Clock {
    pub fn measure() -> Clock {
        let mono = now_ns(libc::CLOCK_MONOTONIC);
        let real = now_ns(libc::CLOCK_REALTIME);
        Clock {
            boot_unix_ns: real - mono,
        }
    }

    /// Current CLOCK_MONOTONIC in ns, the kernel side's time base.
    pub fn monotonic_now() -> u64 {
        now_ns(libc::CLOCK_MONOTONIC) as u64
    }

    pub fn to_utc(&self, mono_ns: u64) -> DateTime<Utc> {
        let ns = self.boot_unix_ns + mono_ns as i128;
        let secs = ns.div_euclid(1_000_000_000) as i64;
        let sub = ns.rem_euclid(1_000_000_000) as u32;
        Utc.timestamp_opt(secs, sub).single().unwrap_or_default()
    }

    /// `HH:MM:SS.uuuuuu` local time, like `strace -tt`.
    pub fn time_of_day(&self, mono_ns: u64) -> String {
        self.to_utc(mono_ns)
            .with_timezone(&Local)
            .format("%H:%M:%S%.6f")
            .to_string()
    }

    /// RFC 3339 with nanoseconds, UTC.
    pub fn rfc3339(&self, mono_ns: u64) -> String {
        self.to_utc(mono_ns)
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }
}

/// A duration in the unit that reads best: `850ns`, `12.3us`, `4.56ms`, `1.20s`.
pub fn fmt_duration(ns: u64) -> String {
    match ns {
        0..=999 => format!("{ns}ns"),
        1_000..=999_999 => format!("{:.1}us", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}ms", ns as f64 / 1e6),
        _ => format!("{:.2}s", ns as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_monotonic_to_wall_clock() {
        let c = Clock {
            boot_unix_ns: 1_700_000_000_000_000_000,
        };
        assert_eq!(c.rfc3339(1_500), "2023-11-14T22:13:20.000001500Z");
        let now = Clock::measure();
        let wall = now.to_utc(Clock::monotonic_now());
        assert!((Utc::now() - wall).num_seconds().abs() < 2);
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(fmt_duration(850), "850ns");
        assert_eq!(fmt_duration(12_345), "12.3us");
        assert_eq!(fmt_duration(4_560_000), "4.56ms");
        assert_eq!(fmt_duration(1_200_000_000), "1.20s");
    }
}
