//! `-y/--fd-paths`: annotates fd arguments and returned fds with what they
//! refer to. The table learnt from traced syscalls (`model::fdtable`) comes
//! first; descriptors opened before tracing started (or sockets and pipes,
//! whose names only the kernel knows) are read from /proc/PID/fd/N.

use crate::model::decode;
use crate::model::event::TraceEvent;
use crate::model::fdtable::{add_chunks, FdTable};
use crate::model::syscalls::{ArgKind, RetKind};

#[derive(Default)]
pub struct FdPaths {
    table: FdTable,
}

fn proc_link(pid: u32, fd: i32) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
        .ok()
        .map(|p| p.into_os_string().into_vec())
}

impl FdPaths {
    pub fn new() -> FdPaths {
        FdPaths::default()
    }

    /// Learns from an event that is not shown (`process` is for the shown
    /// ones). Every event goes through one of the two, in order.
    pub fn learn(&mut self, ev: &TraceEvent) {
        self.table.observe(ev);
    }

    /// Annotates `ev` and learns from it. Call once per event, in order.
    pub fn process(&mut self, ev: &mut TraceEvent) {
        self.table.annotate(ev, false);
        annotate_from_proc(ev);
        self.table.observe(ev);
        self.table.annotate(ev, true);
        let new_fd = ev.syscall().is_some_and(|s| s.returns == RetKind::Fd)
            && ev.errno().is_none()
            && ev.ret >= 0;
        if new_fd && decode::fd_path(ev, decode::RET_SLOT).is_none() {
            if let Some(p) = proc_link(ev.pid, ev.ret as i32) {
                add_chunks(ev, &[(decode::RET_SLOT, p)]);
            }
        }
    }
}

/// Fallback for fd arguments the table does not know. The process may
/// have moved on (or exited) since the call; then nothing is added.
fn annotate_from_proc(ev: &mut TraceEvent) {
    let Some(info) = ev.syscall() else {
        return;
    };
    let mut add = Vec::new();
    for (i, spec) in info.args.iter().enumerate() {
        if !matches!(spec.kind, ArgKind::Fd | ArgKind::DirFd) {
            continue;
        }
        let fd = ev.args[i] as i32;
        if fd < 0 || decode::fd_path(ev, i as u8).is_some() {
            continue;
        }
        if let Some(p) = proc_link(ev.pid, fd) {
            add.push((i as u8, p));
        }
    }
    add_chunks(ev, &add);
}
