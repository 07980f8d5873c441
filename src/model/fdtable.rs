//! What each descriptor of each process refers to, learnt from the syscalls
//! the tracer saw (open, dup, close, fork, exec, exit), for `-y`-style
//! `3</etc/passwd>` annotations. Pure: the /proc fallback lives in
//! `crate::fdtable`.

use std::collections::HashMap;

use super::decode::{self, RET_SLOT};
use super::event::TraceEvent;
use super::raw::{encode_chunks, Chunk, CAP_FD_PATH, CAP_STR};
use super::syscalls::{ArgKind, RetKind};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    path: Box<[u8]>,
    cloexec: bool,
}

/// Descriptor tables keyed by thread-group id.
#[derive(Default, Debug)]
pub struct FdTable {
    procs: HashMap<u32, HashMap<i32, Entry>>,
}

const O_CLOEXEC: u64 = 0o2000000;
const AT_FDCWD: i32 = -100;

impl FdTable {
    pub fn new() -> FdTable {
        FdTable::default()
    }

    pub fn lookup(&self, pid: u32, fd: i32) -> Option<&[u8]> {
        self.procs.get(&pid)?.get(&fd).map(|e| &*e.path)
    }

    /// Number of processes with a table (bounded by exits).
    pub fn processes(&self) -> usize {
        self.procs.len()
    }

    fn insert(&mut self, pid: u32, fd: i32, path: &[u8], cloexec: bool) {
        self.procs.entry(pid).or_default().insert(
            fd,
            Entry {
                path: path.into(),
                cloexec,
            },
        );
    }

    fn dup(&mut self, pid: u32, old: i32, new: i32, cloexec: bool) {
        let Some(t) = self.procs.get_mut(&pid) else {
            return;
        };
        match t.get(&old).cloned() {
            Some(mut e) => {
                e.cloexec = cloexec;
                t.insert(new, e);
            }
            None => {
                t.remove(&new);
            }
        }
    }

    /// The path an open-like call named, joined to its directory fd when
    /// that is known and the path is relative.
    fn opened_path(
        &self,
        ev: &TraceEvent,
        dirfd_arg: Option<usize>,
        path_arg: usize,
    ) -> Option<Vec<u8>> {
        let p = ev
            .chunks()
            .find(|c| c.kind == CAP_STR && usize::from(c.arg) == path_arg)?
            .data;
        if p.first() == Some(&b'/') {
            return Some(p.to_vec());
        }
        let dirfd = dirfd_arg.map_or(AT_FDCWD, |i| ev.args[i] as i32);
        if dirfd == AT_FDCWD {
            return Some(p.to_vec());
        }
        let dir = self.lookup(ev.pid, dirfd)?;
        let mut full = dir.to_vec();
        full.push(b'/');
        full.extend_from_slice(p);
        Some(full)
    }

    /// Updates the tables with a completed syscall.
    pub fn observe(&mut self, ev: &TraceEvent) {
        let pid = ev.pid;
        let name = ev.name();
        if !ev.returns() {
            if name == "exit_group" || (name == "exit" && ev.pid == ev.tid) {
                self.procs.remove(&pid);
            }
            return;
        }
        if ev.errno().is_some() {
            return;
        }
        let ret = ev.ret;
        let a = &ev.args;
        match name.as_ref() {
            "open" | "creat" => {
                let cloexec = name == "open" && a[1] & O_CLOEXEC != 0;
                if let Some(p) = self.opened_path(ev, None, 0) {
                    self.insert(pid, ret as i32, &p, cloexec);
                }
            }
            "openat" | "openat2" => {
                // openat2's flags are inside `struct open_how`, not copied.
                let cloexec = name == "openat" && a[2] & O_CLOEXEC != 0;
                if let Some(p) = self.opened_path(ev, Some(0), 1) {
                    self.insert(pid, ret as i32, &p, cloexec);
                }
            }
            "close" => {
                if let Some(t) = self.procs.get_mut(&pid) {
                    t.remove(&(a[0] as i32));
                }
            }
            "close_range" => {
                if let Some(t) = self.procs.get_mut(&pid) {
                    let (lo, hi) = (a[0] as u32, a[1] as u32);
                    t.retain(|&fd, _| !(lo..=hi).contains(&(fd as u32)));
                }
            }
            "dup" => self.dup(pid, a[0] as i32, ret as i32, false),
            "dup2" => self.dup(pid, a[0] as i32, ret as i32, false),
            "dup3" => self.dup(pid, a[0] as i32, ret as i32, a[2] & O_CLOEXEC != 0),
            // F_DUPFD and F_DUPFD_CLOEXEC.
            "fcntl" if a[1] == 0 || a[1] == 1030 => {
                self.dup(pid, a[0] as i32, ret as i32, a[1] == 1030)
            }
            "execve" | "execveat" => {
                if let Some(t) = self.procs.get_mut(&pid) {
                    t.retain(|_, e| !e.cloexec);
                }
            }
            "fork" | "vfork" | "clone" | "clone3" if ret > 0 => {
                // clone3's flags are in a struct: treat it as a fork.
                let flags = if name == "clone" { a[0] } else { 0 };
                const CLONE_THREAD: u64 = 0x10000;
                if flags & CLONE_THREAD == 0 {
                    if let Some(t) = self.procs.get(&pid) {
                        // With CLONE_FILES the table is shared; a copy is the
                        // best a per-process map can do.
                        let copy = t.clone();
                        self.procs.insert(ret as u32, copy);
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds fd-path chunks to `ev` for its fd arguments (`before` the call
    /// changed the table) or its returned fd (after).
    pub fn annotate(&self, ev: &mut TraceEvent, ret: bool) {
        let Some(info) = ev.syscall() else {
            return;
        };
        let mut add: Vec<(u8, Vec<u8>)> = Vec::new();
        if ret {
            if info.returns == RetKind::Fd && ev.errno().is_none() && ev.ret >= 0 {
                if let Some(p) = self.lookup(ev.pid, ev.ret as i32) {
                    add.push((RET_SLOT, p.to_vec()));
                }
            }
        } else {
            for (i, spec) in info.args.iter().enumerate() {
                if matches!(spec.kind, ArgKind::Fd | ArgKind::DirFd) {
                    let fd = ev.args[i] as i32;
                    if fd >= 0 && decode::fd_path(ev, i as u8).is_none() {
                        if let Some(p) = self.lookup(ev.pid, fd) {
                            add.push((i as u8, p.to_vec()));
                        }
                    }
                }
            }
        }
        add_chunks(ev, &add);
    }
}

/// Appends `(arg, path)` annotations to the event's captured tail.
pub fn add_chunks(ev: &mut TraceEvent, add: &[(u8, Vec<u8>)]) {
    if add.is_empty() {
        return;
    }
    let chunks: Vec<Chunk<'_>> = add
        .iter()
        .map(|(arg, p)| Chunk {
            arg: *arg,
            kind: CAP_FD_PATH,
            // A chunk length is 16 bits; paths are at most PATH_MAX anyway.
            data: &p[..p.len().min(decode::STR_MAX)],
        })
        .collect();
    let mut tail = ev.tail.take().map(Vec::from).unwrap_or_default();
    tail.extend_from_slice(&encode_chunks(&chunks));
    ev.tail = Some(tail.into_boxed_slice());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::args::strace_line;
    use crate::model::raw::RawEvent;
    use crate::model::syscalls::{by_name, Arch};

    fn ev(pid: u32, name: &str, ret: i64, args: &[u64], path: Option<(u8, &[u8])>) -> TraceEvent {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        let tail = path.map_or_else(Vec::new, |(arg, data)| {
            encode_chunks(&[Chunk {
                arg,
                kind: CAP_STR,
                data,
            }])
        });
        let raw = RawEvent {
            nr: by_name(Arch::X86_64, name).unwrap().nr,
            ret,
            args: a,
            pid,
            tid: pid,
            tail_len: tail.len() as u16,
            ..Default::default()
        };
        TraceEvent::from_raw(&raw, &tail, Arch::X86_64)
    }

    /// Runs one event through the table the way the pipeline does.
    fn step(t: &mut FdTable, mut e: TraceEvent) -> String {
        t.annotate(&mut e, false);
        t.observe(&e);
        t.annotate(&mut e, true);
        strace_line(&e)
    }

    const CWD: u64 = (-100i64) as u64;

    #[test]
    fn open_read_dup_close() {
        let mut t = FdTable::new();
        assert_eq!(
            step(
                &mut t,
                ev(
                    7,
                    "openat",
                    3,
                    &[CWD, 1, O_CLOEXEC],
                    Some((1, b"/etc/passwd"))
                )
            ),
            "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3</etc/passwd>"
        );
        assert_eq!(
            step(&mut t, ev(7, "read", 0, &[3, 0x10, 8], None)),
            "read(3</etc/passwd>, 0x10, 8) = 0"
        );
        assert_eq!(
            step(&mut t, ev(7, "dup2", 9, &[3, 9], None)),
            "dup2(3</etc/passwd>, 9) = 9</etc/passwd>"
        );
        assert_eq!(
            step(&mut t, ev(7, "close", 0, &[3], None)),
            "close(3</etc/passwd>) = 0"
        );
        assert_eq!(
            step(&mut t, ev(7, "read", 0, &[3, 0x10, 8], None)),
            "read(3, 0x10, 8) = 0"
        );
        // Other processes have tables of their own.
        assert_eq!(t.lookup(8, 9), None);
        // A failed call changes nothing.
        step(&mut t, ev(7, "close", -9, &[9], None));
        assert_eq!(t.lookup(7, 9), Some(&b"/etc/passwd"[..]));
    }

    #[test]
    fn relative_paths_fork_exec_and_exit() {
        let mut t = FdTable::new();
        step(
            &mut t,
            ev(1, "openat", 3, &[CWD, 1, 0o200000], Some((1, b"/srv"))),
        );
        step(
            &mut t,
            ev(1, "openat", 4, &[3, 1, O_CLOEXEC], Some((1, b"data"))),
        );
        assert_eq!(t.lookup(1, 4), Some(&b"/srv/data"[..]));
        // The child inherits a copy.
        step(&mut t, ev(1, "clone", 2, &[0x0120_0011], None));
        assert_eq!(t.lookup(2, 4), Some(&b"/srv/data"[..]));
        // exec closes O_CLOEXEC descriptors only.
        step(&mut t, ev(2, "execve", 0, &[0, 0, 0], None));
        assert_eq!(t.lookup(2, 4), None);
        assert_eq!(t.lookup(2, 3), Some(&b"/srv"[..]));
        let mut exit = ev(2, "exit_group", 0, &[0], None);
        exit.flags |= crate::model::raw::F_NO_RETURN;
        t.observe(&exit);
        assert_eq!(t.processes(), 1);
    }
}
