//! The header line: the first line of every session file.

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::model::syscalls::Arch;

/// The `format` value of every header.
pub const FORMAT_NAME: &str = "systrace-tui-session";
/// The version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The first line of every session file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Header {
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub version: u32,
    pub tool_version: String,
    pub host: String,
    pub kernel: String,
    /// Syscall numbering of every event in the file (`x86_64`, `aarch64`).
    pub arch: String,
    /// Unix time in ns at CLOCK_MONOTONIC zero: wall clock = boot_time_ns + start.
    pub boot_time_ns: i64,
    pub boot_time: String,
    /// When recording started (RFC 3339).
    pub start_time: String,
    pub filters: Filters,
    /// When this file was cut from another session file: that file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_from: Option<String>,
    /// How the items after this line are written: absent for JSON Lines,
    /// `binary-2` (`binary-1` before packed calls) for the binary format
    /// (see `session::binary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
}

/// The filters in force while recording.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Filters {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    /// `--filter` expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The TUI's view filter, when the file holds only matching events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// `--pod`, `--namespace`, `--container` regexes and `--host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub host: bool,
}

impl Header {
    pub fn new(
        host: String,
        kernel: String,
        arch: Arch,
        clock: Clock,
        start_ns: u64,
        filters: Filters,
    ) -> Header {
        Header {
            kind: "header".into(),
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            host,
            kernel,
            arch: arch.name().into(),
            boot_time_ns: clock.boot_unix_ns as i64,
            boot_time: clock.rfc3339(0),
            start_time: clock.rfc3339(start_ns),
            filters,
            cut_from: None,
            records: None,
        }
    }

    pub fn clock(&self) -> Clock {
        Clock {
            boot_unix_ns: self.boot_time_ns as i128,
        }
    }

    pub fn arch(&self) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == self.arch)
    }
}

/// Only what is needed to tell a session file and its version apart, so a
/// wrong version is reported as such rather than as a missing field.
#[derive(Deserialize)]
pub struct HeaderProbe {
    pub format: Option<String>,
    pub version: Option<u64>,
}
