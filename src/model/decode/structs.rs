//! Structures and arrays behind syscall arguments: which ones the kernel
//! side copies (one table, read by the capture plans and the decoder), and
//! how their bytes decode, per architecture where the layouts differ.
//!
//! The text form follows strace's (abbreviated structures end in `...`); the
//! structured form keeps every field.

use super::consts::{self, Bits, Names};
use super::{bits, signal, Flag, Value};
use crate::model::raw::{
    CAP_ARR, CAP_IOV, CAP_MEM, CAP_MSGHDR, LEN_RET, W_ALWAYS, W_OK, W_RET, W_RET_BYTES,
};
use crate::model::syscalls::Arch;

/// What a copied structure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stat,
    Statx,
    Statfs,
    Timespec,
    /// utimensat's two timespecs (UTIME_NOW / UTIME_OMIT).
    Utimes,
    Timeval,
    Itimerspec,
    Itimerval,
    Rlimit,
    Utsname,
    Sysinfo,
    Rusage,
    Tms,
    /// Two ints (pipe, socketpair).
    IntPair,
    /// One int shown as `[n]` (sockopt values, FIONREAD, sched_param).
    IntRef,
    /// A socklen_t read before and after the call: `[110 => 16]`.
    LenInOut,
    WaitStatus,
    Sigaction,
    Sigset,
    Iovec,
    Msghdr,
    /// recvmsg's msghdr before the call, for `msg_namelen=110 => 16`.
    MsghdrIn,
    Pollfd,
    EpollEvent,
    FdSet,
    Linger,
    /// ioctl's argument for the requests decoded here.
    Ioctl,
    /// A CPU mask (sched_getaffinity): the CPUs set.
    CpuMask,
    /// stack_t (sigaltstack).
    Stack,
    CapHeader,
    CapData,
    CloneArgs,
    /// getdents64's buffer: the entries it returned, counted.
    Dirents,
    /// ppoll's timeout read again at exit: the time left.
    TimeLeft,
    /// A sleep's remaining time (nanosleep, clock_nanosleep).
    Remainder,
}

/// One planned copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub kind: Kind,
    /// `CAP_MEM`, `CAP_ARR`, `CAP_IOV` or `CAP_MSGHDR`.
    pub cap: u8,
    /// Bytes, or bytes per element of an array.
    pub size: u16,
    /// Array count or iovec count: an argument index or `LEN_RET`.
    pub len_arg: u8,
    pub max: u8,
    pub when: u8,
    pub at_enter: bool,
}

const fn mem(kind: Kind, size: u16, when: u8) -> Spec {
    Spec {
        kind,
        cap: CAP_MEM,
        size,
        len_arg: 0,
        max: 0,
        when,
        at_enter: false,
    }
}

const fn arr(kind: Kind, size: u16, len_arg: u8, max: u8, when: u8) -> Spec {
    Spec {
        kind,
        cap: CAP_ARR,
        size,
        len_arg,
        max,
        when,
        at_enter: false,
    }
}

const fn enter(s: Spec) -> Spec {
    Spec {
        at_enter: true,
        ..s
    }
}

pub const STAT_SIZE_X86: u16 = 144;
pub const STAT_SIZE_GENERIC: u16 = 128;
const FD_SET_BYTES: u16 = 128; // FD_SETSIZE bits

/// x86_64 packs struct epoll_event (12 bytes); arm64 aligns it (16).
pub fn epoll_event_size(arch: Arch) -> u16 {
    match arch {
        Arch::X86_64 => 12,
        Arch::Aarch64 => 16,
    }
}

/// The copies planned for `sys`: (argument index, spec), at most four.
pub fn specs(arch: Arch, sys: &str) -> &'static [(usize, Spec)] {
    use Kind::*;
    macro_rules! s {
        ($($e:expr),* $(,)?) => {{
            const V: &[(usize, Spec)] = &[$($e),*];
            V
        }};
    }
    let stat_x86 = s![(1, mem(Stat, STAT_SIZE_X86, W_OK))];
    let stat_gen = s![(1, mem(Stat, STAT_SIZE_GENERIC, W_OK))];
    match (sys, arch) {
        ("stat" | "lstat" | "fstat", Arch::X86_64) => stat_x86,
        ("stat" | "lstat" | "fstat", Arch::Aarch64) => stat_gen,
        ("newfstatat" | "fstatat64", Arch::X86_64) => s![(2, mem(Stat, STAT_SIZE_X86, W_OK))],
        ("newfstatat" | "fstatat64", Arch::Aarch64) => {
            s![(2, mem(Stat, STAT_SIZE_GENERIC, W_OK))]
        }
        ("statx", _) => s![(4, mem(Statx, 256, W_OK))],
        ("statfs" | "fstatfs", _) => s![(1, mem(Statfs, 120, W_OK))],
        ("nanosleep", _) => s![
            (0, mem(Timespec, 16, W_ALWAYS)),
            (1, mem(Remainder, 16, W_ALWAYS))
        ],
        ("clock_nanosleep", _) => {
            s![
                (2, mem(Timespec, 16, W_ALWAYS)),
                (3, mem(Remainder, 16, W_ALWAYS))
            ]
        }
        ("clock_gettime" | "clock_getres", _) => s![(1, mem(Timespec, 16, W_OK))],
        ("clock_settime", _) => s![(1, mem(Timespec, 16, W_ALWAYS))],
        ("gettimeofday", _) => s![(0, mem(Timeval, 16, W_OK))],
        ("ppoll", _) => s![
            (0, arr(Pollfd, 8, 1, 32, W_ALWAYS)),
            (2, enter(mem(Timespec, 16, W_ALWAYS))),
            (2, mem(TimeLeft, 16, W_RET)),
            (3, mem(Sigset, 8, W_ALWAYS)),
        ],
        ("poll", _) => s![(0, arr(Pollfd, 8, 1, 32, W_ALWAYS))],
        ("select", _) => s![
            (1, enter(mem(FdSet, FD_SET_BYTES, W_ALWAYS))),
            (2, enter(mem(FdSet, FD_SET_BYTES, W_ALWAYS))),
            (3, enter(mem(FdSet, FD_SET_BYTES, W_ALWAYS))),
            (4, enter(mem(Timeval, 16, W_ALWAYS))),
        ],
        ("pselect6", _) => s![
            (1, enter(mem(FdSet, FD_SET_BYTES, W_ALWAYS))),
            (2, enter(mem(FdSet, FD_SET_BYTES, W_ALWAYS))),
            (3, enter(mem(FdSet, FD_SET_BYTES, W_ALWAYS))),
            (4, enter(mem(Timespec, 16, W_ALWAYS))),
        ],
        ("utimensat", _) => s![(2, mem(Utimes, 32, W_ALWAYS))],
        ("timerfd_settime" | "timer_settime", _) => {
            s![
                (2, mem(Itimerspec, 32, W_ALWAYS)),
                (3, mem(Itimerspec, 32, W_OK))
            ]
        }
        ("timerfd_gettime" | "timer_gettime", _) => s![(1, mem(Itimerspec, 32, W_OK))],
        ("setitimer", _) => s![
            (1, mem(Itimerval, 32, W_ALWAYS)),
            (2, mem(Itimerval, 32, W_OK))
        ],
        ("getitimer", _) => s![(1, mem(Itimerval, 32, W_OK))],
        ("prlimit64", _) => s![(2, mem(Rlimit, 16, W_ALWAYS)), (3, mem(Rlimit, 16, W_OK))],
        ("getrlimit", _) => s![(1, mem(Rlimit, 16, W_OK))],
        ("setrlimit", _) => s![(1, mem(Rlimit, 16, W_ALWAYS))],
        ("uname", _) => s![(0, mem(Utsname, 390, W_OK))],
        ("sysinfo", _) => s![(0, mem(Sysinfo, 112, W_OK))],
        ("getrusage", _) => s![(1, mem(Rusage, 144, W_OK))],
        ("times", _) => s![(0, mem(Tms, 32, W_ALWAYS))],
        ("wait4", _) => s![(1, mem(WaitStatus, 4, W_RET)), (3, mem(Rusage, 144, W_RET))],
        ("pipe" | "pipe2", _) => s![(0, mem(IntPair, 8, W_OK))],
        ("socketpair", _) => s![(3, mem(IntPair, 8, W_OK))],
        ("rt_sigaction", _) => s![
            (1, mem(Sigaction, 32, W_ALWAYS)),
            (2, mem(Sigaction, 32, W_OK))
        ],
        ("rt_sigprocmask", _) => s![(1, mem(Sigset, 8, W_ALWAYS)), (2, mem(Sigset, 8, W_OK))],
        ("rt_sigsuspend", _) => s![(0, mem(Sigset, 8, W_ALWAYS))],
        ("rt_sigpending", _) => s![(0, mem(Sigset, 8, W_OK))],
        ("readv" | "preadv" | "preadv2", _) => s![(1, spec_iov(W_RET))],
        ("writev" | "pwritev" | "pwritev2", _) => s![(1, spec_iov(W_ALWAYS))],
        ("sendmsg", _) => s![(1, spec_msghdr(W_ALWAYS))],
        ("recvmsg", _) => s![
            (1, enter(mem(MsghdrIn, 56, W_ALWAYS))),
            (1, spec_msghdr(W_RET))
        ],
        ("epoll_ctl", Arch::X86_64) => s![(3, mem(EpollEvent, 12, W_ALWAYS))],
        ("epoll_ctl", Arch::Aarch64) => s![(3, mem(EpollEvent, 16, W_ALWAYS))],
        ("epoll_wait" | "epoll_pwait" | "epoll_pwait2", Arch::X86_64) => {
            s![(1, arr(EpollEvent, 12, LEN_RET, 32, W_RET))]
        }
        ("epoll_wait" | "epoll_pwait" | "epoll_pwait2", Arch::Aarch64) => {
            s![(1, arr(EpollEvent, 16, LEN_RET, 32, W_RET))]
        }
        ("setsockopt", _) => s![(3, mem(IntRef, 8, W_ALWAYS))],
        ("getsockopt", _) => s![(3, mem(IntRef, 8, W_OK)), (4, mem(IntRef, 4, W_OK))],
        ("accept" | "accept4" | "getsockname" | "getpeername" | "recvfrom", _) => {
            let i = if sys == "recvfrom" { 5 } else { 2 };
            if i == 5 {
                s![
                    (5, enter(mem(LenInOut, 4, W_ALWAYS))),
                    (5, mem(LenInOut, 4, W_OK))
                ]
            } else {
                s![
                    (2, enter(mem(LenInOut, 4, W_ALWAYS))),
                    (2, mem(LenInOut, 4, W_OK))
                ]
            }
        }
        ("sched_getparam", _) => s![(1, mem(IntRef, 4, W_OK))],
        ("sched_setparam" | "sched_setscheduler", _) => {
            let i = if sys == "sched_setparam" { 1 } else { 2 };
            if i == 1 {
                s![(1, mem(IntRef, 4, W_ALWAYS))]
            } else {
                s![(2, mem(IntRef, 4, W_ALWAYS))]
            }
        }
        ("capget", _) => s![
            (0, mem(CapHeader, 8, W_ALWAYS)),
            (1, mem(CapData, 24, W_OK))
        ],
        ("capset", _) => s![
            (0, mem(CapHeader, 8, W_ALWAYS)),
            (1, mem(CapData, 24, W_ALWAYS))
        ],
        ("sched_getaffinity", _) => s![(2, arr(CpuMask, 1, LEN_RET, 128, W_RET))],
        ("sched_setaffinity", _) => s![(2, arr(CpuMask, 1, 1, 128, W_ALWAYS))],
        ("sigaltstack", _) => s![(0, mem(Stack, 24, W_ALWAYS)), (1, mem(Stack, 24, W_OK))],
        ("clone3", _) => s![(0, mem(CloneArgs, 88, W_ALWAYS))],
        // 16 bytes: termios' four flag words (TCGETS); winsize and ints fit.
        ("ioctl", _) => s![(2, mem(Ioctl, 16, W_ALWAYS))],
        // The whole returned buffer when it fits in one copy: the count of
        // entries is exact or not shown.
        ("getdents64", _) => s![(1, mem(Dirents, 4096, W_RET_BYTES))],
        _ => &[],
    }
}

const fn spec_iov(when: u8) -> Spec {
    Spec {
        kind: Kind::Iovec,
        cap: CAP_IOV,
        size: 0,
        len_arg: 2,
        max: 0,
        when,
        at_enter: false,
    }
}

const fn spec_msghdr(when: u8) -> Spec {
    Spec {
        kind: Kind::Msghdr,
        cap: CAP_MSGHDR,
        size: 0,
        len_arg: 0,
        max: 0,
        when,
        at_enter: false,
    }
}

// ---- reading ----

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn i32_at(b: &[u8], o: usize) -> Option<i32> {
    u32_at(b, o).map(|v| v as i32)
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(o..o + 8)?.try_into().ok()?))
}
fn i64_at(b: &[u8], o: usize) -> Option<i64> {
    u64_at(b, o).map(|v| v as i64)
}

fn obj<'a>(fields: Vec<(&'static str, Value<'a>)>) -> Value<'a> {
    let shown = fields.len();
    Value::Struct { fields, shown }
}

fn abbrev<'a>(fields: Vec<(&'static str, Value<'a>)>, shown: usize) -> Value<'a> {
    Value::Struct { fields, shown }
}

fn int(v: i64) -> Value<'static> {
    Value::Int(v)
}
fn uint(v: u64) -> Value<'static> {
    Value::UInt(v)
}

fn timespec(b: &[u8], o: usize, nsec: &'static str) -> Option<Value<'static>> {
    let sec = i64_at(b, o)?;
    let sub = i64_at(b, o + 8)?;
    Some(obj(vec![("tv_sec", Value::Epoch(sec)), (nsec, int(sub))]))
}

/// The part of a time strace shows as a duration (no date comment).
fn duration(b: &[u8], o: usize, nsec: &'static str) -> Option<Value<'static>> {
    let sec = i64_at(b, o)?;
    let sub = i64_at(b, o + 8)?;
    Some(obj(vec![("tv_sec", int(sec)), (nsec, int(sub))]))
}

fn makedev(major: u64, minor: u64) -> Value<'static> {
    Value::Dev { major, minor }
}

/// glibc's `gnu_dev_major`/`minor` of a 64-bit dev_t.
fn split_dev(d: u64) -> (u64, u64) {
    let major = ((d >> 32) & 0xffff_f000) | ((d >> 8) & 0x0fff);
    let minor = ((d >> 12) & 0xffff_ff00) | (d & 0xff);
    (major, minor)
}

fn is_dev(mode: u32) -> bool {
    matches!(mode & 0o170000, 0o020000 | 0o060000)
}

fn stat(arch: Arch, b: &[u8]) -> Option<Value<'static>> {
    let (dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks) = match arch {
        Arch::X86_64 => (
            u64_at(b, 0)?,
            u64_at(b, 8)?,
            u32_at(b, 24)?,
            u64_at(b, 16)?,
            u32_at(b, 28)?,
            u32_at(b, 32)?,
            u64_at(b, 40)?,
            i64_at(b, 48)?,
            i64_at(b, 56)?,
            i64_at(b, 64)?,
        ),
        Arch::Aarch64 => (
            u64_at(b, 0)?,
            u64_at(b, 8)?,
            u32_at(b, 16)?,
            u64::from(u32_at(b, 20)?),
            u32_at(b, 24)?,
            u32_at(b, 28)?,
            u64_at(b, 32)?,
            i64_at(b, 48)?,
            i64::from(i32_at(b, 56)?),
            i64_at(b, 64)?,
        ),
    };
    let t = |o: usize| -> Option<(i64, u64)> { Some((i64_at(b, o)?, u64_at(b, o + 8)?)) };
    let (a, m, c) = (t(72)?, t(88)?, t(104)?);
    let (dmaj, dmin) = split_dev(dev);
    let (rmaj, rmin) = split_dev(rdev);
    let mut f = vec![("st_mode", Value::SymMode(mode))];
    if is_dev(mode) {
        f.push(("st_rdev", makedev(rmaj, rmin)));
    } else {
        f.push(("st_size", int(size)));
    }
    let shown = 2;
    f.extend([
        ("st_dev", makedev(dmaj, dmin)),
        ("st_ino", uint(ino)),
        ("st_nlink", uint(nlink)),
        ("st_uid", uint(uid.into())),
        ("st_gid", uint(gid.into())),
        ("st_blksize", int(blksize)),
        ("st_blocks", int(blocks)),
        ("st_atime", Value::Epoch(a.0)),
        ("st_atime_nsec", uint(a.1)),
        ("st_mtime", Value::Epoch(m.0)),
        ("st_mtime_nsec", uint(m.1)),
        ("st_ctime", Value::Epoch(c.0)),
        ("st_ctime_nsec", uint(c.1)),
    ]);
    if is_dev(mode) {
        f.push(("st_size", int(size)));
    } else {
        f.push(("st_rdev", makedev(rmaj, rmin)));
    }
    Some(abbrev(f, shown))
}

const STATX_ATTRS: Bits = &[
    (0x4, "STATX_ATTR_COMPRESSED"),
    (0x10, "STATX_ATTR_IMMUTABLE"),
    (0x20, "STATX_ATTR_APPEND"),
    (0x40, "STATX_ATTR_NODUMP"),
    (0x800, "STATX_ATTR_ENCRYPTED"),
    (0x1000, "STATX_ATTR_AUTOMOUNT"),
    (0x2000, "STATX_ATTR_MOUNT_ROOT"),
    (0x100000, "STATX_ATTR_VERITY"),
    (0x200000, "STATX_ATTR_DAX"),
];

fn statx(b: &[u8]) -> Option<Value<'static>> {
    let mask = u32_at(b, 0)?;
    let t = |o: usize| -> Option<Value<'static>> {
        Some(obj(vec![
            ("tv_sec", Value::Epoch(i64_at(b, o)?)),
            ("tv_nsec", uint(u32_at(b, o + 8)?.into())),
        ]))
    };
    let f = vec![
        (
            "stx_mask",
            Value::Flags(bits(mask.into(), consts::STATX_MASK)),
        ),
        (
            "stx_attributes",
            Value::Flags(bits(u64_at(b, 8)?, STATX_ATTRS)),
        ),
        ("stx_mode", Value::SymMode(u16_at(b, 28)?.into())),
        ("stx_size", uint(u64_at(b, 40)?)),
        ("stx_blksize", uint(u32_at(b, 4)?.into())),
        ("stx_nlink", uint(u32_at(b, 16)?.into())),
        ("stx_uid", uint(u32_at(b, 20)?.into())),
        ("stx_gid", uint(u32_at(b, 24)?.into())),
        ("stx_ino", uint(u64_at(b, 32)?)),
        ("stx_blocks", uint(u64_at(b, 48)?)),
        (
            "stx_attributes_mask",
            Value::Flags(bits(u64_at(b, 56)?, STATX_ATTRS)),
        ),
        ("stx_atime", t(64)?),
        ("stx_btime", t(80)?),
        ("stx_ctime", t(96)?),
        ("stx_mtime", t(112)?),
        (
            "stx_rdev",
            makedev(u32_at(b, 128)?.into(), u32_at(b, 132)?.into()),
        ),
        (
            "stx_dev",
            makedev(u32_at(b, 136)?.into(), u32_at(b, 140)?.into()),
        ),
    ];
    Some(abbrev(f, 4))
}

const FS_MAGIC: Names = &[
    (0xef53, "EXT2_SUPER_MAGIC"),
    (0x0102_1994, "TMPFS_MAGIC"),
    (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x6265_6572, "SYSFS_MAGIC"),
    (0x6367_7270, "CGROUP2_SUPER_MAGIC"),
    (0x0027_e0eb, "CGROUP_SUPER_MAGIC"),
    (0x794c_7630, "OVERLAYFS_SUPER_MAGIC"),
    (0x5846_5342, "XFS_SUPER_MAGIC"),
    (0x9123_683e, "BTRFS_SUPER_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"),
    (0x6969, "NFS_SUPER_MAGIC"),
    (0x7371_7368, "SQUASHFS_MAGIC"),
    (0x6573_5546, "FUSE_SUPER_MAGIC"),
    (0x6462_6720, "DEBUGFS_MAGIC"),
    (0x7472_6163, "TRACEFS_MAGIC"),
    (0xcafe_4a11, "BPF_FS_MAGIC"),
    (0x7363_6673, "SECURITYFS_MAGIC"),
    (0x6e73_6673, "NSFS_MAGIC"),
    (0x1980_0202, "MQUEUE_MAGIC"),
    (0x9584_58f6, "HUGETLBFS_MAGIC"),
    (0x8584_58f6, "RAMFS_MAGIC"),
];

const ST_FLAGS: Bits = &[
    (0x20, "ST_VALID"),
    (1, "ST_RDONLY"),
    (2, "ST_NOSUID"),
    (4, "ST_NODEV"),
    (8, "ST_NOEXEC"),
    (16, "ST_SYNCHRONOUS"),
    (64, "ST_MANDLOCK"),
    (1024, "ST_NOATIME"),
    (2048, "ST_NODIRATIME"),
    (4096, "ST_RELATIME"),
    (0x2000, "ST_NOSYMFOLLOW"),
];

fn statfs(b: &[u8]) -> Option<Value<'static>> {
    let ty = i64_at(b, 0)?;
    let f_type = match consts::name_of(FS_MAGIC, ty) {
        Some(n) => Value::Sym(n),
        None => Value::Hex(ty as u64),
    };
    let fsid = obj(vec![(
        "val",
        Value::List {
            items: vec![
                Value::Hex(u32_at(b, 56)?.into()),
                Value::Hex(u32_at(b, 60)?.into()),
            ],
            more: false,
        },
    )]);
    Some(obj(vec![
        ("f_type", f_type),
        ("f_bsize", int(i64_at(b, 8)?)),
        ("f_blocks", uint(u64_at(b, 16)?)),
        ("f_bfree", uint(u64_at(b, 24)?)),
        ("f_bavail", uint(u64_at(b, 32)?)),
        ("f_files", uint(u64_at(b, 40)?)),
        ("f_ffree", uint(u64_at(b, 48)?)),
        ("f_fsid", fsid),
        ("f_namelen", int(i64_at(b, 64)?)),
        ("f_frsize", int(i64_at(b, 72)?)),
        ("f_flags", Value::Flags(bits(u64_at(b, 80)?, ST_FLAGS))),
    ]))
}

fn rlim(v: u64) -> Value<'static> {
    if v == u64::MAX {
        Value::Sym("RLIM64_INFINITY")
    } else if v > 1024 && v.is_multiple_of(1024) {
        Value::Kib(v)
    } else {
        uint(v)
    }
}

fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

fn utsname(b: &[u8]) -> Option<Value<'_>> {
    const NAMES: [&str; 6] = [
        "sysname",
        "nodename",
        "release",
        "version",
        "machine",
        "domainname",
    ];
    let mut f = Vec::new();
    for (i, n) in NAMES.iter().enumerate() {
        let field = b.get(i * 65..i * 65 + 65)?;
        f.push((
            *n,
            Value::Str {
                data: cstr(field),
                truncated: false,
            },
        ));
    }
    Some(abbrev(f, 2))
}

fn sysinfo(b: &[u8]) -> Option<Value<'static>> {
    let loads = Value::List {
        items: vec![
            uint(u64_at(b, 8)?),
            uint(u64_at(b, 16)?),
            uint(u64_at(b, 24)?),
        ],
        more: false,
    };
    Some(obj(vec![
        ("uptime", int(i64_at(b, 0)?)),
        ("loads", loads),
        ("totalram", uint(u64_at(b, 32)?)),
        ("freeram", uint(u64_at(b, 40)?)),
        ("sharedram", uint(u64_at(b, 48)?)),
        ("bufferram", uint(u64_at(b, 56)?)),
        ("totalswap", uint(u64_at(b, 64)?)),
        ("freeswap", uint(u64_at(b, 72)?)),
        ("procs", uint(u16_at(b, 80)?.into())),
        ("totalhigh", uint(u64_at(b, 88)?)),
        ("freehigh", uint(u64_at(b, 96)?)),
        ("mem_unit", uint(u32_at(b, 104)?.into())),
    ]))
}

fn rusage(b: &[u8]) -> Option<Value<'static>> {
    const REST: [&str; 14] = [
        "ru_maxrss",
        "ru_ixrss",
        "ru_idrss",
        "ru_isrss",
        "ru_minflt",
        "ru_majflt",
        "ru_nswap",
        "ru_inblock",
        "ru_oublock",
        "ru_msgsnd",
        "ru_msgrcv",
        "ru_nsignals",
        "ru_nvcsw",
        "ru_nivcsw",
    ];
    let mut f = vec![
        ("ru_utime", duration(b, 0, "tv_usec")?),
        ("ru_stime", duration(b, 16, "tv_usec")?),
    ];
    for (i, n) in REST.iter().enumerate() {
        f.push((*n, int(i64_at(b, 32 + i * 8)?)));
    }
    Some(abbrev(f, 2))
}

fn tms(b: &[u8]) -> Option<Value<'static>> {
    Some(obj(vec![
        ("tms_utime", Value::Ticks(u64_at(b, 0)?)),
        ("tms_stime", Value::Ticks(u64_at(b, 8)?)),
        ("tms_cutime", Value::Ticks(u64_at(b, 16)?)),
        ("tms_cstime", Value::Ticks(u64_at(b, 24)?)),
    ]))
}

/// Signal names without the SIG prefix, as strace writes them in sets.
fn short_sig(n: u32) -> String {
    match signal(u64::from(n)) {
        Value::Sym(s) => s.strip_prefix("SIG").unwrap_or(s).to_string(),
        _ => n.to_string(),
    }
}

/// A sigset_t of `b.len()` bytes: strace prints the complement (`~[...]`)
/// when more than half the signals are set.
pub fn sigset(b: &[u8]) -> Value<'static> {
    let mut set = Vec::new();
    let total = (b.len() * 8) as u32;
    for n in 1..=total {
        let bit = n - 1;
        if b[(bit / 8) as usize] & (1 << (bit % 8)) != 0 {
            set.push(n);
        }
    }
    let neg = set.len() as u32 > total / 2;
    let sigs: Vec<String> = if neg {
        (1..=total)
            .filter(|n| !set.contains(n))
            .map(short_sig)
            .collect()
    } else {
        set.into_iter().map(short_sig).collect()
    };
    Value::SigSet { neg, sigs }
}

const SA_FLAGS: Bits = &[
    (0x0400_0000, "SA_RESTORER"),
    (0x0800_0000, "SA_ONSTACK"),
    (0x1000_0000, "SA_RESTART"),
    (0x4000_0000, "SA_NODEFER"),
    (0x8000_0000, "SA_RESETHAND"),
    (0x0000_0004, "SA_SIGINFO"),
    (0x0000_0001, "SA_NOCLDSTOP"),
    (0x0000_0002, "SA_NOCLDWAIT"),
    (0x0000_0400, "SA_UNSUPPORTED"),
    (0x0000_0800, "SA_EXPOSE_TAGBITS"),
];

/// The kernel's struct sigaction, the same on x86_64 and arm64: handler,
/// flags, restorer, mask.
fn sigaction(b: &[u8]) -> Option<Value<'static>> {
    let handler = u64_at(b, 0)?;
    let flags = u64_at(b, 8)?;
    let restorer = u64_at(b, 16)?;
    let h = match handler {
        0 => Value::Sym("SIG_DFL"),
        1 => Value::Sym("SIG_IGN"),
        u64::MAX => Value::Sym("SIG_ERR"),
        v => Value::Hex(v),
    };
    let mut f = vec![
        ("sa_handler", h),
        ("sa_mask", sigset(b.get(24..32)?)),
        ("sa_flags", Value::Flags(bits(flags, SA_FLAGS))),
    ];
    // strace prints the restorer only when SA_RESTORER says it is there.
    if flags & 0x0400_0000 != 0 {
        f.push(("sa_restorer", super::ptr(restorer)));
    }
    Some(obj(f))
}

fn wait_status(s: i32) -> Value<'static> {
    Value::Wait(s)
}

const POLL_EVENTS: Bits = &[
    (0x1, "POLLIN"),
    (0x2, "POLLPRI"),
    (0x4, "POLLOUT"),
    (0x8, "POLLERR"),
    (0x10, "POLLHUP"),
    (0x20, "POLLNVAL"),
    (0x40, "POLLRDNORM"),
    (0x80, "POLLRDBAND"),
    (0x100, "POLLWRNORM"),
    (0x200, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (0x2000, "POLLRDHUP"),
];

pub const EPOLL_EVENTS: Bits = &[
    (0x1, "EPOLLIN"),
    (0x2, "EPOLLPRI"),
    (0x4, "EPOLLOUT"),
    (0x8, "EPOLLERR"),
    (0x10, "EPOLLHUP"),
    (0x20, "EPOLLNVAL"),
    (0x40, "EPOLLRDNORM"),
    (0x80, "EPOLLRDBAND"),
    (0x100, "EPOLLWRNORM"),
    (0x200, "EPOLLWRBAND"),
    (0x400, "EPOLLMSG"),
    (0x2000, "EPOLLRDHUP"),
    (0x1000_0000, "EPOLLEXCLUSIVE"),
    (0x2000_0000, "EPOLLWAKEUP"),
    (0x4000_0000, "EPOLLONESHOT"),
    (0x8000_0000, "EPOLLET"),
];

pub(super) fn pollfds(b: &[u8], out: bool) -> Vec<Value<'static>> {
    b.chunks_exact(8)
        .filter_map(|e| {
            let fd = i32_at(e, 0)?;
            let ev = u16_at(e, if out { 6 } else { 4 })?;
            if out && ev == 0 {
                return None;
            }
            Some(obj(vec![
                ("fd", int(fd.into())),
                (
                    if out { "revents" } else { "events" },
                    Value::Flags(bits(ev.into(), POLL_EVENTS)),
                ),
            ]))
        })
        .collect()
}

fn epoll_event(arch: Arch, e: &[u8]) -> Option<Value<'static>> {
    let events = u32_at(e, 0)?;
    let data = match arch {
        Arch::X86_64 => u64_at(e, 4)?,
        Arch::Aarch64 => u64_at(e, 8)?,
    };
    Some(obj(vec![
        ("events", Value::Flags(bits(events.into(), EPOLL_EVENTS))),
        (
            "data",
            obj(vec![("u32", uint(data & 0xffff_ffff)), ("u64", uint(data))]),
        ),
    ]))
}

/// The descriptors set in an fd_set of `nfds` bits.
fn fd_set(b: &[u8], nfds: u64) -> Value<'static> {
    let n = (nfds as usize).min(b.len() * 8);
    let items = (0..n)
        .filter(|&i| b[i / 8] & (1 << (i % 8)) != 0)
        .map(|i| int(i as i64))
        .collect();
    Value::FdList(items)
}

/// `[{iov_base=..., iov_len=...}, ...]`; `moved` is what an output call
/// returned (its elements hold that much in all), None for an input.
fn iov_list(d: &[u8], mut at: usize, moved: Option<u64>) -> Option<(Value<'_>, usize)> {
    let n = u32_at(d, at)? as usize;
    at += 4;
    let vecs = at;
    at += n * 16;
    let mut left = moved.unwrap_or(u64::MAX);
    let mut items = Vec::new();
    for k in 0..n {
        let len = u64_at(d, vecs + k * 16 + 8)?;
        let got = usize::from(u16_at(d, at)?);
        let data = d.get(at + 2..at + 2 + got)?;
        at += 2 + got;
        let holds = len.min(left);
        left -= holds;
        let b = Value::Str {
            data,
            truncated: (got as u64) < holds,
        };
        items.push(obj(vec![("iov_base", b), ("iov_len", uint(len))]));
    }
    Some((Value::List { items, more: false }, at))
}

/// Decodes a copy of argument `i` with `spec`; `data` is the exit copy
/// and `before` the one taken at enter when the spec asks for both.
#[allow(clippy::too_many_arguments)]
pub fn decode<'a>(
    arch: Arch,
    spec: &Spec,
    data: &'a [u8],
    before: Option<&'a [u8]>,
    args: &[u64; 6],
    ret: i64,
    sys: &str,
) -> Option<Value<'a>> {
    use Kind::*;
    Some(match spec.kind {
        Stat => stat(arch, data)?,
        Statx => statx(data)?,
        Statfs => statfs(data)?,
        // The time left is written only when a signal cut the sleep short.
        Remainder if ret >= 0 => return None,
        Remainder => duration(data, 0, "tv_nsec")?,
        // The argument is the timeout as given (the copy taken at enter).
        TimeLeft => duration(before?, 0, "tv_nsec")?,
        Timespec => timespec(data, 0, "tv_nsec").map(|v| match v {
            // A relative time is a duration, not a date.
            Value::Struct { fields, shown } => Value::Struct {
                fields: fields
                    .into_iter()
                    .map(|(n, v)| match v {
                        Value::Epoch(s) if !abs_time(sys, args) => (n, int(s)),
                        v => (n, v),
                    })
                    .collect(),
                shown,
            },
            v => v,
        })?,
        Utimes => {
            let one = |o: usize| -> Option<Value<'static>> {
                match i64_at(data, o + 8)? {
                    0x3fff_ffff => Some(Value::Sym("UTIME_NOW")),
                    0x3fff_fffe => Some(Value::Sym("UTIME_OMIT")),
                    _ => timespec(data, o, "tv_nsec"),
                }
            };
            Value::List {
                items: vec![one(0)?, one(16)?],
                more: false,
            }
        }
        Timeval => duration(data, 0, "tv_usec")?,
        Itimerspec => obj(vec![
            ("it_interval", duration(data, 0, "tv_nsec")?),
            ("it_value", duration(data, 16, "tv_nsec")?),
        ]),
        Itimerval => obj(vec![
            ("it_interval", duration(data, 0, "tv_usec")?),
            ("it_value", duration(data, 16, "tv_usec")?),
        ]),
        Rlimit => obj(vec![
            ("rlim_cur", rlim(u64_at(data, 0)?)),
            ("rlim_max", rlim(u64_at(data, 8)?)),
        ]),
        Utsname => utsname(data)?,
        Sysinfo => sysinfo(data)?,
        Rusage => rusage(data)?,
        Tms => tms(data)?,
        IntPair => Value::IntArray(vec![i32_at(data, 0)?.into(), i32_at(data, 4)?.into()]),
        IntRef => {
            if sys == "setsockopt" || sys == "getsockopt" {
                return sockopt(data, args, sys);
            }
            Value::IntArray(vec![i32_at(data, 0)?.into()])
        }
        LenInOut => {
            let out = i64::from(u32_at(data, 0)?);
            match before.and_then(|b| u32_at(b, 0)) {
                Some(inp) if i64::from(inp) != out => Value::InOut(inp.into(), out),
                _ => Value::IntArray(vec![out]),
            }
        }
        WaitStatus => {
            if ret == 0 {
                return None;
            }
            wait_status(i32_at(data, 0)?)
        }
        Sigaction => sigaction(data)?,
        Sigset => sigset(data.get(..8)?),
        Iovec => iov_list(data, 0, (spec.when == W_RET).then_some(ret.max(0) as u64))?.0,
        Msghdr => msghdr(data, before, ret, spec.when == W_RET)?,
        // A failed recvmsg: strace shows the name length it was given.
        MsghdrIn => obj(vec![("msg_namelen", uint(u32_at(data, 8)?.into()))]),
        Dirents => {
            let (n, whole) = dirents(data);
            if !whole || (data.len() as i64) < ret {
                return None;
            }
            Value::Dirents {
                addr: args[1],
                entries: n,
            }
        }
        Pollfd => Value::List {
            items: pollfds(data, false),
            more: (data.len() / 8) < args[1] as usize,
        },
        EpollEvent => {
            let size = usize::from(epoll_event_size(arch));
            if sys == "epoll_ctl" {
                epoll_event(arch, data)?
            } else {
                Value::List {
                    items: data
                        .chunks_exact(size)
                        .filter_map(|e| epoll_event(arch, e))
                        .collect(),
                    more: false,
                }
            }
        }
        FdSet => fd_set(data, args[0]),
        Linger => obj(vec![
            ("l_onoff", int(i32_at(data, 0)?.into())),
            ("l_linger", int(i32_at(data, 4)?.into())),
        ]),
        Ioctl => match args[1] & 0xffff_ffff {
            // FIONBIO's int goes in; the others come out.
            0x5421 => Value::IntArray(vec![i32_at(data, 0)?.into()]),
            // TIOCSWINSZ: the size goes in.
            0x5414 => winsize(data)?,
            0x5401 if ret == 0 => termios(data)?,
            0x541b if ret == 0 => Value::IntArray(vec![i32_at(data, 0)?.into()]),
            0x5413 if ret == 0 => winsize(data)?,
            _ => return None,
        },
        CapHeader => obj(vec![
            ("version", {
                let v = u32_at(data, 0)?;
                match consts::name_of(CAP_VERSIONS, v.into()) {
                    Some(n) => Value::Sym(n),
                    None => Value::Hex(v.into()),
                }
            }),
            ("pid", int(i32_at(data, 4)?.into())),
        ]),
        CapData => {
            let set = |o: usize| -> Option<u64> {
                Some(u64::from(u32_at(data, o)?) | u64::from(u32_at(data, o + 12)?) << 32)
            };
            obj(vec![
                ("effective", Value::Flags(bits(set(0)?, CAPS))),
                ("permitted", Value::Flags(bits(set(4)?, CAPS))),
                ("inheritable", Value::Flags(bits(set(8)?, CAPS))),
            ])
        }
        CloneArgs => clone_args(data)?,
        CpuMask => fd_set(data, data.len() as u64 * 8),
        Stack => {
            const SS: Bits = &[
                (1, "SS_ONSTACK"),
                (2, "SS_DISABLE"),
                (1 << 31, "SS_AUTODISARM"),
            ];
            obj(vec![
                ("ss_sp", super::ptr(u64_at(data, 0)?)),
                ("ss_flags", Value::Flags(bits(u32_at(data, 8)?.into(), SS))),
                ("ss_size", uint(u64_at(data, 16)?)),
            ])
        }
    })
}

/// Whether a timespec argument is a point in time (an absolute sleep, a
/// clock reading) rather than a duration.
fn abs_time(sys: &str, args: &[u64; 6]) -> bool {
    match sys {
        "clock_nanosleep" => args[1] & 1 != 0,
        "clock_gettime" | "clock_settime" => true,
        _ => false,
    }
}

/// setsockopt/getsockopt values: an int as `[n]`, linger as a structure,
/// anything else as its address (None).
fn sockopt<'a>(data: &'a [u8], args: &[u64; 6], sys: &str) -> Option<Value<'a>> {
    let level = args[1] as i32;
    let name = args[2] as i32;
    let len = if sys == "setsockopt" {
        args[4] as usize
    } else {
        // getsockopt's length comes back through its pointer; the value
        // decodes like setsockopt's of that length.
        data.len().min(8)
    };
    if level == 1 && name == 13 && len >= 8 {
        return Some(obj(vec![
            ("l_onoff", int(i32_at(data, 0)?.into())),
            ("l_linger", int(i32_at(data, 4)?.into())),
        ]));
    }
    if len == 4 || (sys == "getsockopt" && len >= 4) {
        return Some(Value::IntArray(vec![i32_at(data, 0)?.into()]));
    }
    None
}

const MSG_FLAGS: Bits = consts::MSG_FLAGS;

fn msghdr<'a>(d: &'a [u8], before: Option<&'a [u8]>, ret: i64, out: bool) -> Option<Value<'a>> {
    let name_ptr = u64_at(d, 0)?;
    let namelen = u32_at(d, 8)?;
    let controllen = u64_at(d, 40)?;
    let flags = u32_at(d, 48)?;
    let iovlen = u64_at(d, 24)?;
    let got = u32_at(d, 56)? as usize;
    let name = d.get(60..60 + got)?;
    let (iov, _) = iov_list(d, 60 + got, out.then_some(ret.max(0) as u64))?;
    let name_v = if name_ptr == 0 {
        Value::Null
    } else {
        match super::Sockaddr::parse(name) {
            Some(sa) if got > 0 && ret >= 0 => Value::Sockaddr(sa),
            _ => Value::Hex(name_ptr),
        }
    };
    let in_len = before.and_then(|b| u32_at(b, 8));
    let namelen_v = match in_len {
        Some(i) if i != namelen => Value::Changed(i.into(), namelen.into()),
        _ => uint(namelen.into()),
    };
    let mut f = vec![
        ("msg_name", name_v),
        ("msg_namelen", namelen_v),
        ("msg_iov", iov),
        ("msg_iovlen", uint(iovlen)),
    ];
    if controllen != 0 {
        f.push(("msg_control", Value::Hex(u64_at(d, 32)?)));
    }
    f.push(("msg_controllen", uint(controllen)));
    f.push(("msg_flags", Value::Flags(bits(flags.into(), MSG_FLAGS))));
    Some(obj(f))
}

const CAP_VERSIONS: Names = &[
    (0x1998_0330, "_LINUX_CAPABILITY_VERSION_1"),
    (0x2007_1026, "_LINUX_CAPABILITY_VERSION_2"),
    (0x2008_0522, "_LINUX_CAPABILITY_VERSION_3"),
];

/// Capability number `n` by name (`CAP_CHOWN`), as prctl takes one.
pub(super) fn cap_name(n: u64) -> Option<&'static str> {
    let bit = 1u64.checked_shl(u32::try_from(n).ok()?)?;
    CAPS.iter()
        .find(|(m, _)| *m == bit)
        .and_then(|(_, name)| name.strip_prefix("1<<"))
}

/// Capabilities as strace writes them: `1<<CAP_CHOWN|1<<CAP_KILL`.
const CAPS: Bits = &[
    (1 << 0, "1<<CAP_CHOWN"),
    (1 << 1, "1<<CAP_DAC_OVERRIDE"),
    (1 << 2, "1<<CAP_DAC_READ_SEARCH"),
    (1 << 3, "1<<CAP_FOWNER"),
    (1 << 4, "1<<CAP_FSETID"),
    (1 << 5, "1<<CAP_KILL"),
    (1 << 6, "1<<CAP_SETGID"),
    (1 << 7, "1<<CAP_SETUID"),
    (1 << 8, "1<<CAP_SETPCAP"),
    (1 << 9, "1<<CAP_LINUX_IMMUTABLE"),
    (1 << 10, "1<<CAP_NET_BIND_SERVICE"),
    (1 << 11, "1<<CAP_NET_BROADCAST"),
    (1 << 12, "1<<CAP_NET_ADMIN"),
    (1 << 13, "1<<CAP_NET_RAW"),
    (1 << 14, "1<<CAP_IPC_LOCK"),
    (1 << 15, "1<<CAP_IPC_OWNER"),
    (1 << 16, "1<<CAP_SYS_MODULE"),
    (1 << 17, "1<<CAP_SYS_RAWIO"),
    (1 << 18, "1<<CAP_SYS_CHROOT"),
    (1 << 19, "1<<CAP_SYS_PTRACE"),
    (1 << 20, "1<<CAP_SYS_PACCT"),
    (1 << 21, "1<<CAP_SYS_ADMIN"),
    (1 << 22, "1<<CAP_SYS_BOOT"),
    (1 << 23, "1<<CAP_SYS_NICE"),
    (1 << 24, "1<<CAP_SYS_RESOURCE"),
    (1 << 25, "1<<CAP_SYS_TIME"),
    (1 << 26, "1<<CAP_SYS_TTY_CONFIG"),
    (1 << 27, "1<<CAP_MKNOD"),
    (1 << 28, "1<<CAP_LEASE"),
    (1 << 29, "1<<CAP_AUDIT_WRITE"),
    (1 << 30, "1<<CAP_AUDIT_CONTROL"),
    (1 << 31, "1<<CAP_SETFCAP"),
    (1 << 32, "1<<CAP_MAC_OVERRIDE"),
    (1 << 33, "1<<CAP_MAC_ADMIN"),
    (1 << 34, "1<<CAP_SYSLOG"),
    (1 << 35, "1<<CAP_WAKE_ALARM"),
    (1 << 36, "1<<CAP_BLOCK_SUSPEND"),
    (1 << 37, "1<<CAP_AUDIT_READ"),
    (1 << 38, "1<<CAP_PERFMON"),
    (1 << 39, "1<<CAP_BPF"),
    (1 << 40, "1<<CAP_CHECKPOINT_RESTORE"),
];

/// clone3's arguments; like strace, the pointers only when the flags make
/// the kernel use them.
fn clone_args(d: &[u8]) -> Option<Value<'static>> {
    const PIDFD: u64 = 0x1000;
    const CHILD_TID: u64 = 0x0100_0000 | 0x0020_0000;
    const PARENT_TID: u64 = 0x0010_0000;
    const SETTLS: u64 = 0x0008_0000;
    let flags = u64_at(d, 0)?;
    let exit_signal = u64_at(d, 32)?;
    let mut f = vec![("flags", Value::Flags(bits(flags, consts::CLONE_FLAGS)))];
    if flags & PIDFD != 0 {
        f.push(("pidfd", super::ptr(u64_at(d, 8)?)));
    }
    if flags & CHILD_TID != 0 {
        f.push(("child_tid", super::ptr(u64_at(d, 16)?)));
    }
    if flags & PARENT_TID != 0 {
        f.push(("parent_tid", super::ptr(u64_at(d, 24)?)));
    }
    f.extend([
        ("exit_signal", signal(exit_signal)),
        ("stack", super::ptr(u64_at(d, 40)?)),
        ("stack_size", Value::Hex(u64_at(d, 48)?)),
    ]);
    if flags & SETTLS != 0 {
        f.push(("tls", super::ptr(u64_at(d, 56)?)));
    }
    Some(obj(f))
}

/// The decoded meaning of a wait status, as strace writes it.
pub fn wait_text(s: i32, out: &mut String) {
    use std::fmt::Write;
    let sig = |n: i32| match signal(n as u64) {
        Value::Sym(s) => s.to_string(),
        _ => n.to_string(),
    };
    let low = s & 0x7f;
    out.push_str("[{");
    if low == 0 {
        let _ = write!(out, "WIFEXITED(s) && WEXITSTATUS(s) == {}", (s >> 8) & 0xff);
    } else if low == 0x7f {
        let _ = write!(
            out,
            "WIFSTOPPED(s) && WSTOPSIG(s) == {}",
            sig((s >> 8) & 0xff)
        );
        if s >> 16 != 0 {
            let _ = write!(out, " && s >> 16 == {:#x}", s >> 16);
        }
    } else {
        let _ = write!(out, "WIFSIGNALED(s) && WTERMSIG(s) == {}", sig(low));
        if s & 0x80 != 0 {
            out.push_str(" && WCOREDUMP(s)");
        }
    }
    out.push_str("}]");
}

/// `struct winsize`.
fn winsize(d: &[u8]) -> Option<Value<'static>> {
    Some(obj(vec![
        ("ws_row", uint(u16_at(d, 0)?.into())),
        ("ws_col", uint(u16_at(d, 2)?.into())),
        ("ws_xpixel", uint(u16_at(d, 4)?.into())),
        ("ws_ypixel", uint(u16_at(d, 6)?.into())),
    ]))
}

/// Counts the `struct linux_dirent64` records in `d` by their lengths;
/// false when one runs past the end or is malformed.
fn dirents(d: &[u8]) -> (u64, bool) {
    let mut at = 0usize;
    let mut n = 0;
    while at < d.len() {
        match u16_at(d, at + 16) {
            Some(len) if len >= 19 && at + usize::from(len) <= d.len() => {
                at += usize::from(len);
                n += 1;
            }
            _ => return (n, false),
        }
    }
    (n, true)
}

// termios flag words, in strace's order (the same values on x86_64 and
// arm64).
const TC_IFLAGS: Bits = &[
    (0x1, "IGNBRK"),
    (0x2, "BRKINT"),
    (0x4, "IGNPAR"),
    (0x8, "PARMRK"),
    (0x10, "INPCK"),
    (0x20, "ISTRIP"),
    (0x40, "INLCR"),
    (0x80, "IGNCR"),
    (0x100, "ICRNL"),
    (0x200, "IUCLC"),
    (0x400, "IXON"),
    (0x800, "IXANY"),
    (0x1000, "IXOFF"),
    (0x2000, "IMAXBEL"),
    (0x4000, "IUTF8"),
];
const TC_OFLAGS: Bits = &[
    (0x1, "OPOST"),
    (0x2, "OLCUC"),
    (0x4, "ONLCR"),
    (0x8, "OCRNL"),
    (0x10, "ONOCR"),
    (0x20, "ONLRET"),
    (0x40, "OFILL"),
    (0x80, "OFDEL"),
];
/// The delay fields of c_oflag: (mask, names by value).
const TC_ODELAYS: &[(u32, &[&str])] = &[
    (0x100, &["NL0", "NL1"]),
    (0x600, &["CR0", "CR1", "CR2", "CR3"]),
    (0x1800, &["TAB0", "TAB1", "TAB2", "TAB3"]),
    (0x2000, &["BS0", "BS1"]),
    (0x4000, &["VT0", "VT1"]),
    (0x8000, &["FF0", "FF1"]),
];
const TC_CFLAGS: Bits = &[
    (0x40, "CSTOPB"),
    (0x80, "CREAD"),
    (0x100, "PARENB"),
    (0x200, "PARODD"),
    (0x400, "HUPCL"),
    (0x800, "CLOCAL"),
    (0x4000_0000, "CMSPAR"),
    (0x8000_0000, "CRTSCTS"),
];
const TC_LFLAGS: Bits = &[
    (0x1, "ISIG"),
    (0x2, "ICANON"),
    (0x4, "XCASE"),
    (0x8, "ECHO"),
    (0x10, "ECHOE"),
    (0x20, "ECHOK"),
    (0x40, "ECHONL"),
    (0x80, "NOFLSH"),
    (0x100, "TOSTOP"),
    (0x8000, "IEXTEN"),
    (0x200, "ECHOCTL"),
    (0x400, "ECHOPRT"),
    (0x800, "ECHOKE"),
    (0x1000, "FLUSHO"),
    (0x4000, "PENDIN"),
    (0x10000, "EXTPROC"),
];
const BAUDS: &[&str] = &[
    "B0", "B50", "B75", "B110", "B134", "B150", "B200", "B300", "B600", "B1200", "B1800", "B2400",
    "B4800", "B9600", "B19200", "B38400",
];
const BAUDS_HIGH: &[&str] = &[
    "BOTHER", "B57600", "B115200", "B230400", "B460800", "B500000", "B576000", "B921600",
    "B1000000", "B1152000", "B1500000", "B2000000", "B2500000", "B3000000", "B3500000", "B4000000",
];

fn baud(v: u32) -> &'static str {
    let i = (v & 0xf) as usize;
    if v & 0x1000 != 0 {
        BAUDS_HIGH[i]
    } else {
        BAUDS[i]
    }
}

/// `struct termios` as strace abbreviates it: the four flag words.
fn termios(d: &[u8]) -> Option<Value<'static>> {
    let (i, o, c, l) = (u32_at(d, 0)?, u32_at(d, 4)?, u32_at(d, 8)?, u32_at(d, 12)?);
    let mut of: Vec<Flag> = TC_ODELAYS
        .iter()
        .map(|(mask, names)| Flag::Name(names[((o & mask) >> mask.trailing_zeros()) as usize]))
        .collect();
    let rest = o & !TC_ODELAYS.iter().fold(0, |a, (m, _)| a | m);
    of.extend(flags_or_zero(rest, TC_OFLAGS));
    let mut cf = vec![Flag::Name(baud(c & 0x100f))];
    if c & 0x100f_0000 != 0 {
        // An input speed apart from the output speed: rare, in hex.
        cf.push(Flag::Bits(u64::from(c & 0x100f_0000)));
    }
    cf.push(Flag::Name(
        ["CS5", "CS6", "CS7", "CS8"][((c & 0x30) >> 4) as usize],
    ));
    cf.extend(flags_or_zero(c & !(0x100f | 0x100f_0000 | 0x30), TC_CFLAGS));
    Some(abbrev(
        vec![
            ("c_iflag", Value::Flags(bits(i.into(), TC_IFLAGS))),
            ("c_oflag", Value::Flags(of)),
            ("c_cflag", Value::Flags(cf)),
            ("c_lflag", Value::Flags(bits(l.into(), TC_LFLAGS))),
            ("c_line", uint(u64::from(*d.get(16).unwrap_or(&0)))),
        ],
        4,
    ))
}

/// strace writes the flags left after the named fields, or `0`.
fn flags_or_zero(v: u32, table: Bits) -> Vec<Flag> {
    let f = bits(v.into(), table);
    if f.is_empty() {
        vec![Flag::Bits(0)]
    } else {
        f
    }
}

/// ppoll's time left, read at exit.
pub(super) fn time_left(d: &[u8]) -> Option<Value<'static>> {
    duration(d, 0, "tv_nsec")
}
