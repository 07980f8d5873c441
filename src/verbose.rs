//! `-v`: diagnostics that are hidden by default (libbpf's messages and the
//! loader's notes). Errors are shown whatever the level.

use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets the level for the whole program (0: quiet, 1: `-v`, 2: `-vv`),
/// libbpf's printing included.
pub fn set(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
    crate::source::kernel::loader::libbpf_log(level);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// A diagnostic line on stderr, shown only with `-v`.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        if $crate::verbose::level() > 0 {
            $crate::say!($($arg)*);
        }
    }};
}
