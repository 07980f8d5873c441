//! `-y/--fd-paths` on a live run: the fd table (`model::fdtable`, which holds
//! every rule) with /proc/PID/fd as its source for descriptors it did not
//! see being made (inherited from before tracing, pipes, sockets). The table
//! asks at most once per (pid, fd) and remembers failures; a process is
//! listed once, at its first fork, so its children inherit what it had.

use std::os::unix::ffi::OsStringExt;

use crate::model::event::TraceEvent;
use crate::model::fdtable::{FdSource, FdTable};
use crate::model::syscalls::Arch;

/// This machine's /proc.
pub struct ProcFds;

impl FdSource for ProcFds {
    fn link(&mut self, pid: u32, fd: i32) -> Option<Vec<u8>> {
        std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
            .ok()
            .map(|p| p.into_os_string().into_vec())
    }

    fn fds(&mut self, pid: u32) -> Option<Vec<i32>> {
        let rd = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        Some(
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect(),
        )
    }
}

#[derive(Default)]
pub struct FdPaths {
    table: FdTable,
}

impl FdPaths {
    pub fn new() -> FdPaths {
        FdPaths::default()
    }

    /// The syscalls (numbers, sorted) this stage must see whatever the
    /// user's filter, for the table to stay right.
    pub fn needed_syscalls(arch: Arch) -> Vec<u32> {
        crate::model::fdtable::needed_syscalls(arch)
    }

    /// Learns from an event that is not shown (`process` is for the shown
    /// ones). Every event goes through one of the two, in order.
    pub fn learn(&mut self, ev: &TraceEvent) {
        self.table.learn(ev, &mut ProcFds);
    }

    /// Annotates `ev` and learns from it. Call once per event, in order.
    pub fn process(&mut self, ev: &mut TraceEvent) {
        self.table.process(ev, &mut ProcFds);
    }
}
