//! What each descriptor of each process refers to, for `-y`-style
//! `3</etc/passwd>` annotations. The one fd table: learnt from the syscalls
//! the tracer sees (open, dup, fcntl, close, fork, exec, exit), and for
//! descriptors it did not see being made (inherited from before tracing,
//! pipes, sockets) asked once of an [`FdSource`] (/proc/PID/fd on a live
//! run, see `crate::stage::fdpaths`; nothing on a replay). Pure: the source is
//! passed in, so everything here is testable without /proc.

use std::collections::HashMap;

use super::decode::{self, RET_SLOT};
use super::event::TraceEvent;
use super::raw::{encode_chunks, Chunk, CAP_FD_PATH, CAP_STR};
use super::syscalls::{self, Arch, ArgKind, RetKind};

/// Where descriptors the table did not see being made are looked up.
pub trait FdSource {
    /// What `fd` of process `pid` refers to now (`/etc/passwd`,
    /// `socket:[1234]`), or None when it is not open or the process is gone.
    fn link(&mut self, pid: u32, fd: i32) -> Option<Vec<u8>>;
    /// The descriptors `pid` has open now.
    fn fds(&mut self, pid: u32) -> Option<Vec<i32>>;
}

/// No source: only what the syscalls show (replays, tests).
pub struct NoSource;

impl FdSource for NoSource {
    fn link(&mut self, _: u32, _: i32) -> Option<Vec<u8>> {
        None
    }
    fn fds(&mut self, _: u32) -> Option<Vec<i32>> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    path: Box<[u8]>,
    /// Descriptors learnt from the source count as inherited, not
    /// close-on-exec (the flag is not in the link): stdio, mostly.
    cloexec: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    Known(Entry),
    /// Asked of the source, which did not know it: not asked again until a
    /// call may have made it.
    Missing,
}

#[derive(Clone, Debug, Default)]
struct Proc {
    fds: HashMap<i32, Slot>,
    /// Every descriptor open when it was scanned (at its first fork) has an
    /// entry, so children inherit them all.
    scanned: bool,
}

/// Descriptor tables keyed by thread-group id.
#[derive(Default, Debug)]
pub struct FdTable {
    procs: HashMap<u32, Proc>,
}

const O_CLOEXEC: u64 = 0o2000000;
const AT_FDCWD: i32 = -100;
const F_DUPFD: u64 = 0;
const F_SETFD: u64 = 2;
const F_DUPFD_CLOEXEC: u64 = 1030;
const FD_CLOEXEC: u64 = 1;
const CLOSE_RANGE_CLOEXEC: u64 = 4;
const CLONE_THREAD: u64 = 0x10000;

/// Syscalls that change a process's descriptors without returning the new
/// one (it is written to memory): what the source did not know may exist now.
const HIDDEN_NEW_FDS: &[&str] = &["pipe", "pipe2", "socketpair", "recvmsg", "recvmmsg"];

/// Syscalls the table must see to stay right, besides those returning an fd.
const CHANGES_FDS: &[&str] = &[
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "execve",
    "execveat",
    "fork",
    "vfork",
    "clone",
    "clone3",
    "exit",
    "exit_group",
];

/// Every syscall of `arch` the fd table needs to see, whatever the user's
/// filter: those that make, copy, close or inherit descriptors (all that
/// return an fd included). Sorted numbers.
pub fn needed_syscalls(arch: Arch) -> Vec<u32> {
    let mut v: Vec<u32> = syscalls::table(arch)
        .iter()
        .filter(|s| {
            s.returns == RetKind::Fd
                || CHANGES_FDS.contains(&s.name)
                || HIDDEN_NEW_FDS.contains(&s.name)
        })
        .map(|s| s.nr)
        .collect();
    v.sort_unstable();
    v
}

fn is_dupfd(name: &str, ev: &TraceEvent) -> bool {
    name == "fcntl" && (ev.args[1] == F_DUPFD || ev.args[1] == F_DUPFD_CLOEXEC)
}

impl FdTable {
    pub fn new() -> FdTable {
        FdTable::default()
    }

    /// What the table knows of `fd` of `pid` (without asking a source).
    pub fn lookup(&self, pid: u32, fd: i32) -> Option<&[u8]> {
        match self.procs.get(&pid)?.fds.get(&fd)? {
            Slot::Known(e) => Some(&e.path),
            Slot::Missing => None,
        }
    }

    /// Number of processes with a table (bounded by exits).
    pub fn processes(&self) -> usize {
        self.procs.len()
    }

    /// What `fd` refers to, asking `src` (once) when the table has no entry.
    fn resolve(&mut self, pid: u32, fd: i32, src: &mut dyn FdSource) -> Option<&[u8]> {
        let slot = self
            .procs
            .entry(pid)
            .or_default()
            .fds
            .entry(fd)
            .or_insert_with(|| match src.link(pid, fd) {
                Some(p) => Slot::Known(Entry {
                    path: p.into(),
                    cloexec: false,
                }),
                None => Slot::Missing,
            });
        match slot {
            Slot::Known(e) => Some(&e.path),
            Slot::Missing => None,
        }
    }

    fn insert(&mut self, pid: u32, fd: i32, path: &[u8], cloexec: bool) {
        self.procs.entry(pid).or_default().fds.insert(
            fd,
            Slot::Known(Entry {
                path: path.into(),
                cloexec,
            }),
        );
    }

    fn forget(&mut self, pid: u32, fd: i32) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.fds.remove(&fd);
        }
    }

    /// `new` becomes a copy of `old` (resolved before the call).
    fn dup(&mut self, pid: u32, old: i32, new: i32, cloexec: bool) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        match p.fds.get(&old).cloned() {
            Some(Slot::Known(mut e)) => {
                e.cloexec = cloexec;
                p.fds.insert(new, Slot::Known(e));
            }
            _ => {
                p.fds.remove(&new);
            }
        }
    }

    /// Before a process's first fork, every descriptor it has gets an entry,
    /// so the child (which may be gone before its events are read) inherits
    /// what the parent had from before tracing.
    fn scan(&mut self, pid: u32, src: &mut dyn FdSource) {
        if self.procs.get(&pid).is_some_and(|p| p.scanned) {
            return;
        }
        for fd in src.fds(pid).unwrap_or_default() {
            let known = matches!(
                self.procs.get(&pid).and_then(|p| p.fds.get(&fd)),
                Some(Slot::Known(_))
            );
            if !known {
                self.forget(pid, fd);
                self.resolve(pid, fd, src);
            }
        }
        self.procs.entry(pid).or_default().scanned = true;
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
        let dir = self.lookup(ev.id.pid, dirfd)?;
        let mut full = dir.to_vec();
        full.push(b'/');
        full.extend_from_slice(p);
        Some(full)
    }

    /// Annotates `ev`'s fd arguments (as they were before the call) and its
    /// returned fd, and learns from it. Call once per event, in order.
    pub fn process(&mut self, ev: &mut TraceEvent, src: &mut dyn FdSource) {
        let Some(info) = ev.syscall() else {
            return;
        };
        let mut add: Vec<(u8, Vec<u8>)> = Vec::new();
        for (i, spec) in info.args.iter().enumerate() {
            if matches!(spec.kind, ArgKind::Fd | ArgKind::DirFd) {
                let fd = ev.args[i] as i32;
                if fd >= 0 && decode::fd_path(ev, i as u8).is_none() {
                    if let Some(p) = self.resolve(ev.id.pid, fd, src) {
                        add.push((i as u8, p.to_vec()));
                    }
                }
            }
        }
        self.observe(ev, src);
        let new_fd = info.returns == RetKind::Fd || is_dupfd(info.name, ev);
        if new_fd && ev.returns() && ev.errno().is_none() && ev.ret >= 0 {
            if let Some(p) = self.resolve(ev.id.pid, ev.ret as i32, src) {
                add.push((RET_SLOT, p.to_vec()));
            }
        }
        add_chunks(ev, &add);
    }

    /// Learns from an event that is not annotated (one the user's filter
    /// drops).
    pub fn learn(&mut self, ev: &TraceEvent, src: &mut dyn FdSource) {
        self.observe(ev, src);
    }

    /// Updates the tables with a completed syscall (fd arguments already
    /// resolved by `process`).
    fn observe(&mut self, ev: &TraceEvent, src: &mut dyn FdSource) {
        let Some(info) = ev.syscall() else {
            return;
        };
        let pid = ev.id.pid;
        let name = info.name;
        if !ev.returns() {
            if name == "exit_group" || (name == "exit" && ev.id.pid == ev.id.tid) {
                self.procs.remove(&pid);
            }
            return;
        }
        if ev.errno().is_some() {
            return;
        }
        let ret = ev.ret;
        let a = &ev.args;
        match name {
            "open" | "creat" | "openat" | "openat2" => {
                let (dirfd, path, flags) = match name {
                    "open" => (None, 0, a[1]),
                    "creat" => (None, 0, 0),
                    // openat2's flags are inside `struct open_how`, not copied.
                    "openat" => (Some(0), 1, a[2]),
                    _ => (Some(0), 1, 0),
                };
                match self.opened_path(ev, dirfd, path) {
                    Some(p) => self.insert(pid, ret as i32, &p, flags & O_CLOEXEC != 0),
                    // Not captured: asked of the source as a new fd.
                    None => self.forget(pid, ret as i32),
                }
            }
            "close" => self.forget(pid, a[0] as i32),
            "close_range" => {
                if let Some(p) = self.procs.get_mut(&pid) {
                    let (lo, hi) = (a[0] as u32, a[1] as u32);
                    let inside = |fd: i32| (lo..=hi).contains(&(fd as u32));
                    if a[2] & CLOSE_RANGE_CLOEXEC != 0 {
                        for (_, s) in p.fds.iter_mut().filter(|(fd, _)| inside(**fd)) {
                            if let Slot::Known(e) = s {
                                e.cloexec = true;
                            }
                        }
                    } else {
                        p.fds.retain(|&fd, _| !inside(fd));
                    }
                }
            }
            "dup" | "dup2" => self.dup(pid, a[0] as i32, ret as i32, false),
            "dup3" => self.dup(pid, a[0] as i32, ret as i32, a[2] & O_CLOEXEC != 0),
            "fcntl" if is_dupfd(name, ev) => {
                self.dup(pid, a[0] as i32, ret as i32, a[1] == F_DUPFD_CLOEXEC)
            }
            "fcntl" if a[1] == F_SETFD => {
                if let Some(Slot::Known(e)) = self
                    .procs
                    .get_mut(&pid)
                    .and_then(|p| p.fds.get_mut(&(a[0] as i32)))
                {
                    e.cloexec = a[2] & FD_CLOEXEC != 0;
                }
            }
            "execve" | "execveat" => {
                if let Some(p) = self.procs.get_mut(&pid) {
                    p.fds
                        .retain(|_, s| !matches!(s, Slot::Known(e) if e.cloexec));
                }
            }
            "fork" | "vfork" | "clone" | "clone3" if ret > 0 => {
                // clone3's flags are in a struct: treat it as a fork.
                let flags = if name == "clone" { a[0] } else { 0 };
                if flags & CLONE_THREAD == 0 {
                    self.scan(pid, src);
                    // With CLONE_FILES the table is shared; a copy is the
                    // best a per-process map can do.
                    let mut child = self.procs.get(&pid).cloned().unwrap_or_default();
                    child.scanned = true;
                    self.procs.insert(ret as u32, child);
                }
            }
            n if HIDDEN_NEW_FDS.contains(&n) => {
                if let Some(p) = self.procs.get_mut(&pid) {
                    p.fds.retain(|_, s| *s != Slot::Missing);
                }
            }
            // Any other call returning a new fd (socket, accept, eventfd,
            // ...): whatever that number was before is gone.
            _ if info.returns == RetKind::Fd => self.forget(pid, ret as i32),
            _ => {}
        }
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
    let mut tail = ev.tail.as_deref().map(Vec::from).unwrap_or_default();
    tail.extend_from_slice(&encode_chunks(&chunks));
    ev.tail = Some(tail.into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::args::strace_line;
    use crate::model::testing::EventBuilder;

    fn ev(pid: u32, name: &str, ret: i64, args: &[u64], path: Option<(u8, &[u8])>) -> TraceEvent {
        let b = EventBuilder::named(name).ret(ret).args(args).pid(pid);
        match path {
            Some((arg, data)) => b.path(arg, data),
            None => b,
        }
        .build()
    }

    /// Runs one event through the table the way the pipeline does.
    fn step(t: &mut FdTable, e: TraceEvent) -> String {
        step_with(t, e, &mut NoSource)
    }

    fn step_with(t: &mut FdTable, mut e: TraceEvent, src: &mut dyn FdSource) -> String {
        t.process(&mut e, src);
        strace_line(&e)
    }

    /// A process's descriptors as a fixed list (what /proc would say), and
    /// how often each was asked for.
    #[derive(Default)]
    struct Fixed {
        fds: HashMap<(u32, i32), &'static [u8]>,
        asked: HashMap<(u32, i32), u32>,
        listed: u32,
    }

    impl FdSource for Fixed {
        fn link(&mut self, pid: u32, fd: i32) -> Option<Vec<u8>> {
            *self.asked.entry((pid, fd)).or_default() += 1;
            self.fds.get(&(pid, fd)).map(|p| p.to_vec())
        }
        fn fds(&mut self, pid: u32) -> Option<Vec<i32>> {
            self.listed += 1;
            Some(
                self.fds
                    .keys()
                    .filter(|(p, _)| *p == pid)
                    .map(|(_, fd)| *fd)
                    .collect(),
            )
        }
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
            "read(3</etc/passwd>, \"\", 8) = 0"
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
            "read(3, \"\", 8) = 0"
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
        t.process(&mut exit, &mut NoSource);
        assert_eq!(t.processes(), 1);
    }

    fn passwd(t: &mut FdTable) {
        step(t, ev(7, "openat", 3, &[CWD, 1], Some((1, b"/etc/passwd"))));
    }

    #[test]
    fn dup_dup3_and_fcntl_dupfd_copy_and_show_the_new_fd() {
        let mut t = FdTable::new();
        passwd(&mut t);
        assert_eq!(
            step(&mut t, ev(7, "dup", 4, &[3], None)),
            "dup(3</etc/passwd>) = 4</etc/passwd>"
        );
        assert_eq!(
            step(&mut t, ev(7, "dup3", 5, &[3, 5, O_CLOEXEC], None)),
            "dup3(3</etc/passwd>, 5, O_CLOEXEC) = 5</etc/passwd>"
        );
        assert_eq!(
            step(&mut t, ev(7, "fcntl", 10, &[3, F_DUPFD, 10], None)),
            "fcntl(3</etc/passwd>, F_DUPFD, 10) = 10</etc/passwd>"
        );
        assert_eq!(
            step(&mut t, ev(7, "fcntl", 11, &[3, F_DUPFD_CLOEXEC, 10], None)),
            "fcntl(3</etc/passwd>, F_DUPFD_CLOEXEC, 10) = 11</etc/passwd>"
        );
        // exec keeps what is not close-on-exec.
        step(&mut t, ev(7, "execve", 0, &[0, 0, 0], None));
        assert_eq!(t.lookup(7, 4), Some(&b"/etc/passwd"[..]));
        assert_eq!(t.lookup(7, 10), Some(&b"/etc/passwd"[..]));
        assert_eq!((t.lookup(7, 5), t.lookup(7, 11)), (None, None));
        // F_SETFD and close_range with CLOSE_RANGE_CLOEXEC mark, exec closes.
        step(&mut t, ev(7, "fcntl", 0, &[4, F_SETFD, FD_CLOEXEC], None));
        step(
            &mut t,
            ev(7, "close_range", 0, &[10, 10, CLOSE_RANGE_CLOEXEC], None),
        );
        assert_eq!(t.lookup(7, 10), Some(&b"/etc/passwd"[..]));
        step(&mut t, ev(7, "execve", 0, &[0, 0, 0], None));
        assert_eq!((t.lookup(7, 4), t.lookup(7, 10)), (None, None));
        assert_eq!(t.lookup(7, 3), Some(&b"/etc/passwd"[..]));
        // close_range without flags closes.
        step(
            &mut t,
            ev(7, "close_range", 0, &[3, u64::from(u32::MAX), 0], None),
        );
        assert_eq!(t.lookup(7, 3), None);
    }

    #[test]
    fn dup2_over_an_open_fd_replaces_it_and_close_forgets() {
        let mut t = FdTable::new();
        passwd(&mut t);
        step(
            &mut t,
            ev(7, "openat", 4, &[CWD, 1], Some((1, b"/tmp/out"))),
        );
        assert_eq!(
            step(&mut t, ev(7, "dup2", 1, &[4, 1], None)),
            "dup2(4</tmp/out>, 1) = 1</tmp/out>"
        );
        assert_eq!(
            step(&mut t, ev(7, "dup2", 4, &[3, 4], None)),
            "dup2(3</etc/passwd>, 4</tmp/out>) = 4</etc/passwd>"
        );
        assert_eq!(
            step(&mut t, ev(7, "write", 3, &[1, 0x10, 3], None)),
            "write(1</tmp/out>, 0x10, 3) = 3"
        );
        // A dup of an fd nobody knows leaves the target unknown too.
        step(&mut t, ev(7, "dup2", 1, &[9, 1], None));
        assert_eq!(t.lookup(7, 1), None);
        step(&mut t, ev(7, "close", 0, &[4], None));
        assert_eq!(t.lookup(7, 4), None);
    }

    /// Descriptors made before tracing come from the source, once per
    /// (pid, fd), failures included; a child that forked inherits them even
    /// if it is gone before its events are read.
    #[test]
    fn inherited_fds_are_asked_once_and_forks_inherit_them() {
        let mut t = FdTable::new();
        let mut src = Fixed::default();
        src.fds.insert((7, 1), b"/tmp/out.txt");
        src.fds.insert((7, 2), b"/dev/pts/0");
        for _ in 0..3 {
            assert_eq!(
                step_with(&mut t, ev(7, "write", 3, &[1, 0x10, 3], None), &mut src),
                "write(1</tmp/out.txt>, 0x10, 3) = 3"
            );
            assert_eq!(
                step_with(&mut t, ev(7, "read", -9, &[5, 0x10, 3], None), &mut src),
                "read(5, 0x10, 3) = -1 EBADF (Bad file descriptor)"
            );
        }
        assert_eq!(src.asked[&(7, 1)], 1);
        assert_eq!(src.asked[&(7, 5)], 1, "a failure is remembered");
        // fcntl F_DUPFD of an inherited fd.
        assert_eq!(
            step_with(
                &mut t,
                ev(7, "fcntl", 10, &[1, F_DUPFD, 10], None),
                &mut src
            ),
            "fcntl(1</tmp/out.txt>, F_DUPFD, 10) = 10</tmp/out.txt>"
        );
        // The first fork lists the parent's fds; the child (gone: the source
        // has nothing for it) inherits them, including fd 2 never used yet.
        step_with(&mut t, ev(7, "clone", 8, &[0x0120_0011], None), &mut src);
        assert_eq!(src.listed, 1);
        assert_eq!(
            step_with(&mut t, ev(8, "write", 3, &[2, 0x10, 3], None), &mut src),
            "write(2</dev/pts/0>, 0x10, 3) = 3"
        );
        step_with(&mut t, ev(8, "execve", 0, &[0, 0, 0], None), &mut src);
        assert_eq!(
            step_with(&mut t, ev(8, "write", 3, &[1, 0x10, 3], None), &mut src),
            "write(1</tmp/out.txt>, 0x10, 3) = 3"
        );
        assert!(!src.asked.contains_key(&(8, 1)) && !src.asked.contains_key(&(8, 2)));
        step_with(&mut t, ev(7, "fork", 9, &[], None), &mut src);
        assert_eq!(src.listed, 1, "listed once per process");
        assert_eq!(src.asked[&(7, 2)], 1);
    }

    /// A new fd the table cannot name (a socket) is read from the source
    /// once; a pipe may make fds the source did not know before.
    #[test]
    fn sockets_are_named_by_the_source_and_pipes_reopen_failures() {
        let mut t = FdTable::new();
        let mut src = Fixed::default();
        src.fds.insert((7, 3), b"socket:[4242]");
        assert_eq!(
            step_with(&mut t, ev(7, "socket", 3, &[2, 1, 0], None), &mut src),
            "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3<socket:[4242]>"
        );
        step_with(&mut t, ev(7, "close", 0, &[3], None), &mut src);
        src.fds.insert((7, 3), b"socket:[4343]");
        assert_eq!(
            step_with(&mut t, ev(7, "socket", 3, &[2, 1, 0], None), &mut src),
            "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3<socket:[4343]>"
        );
        step_with(&mut t, ev(7, "read", -9, &[4, 0x10, 3], None), &mut src);
        src.fds.insert((7, 4), b"pipe:[99]");
        step_with(&mut t, ev(7, "pipe2", 0, &[0x7ff0, 0], None), &mut src);
        assert_eq!(
            step_with(&mut t, ev(7, "read", 0, &[4, 0x10, 3], None), &mut src),
            "read(4<pipe:[99]>, \"\", 3) = 0"
        );
    }

    #[test]
    fn the_needed_syscalls_cover_every_fd_change() {
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let v = needed_syscalls(arch);
            let names: Vec<&str> = v
                .iter()
                .map(|&nr| syscalls::lookup(arch, nr).unwrap().name)
                .collect();
            for n in [
                "dup",
                "dup3",
                "fcntl",
                "close",
                "openat",
                "socket",
                "accept4",
                "clone",
                "execve",
                "exit_group",
                "pipe2",
            ] {
                assert!(names.contains(&n), "{arch:?} {n}");
            }
            assert!(!names.contains(&"read") && !names.contains(&"write"));
            assert!(v.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
