//! The `wall_time` field of syscall lines, formatted quickly.

use crate::clock::Clock;

/// Formats `wall_time` quickly: the date and time up to the second is
/// formatted once per second, the nanoseconds every time.
pub struct WallClock {
    clock: Clock,
    sec: i64,
    prefix: String,
    pub buf: String,
}

impl WallClock {
    pub fn new(clock: Clock) -> WallClock {
        WallClock {
            clock,
            sec: i64::MIN,
            prefix: String::new(),
            buf: String::with_capacity(40),
        }
    }

    /// RFC 3339 in UTC with nanoseconds, as `Clock::rfc3339` writes it.
    pub fn format(&mut self, mono_ns: u64) -> &str {
        let ns = self.clock.boot_unix_ns + mono_ns as i128;
        let sec = ns.div_euclid(1_000_000_000) as i64;
        let sub = ns.rem_euclid(1_000_000_000) as u32;
        if sec != self.sec {
            self.sec = sec;
            self.prefix = chrono::DateTime::from_timestamp(sec, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
        }
        self.buf.clear();
        self.buf.push_str(&self.prefix);
        self.buf.push('.');
        // Nine digits with leading zeros, without the formatting machinery.
        let mut digits = [b'0'; 9];
        let mut v = sub;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.buf.extend(digits.iter().map(|&d| char::from(d)));
        self.buf.push('Z');
        &self.buf
    }
}
