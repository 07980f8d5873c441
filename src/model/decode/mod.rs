//! Typed decoding of syscall arguments: every argument becomes a [`Value`]
//! that renders either in strace's notation or as JSON, so the text line and
//! the export format cannot disagree.

pub mod consts;
pub mod sockaddr;
pub mod structs;

use std::fmt::Write;
use std::sync::OnceLock;

use super::escape;
use super::event::TraceEvent;
use super::jsonw;
use super::raw::{
    CAP_ARGV, CAP_ARR, CAP_BUF_IN, CAP_BUF_OUT, CAP_FD_PATH, CAP_IOV, CAP_MEM, CAP_MSGHDR,
    CAP_SOCKADDR, CAP_SOCKADDR_OUT, CAP_STR,
};
use super::syscalls::{self, Arch, ArgKind, ArgSpec, FlagSet, RetKind, SyscallInfo};
use consts::{Bits, Names};
pub use sockaddr::Sockaddr;

/// Longest string the kernel side copies (PATH_MAX, including the NUL).
pub const STR_MAX: usize = 4096;

/// Argument index that fd-path annotations use for the return value.
pub const RET_SLOT: u8 = 0xff;

/// One part of a flags value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    Name(&'static str),
    /// Bits no name covers, shown in hex.
    Bits(u64),
}

/// A decoded argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Int(i64),
    UInt(u64),
    /// Pointers and opaque values, in hex.
    Hex(u64),
    Null,
    /// Permission bits in octal, with file-type names where present.
    Mode(u32),
    /// A named constant (AT_FDCWD, SEEK_SET, SIGTERM).
    Sym(&'static str),
    /// `A|B|0x40`; empty means 0.
    Flags(Vec<Flag>),
    Str {
        data: &'a [u8],
        truncated: bool,
    },
    Argv {
        items: Vec<&'a [u8]>,
        truncated: bool,
    },
    Sockaddr(Sockaddr<'a>),
    /// A descriptor with what it refers to (`3</etc/passwd>`).
    Fd {
        fd: i64,
        path: &'a [u8],
    },
    /// `[1]`: an int passed by reference (setsockopt values).
    IntArray(Vec<i64>),
    /// A structure: `{name=value, ...}`. Text shows the first `shown`
    /// fields (then `...` when some are left out, as strace abbreviates);
    /// the structured form has them all.
    Struct {
        fields: Vec<(&'static str, Value<'a>)>,
        shown: usize,
    },
    /// An array: `[a, b]`, `[a, b, ...]` when cut short.
    List {
        items: Vec<Value<'a>>,
        more: bool,
    },
    /// A signal set: `[INT TERM]`, or `~[...]` for all signals but these.
    SigSet {
        neg: bool,
        sigs: Vec<String>,
    },
    /// Seconds since the epoch (a point in time).
    Epoch(i64),
    /// A device number: `makedev(0x88, 0)`.
    Dev {
        major: u64,
        minor: u64,
    },
    /// Clock ticks (times()).
    Ticks(u64),
    /// A wait status: `[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]`.
    Wait(i32),
    /// A value the call changed: `[110 => 16]`.
    InOut(i64, i64),
    /// A structure field the call changed: `110 => 16` (msg_namelen).
    Changed(i64, i64),
    /// A buffer of directory entries: `0x7ffd0 /* 3 entries */`.
    Dirents {
        addr: u64,
        entries: u64,
    },
    /// The descriptors in an fd_set: `[3 4]`.
    FdList(Vec<Value<'a>>),
    /// An argument strace names in the line: `flags=CLONE_VM`.
    Named(&'static str, Box<Value<'a>>),
    /// A file mode inside a structure: the set-id and sticky bits by name
    /// (`S_IFDIR|S_ISVTX|0777`), as strace writes st_mode.
    SymMode(u32),
    /// A size strace writes in KiB when it is a multiple: `8192*1024`.
    Kib(u64),
    /// Bytes strace always shows in hex escapes (getrandom's).
    HexBytes {
        data: &'a [u8],
        truncated: bool,
    },
}

/// A decoded argument with its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg<'a> {
    pub name: &'static str,
    pub value: Value<'a>,
}

/// Bit flags: names for every table entry whose bits are all set, in table
/// order, then the leftover bits in hex.
pub fn bits(v: u64, table: Bits) -> Vec<Flag> {
    let mut left = v;
    let mut out = Vec::new();
    for &(mask, name) in table {
        if mask != 0 && left & mask == mask {
            out.push(Flag::Name(name));
            left &= !mask;
        }
    }
    if left != 0 {
        out.push(Flag::Bits(left));
    }
    out
}

/// A named value, or (like strace's `0x63 /* SEEK_??? */`) the number in hex.
fn named(v: i64, table: Names) -> Value<'static> {
    consts::name_of(table, v).map_or(Value::Hex(u64::from(v as u32)), Value::Sym)
}

fn signal(v: u64) -> Value<'static> {
    let s = v as i32 as i64;
    match s {
        1..=31 => Value::Sym(consts::SIGNALS[s as usize]),
        32..=64 => Value::Sym(rt_signal_name(s)),
        _ => Value::Int(s),
    }
}

fn rt_signal_name(s: i64) -> &'static str {
    const RT: [&str; 33] = [
        "SIGRTMIN", "SIGRT_1", "SIGRT_2", "SIGRT_3", "SIGRT_4", "SIGRT_5", "SIGRT_6", "SIGRT_7",
        "SIGRT_8", "SIGRT_9", "SIGRT_10", "SIGRT_11", "SIGRT_12", "SIGRT_13", "SIGRT_14",
        "SIGRT_15", "SIGRT_16", "SIGRT_17", "SIGRT_18", "SIGRT_19", "SIGRT_20", "SIGRT_21",
        "SIGRT_22", "SIGRT_23", "SIGRT_24", "SIGRT_25", "SIGRT_26", "SIGRT_27", "SIGRT_28",
        "SIGRT_29", "SIGRT_30", "SIGRT_31", "SIGRT_32",
    ];
    RT[(s - 32) as usize]
}

fn open_flags(v: u64, arch: Arch) -> Vec<Flag> {
    let table = match arch {
        Arch::X86_64 => consts::OPEN_FLAGS_X86,
        Arch::Aarch64 => consts::OPEN_FLAGS_ARM64,
    };
    let acc = consts::name_of(consts::OPEN_ACCMODE, (v & 3) as i64).unwrap_or("O_RDONLY");
    let mut out = vec![Flag::Name(acc)];
    out.extend(bits(v & !3, table));
    out
}

/// Flags, and for 0 the name strace gives the empty set (if any).
fn flags_or(v: u64, table: Bits, zero: Option<&'static str>) -> Value<'static> {
    match (v, zero) {
        (0, Some(z)) => Value::Sym(z),
        _ => Value::Flags(bits(v, table)),
    }
}

/// Tables for arguments typed `Flags(Other)` or `Int`, chosen by syscall and
/// argument name: the signature tables say "flags", strace knows which.
fn by_name_table(sys: &str, arg: &str) -> Option<Table> {
    use consts::*;
    use Table::{B, N};
    Some(match (sys, arg) {
        ("send" | "sendto" | "recv" | "recvfrom" | "sendmsg" | "recvmsg", "flags")
        | ("sendmmsg" | "recvmmsg", "flags") => B(MSG_FLAGS),
        ("wait4", "options") => B(WAIT4_OPTIONS),
        ("waitid", "options") => B(WAIT_OPTIONS),
        ("waitid", "idtype") => N(P_IDTYPE),
        ("renameat2", "flags") => B(RENAME_FLAGS),
        ("memfd_create", "flags") => B(MFD_FLAGS),
        ("getrandom", "flags") => B(GRND_FLAGS),
        ("flock", "operation") => B(LOCK_OPS),
        ("close_range", "flags") => B(CLOSE_RANGE_FLAGS),
        ("msync", "flags") => B(MS_SYNC_FLAGS),
        ("mlockall", "flags") => B(MCL_FLAGS),
        ("mlock2", "flags") => B(MLOCK_FLAGS),
        ("mremap", "flags") => B(MREMAP_FLAGS),
        ("umount2", "flags") => B(UMOUNT_FLAGS),
        ("fallocate", "mode") => B(FALLOC_FLAGS),
        ("splice" | "tee" | "vmsplice", "flags") => B(SPLICE_FLAGS),
        ("mount", "mountflags") => B(MOUNT_FLAGS),
        ("setxattr" | "lsetxattr" | "fsetxattr", "flags") => B(XATTR_FLAGS),
        ("pidfd_open", "flags") => B(PIDFD_FLAGS),
        ("inotify_add_watch", "mask") => B(IN_MASK),
        ("clock_nanosleep", "flags") => B(TIMER_ABSTIME),
        ("getrlimit" | "setrlimit" | "prlimit64", "resource") => N(RLIMIT),
        ("getrusage", "who") => N(RUSAGE_WHO),
        ("getitimer" | "setitimer", "which") => N(ITIMER),
        ("getpriority" | "setpriority", "which") => N(PRIO_WHICH),
        ("sched_setscheduler", "policy")
        | ("sched_get_priority_max" | "sched_get_priority_min", "policy") => N(SCHED_POLICY),
        ("fadvise64", "advice") => N(FADV),
        ("arch_prctl", "code") => N(ARCH_PRCTL),
        ("membarrier", "cmd") => N(MEMBARRIER_CMD),
        ("seccomp", "op") => N(SECCOMP_OP),
        ("ptrace", "request") => N(PTRACE_REQ),
        ("statx", "mask") => B(STATX_MASK),
        ("preadv2" | "pwritev2", "flags") => B(RWF_FLAGS),
        ("membarrier", "flags") => B(MEMBARRIER_FLAGS),
        ("seccomp", "flags") => B(SECCOMP_FLAGS),
        ("timerfd_settime", "flags") => B(TFD_TIMER_FLAGS),
        ("timer_settime", "flags") => B(TIMER_ABSTIME),
        ("sync_file_range", "flags") => B(SYNC_FILE_RANGE_FLAGS),
        ("io_uring_enter", "flags") => B(IORING_ENTER_FLAGS),
        ("open_tree" | "open_tree_attr", "flags") => B(OPEN_TREE_FLAGS),
        ("fsopen", "flags") | ("fsmount", "flags") => B(CLOEXEC_BIT0),
        ("fspick", "flags") => B(FSPICK_FLAGS),
        ("move_mount", "flags") => B(MOVE_MOUNT_FLAGS),
        ("mbind", "flags") | ("move_pages", "flags") => B(MPOL_MF_FLAGS),
        ("get_mempolicy", "flags") => B(MPOL_F_FLAGS),
        ("finit_module", "flags") => B(MODULE_INIT_FLAGS),
        ("delete_module", "flags") => B(FD_FLAGS_DELETE_MODULE),
        ("perf_event_open", "flags") => B(PERF_FLAGS),
        ("pidfd_send_signal", "flags") => B(PIDFD_SIGNAL_FLAGS),
        ("memfd_secret", "flags") => B(FD_FLAGS),
        ("landlock_create_ruleset", "flags") => B(LANDLOCK_CREATE_FLAGS),
        ("map_shadow_stack", "flags") => B(SHADOW_STACK_FLAGS),
        ("lsm_get_self_attr" | "lsm_set_self_attr" | "lsm_list_modules", "flags") => B(LSM_FLAGS),
        // Flags the kernel requires to be 0 today: any bit shows as hex.
        (
            "process_vm_readv"
            | "process_vm_writev"
            | "pidfd_getfd"
            | "process_madvise"
            | "process_mrelease"
            | "set_mempolicy_home_node"
            | "cachestat"
            | "mseal"
            | "futex_waitv"
            | "landlock_add_rule"
            | "landlock_restrict_self"
            | "statmount"
            | "listmount"
            | "copy_file_range"
            | "sched_setattr"
            | "sched_getattr"
            | "listns",
            "flags",
        ) => B(&[]),
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum Table {
    B(Bits),
    N(Names),
}

/// `by_name_table` for argument `i` of `info`, worked out once per
/// syscall: matching names for every argument of every event was most of
/// the cost of rendering argument text (filters over `args`, the stream).
fn arg_table(arch: Arch, info: &SyscallInfo, i: usize) -> Option<Table> {
    type PerNr = Vec<[Option<Table>; 6]>;
    static TABLES: OnceLock<[PerNr; 2]> = OnceLock::new();
    let per_nr = |a: Arch| {
        let mut v: PerNr = vec![[None; 6]; syscalls::max_nr(a) as usize + 1];
        for s in syscalls::table(a) {
            for (k, spec) in s.args.iter().enumerate().take(6) {
                v[s.nr as usize][k] = by_name_table(s.name, spec.name);
            }
        }
        v
    };
    let tables = TABLES.get_or_init(|| [per_nr(Arch::X86_64), per_nr(Arch::Aarch64)]);
    let v = match arch {
        Arch::X86_64 => &tables[0],
        Arch::Aarch64 => &tables[1],
    };
    v.get(info.nr as usize)?.get(i).copied().flatten()
}

/// Flags of creation calls that take a subset of the open flags.
fn fd_flags_table(sys: &str) -> Bits {
    match sys {
        "epoll_create1" => consts::EPOLL_FLAGS,
        "eventfd2" => consts::EFD_FLAGS,
        "timerfd_create" => consts::TFD_FLAGS,
        "signalfd4" => consts::SFD_FLAGS,
        "inotify_init1" => consts::IN_FLAGS,
        "accept4" => consts::SOCK_FLAGS,
        _ => consts::FD_FLAGS,
    }
}

fn takes_open_flags(sys: &str) -> bool {
    matches!(
        sys,
        "open" | "openat" | "mq_open" | "open_by_handle_at" | "fanotify_init"
    )
}

fn flag_value(set: FlagSet, v: u64, sys: &str, arch: Arch) -> Value<'static> {
    use consts::*;
    match set {
        FlagSet::OpenFlags if takes_open_flags(sys) => Value::Flags(open_flags(v, arch)),
        FlagSet::OpenFlags => Value::Flags(bits(v, fd_flags_table(sys))),
        FlagSet::AtFlags => match sys {
            "faccessat2" => Value::Flags(bits(v, AT_FLAGS_ACCESS)),
            // The sync type lives in two bits; 0 has a name of its own.
            "statx" if v & 0x6000 == 0 => {
                let mut f = vec![Flag::Name("AT_STATX_SYNC_AS_STAT")];
                f.extend(bits(v, AT_FLAGS));
                Value::Flags(f)
            }
            _ => Value::Flags(bits(v, AT_FLAGS)),
        },
        FlagSet::AccessMode => flags_or(v, ACCESS_MODE, Some("F_OK")),
        FlagSet::MmapProt => flags_or(v, PROT, Some("PROT_NONE")),
        FlagSet::MmapFlags => {
            let mut f = match name_of(MAP_TYPE, (v & 0xf) as i64) {
                Some(n) => vec![Flag::Name(n)],
                None if v & 0xf != 0 => vec![Flag::Bits(v & 0xf)],
                None => vec![],
            };
            f.extend(bits(v & !0xf, MAP_FLAGS));
            Value::Flags(f)
        }
        FlagSet::CloneFlags if sys == "clone" => {
            // The low byte is the signal sent to the parent on exit.
            let mut f = bits(v & !0xff, CLONE_FLAGS);
            let sig = (v & 0xff) as i64;
            if sig != 0 {
                match signal(sig as u64) {
                    Value::Sym(s) => f.push(Flag::Name(s)),
                    _ => f.push(Flag::Bits(sig as u64)),
                }
            }
            Value::Flags(f)
        }
        FlagSet::CloneFlags => Value::Flags(bits(v, CLONE_FLAGS)),
        FlagSet::SocketDomain => named(v as i32 as i64, AF),
        FlagSet::SocketType => {
            let mut f = match name_of(SOCK_TYPE, (v & 0xf) as i64) {
                Some(n) => vec![Flag::Name(n)],
                None => vec![Flag::Bits(v & 0xf)],
            };
            f.extend(bits(v & !0xf, SOCK_FLAGS));
            Value::Flags(f)
        }
        FlagSet::Whence => named(v as i32 as i64, WHENCE),
        FlagSet::FcntlCmd => named(v as i32 as i64, F_CMD),
        FlagSet::FutexOp => {
            let cmd = v & !(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);
            let Some(name) = name_of(FUTEX_CMD, cmd as i64) else {
                return Value::Hex(v);
            };
            let mut f = vec![Flag::Name(name)];
            if v & FUTEX_PRIVATE != 0 {
                f[0] = Flag::Name(futex_private(name));
            }
            if v & FUTEX_CLOCK_REALTIME != 0 {
                f.push(Flag::Name("FUTEX_CLOCK_REALTIME"));
            }
            Value::Flags(f)
        }
        FlagSet::ClockId => named(v as i32 as i64, CLOCK),
        FlagSet::Madvise => named(v as i32 as i64, MADV),
        FlagSet::SigprocmaskHow => named(v as i32 as i64, SIG_HOW),
        FlagSet::PrctlOption => named(v as i32 as i64, PR),
        FlagSet::EpollCtlOp => named(v as i32 as i64, EPOLL_CTL),
        FlagSet::Ioctl => match name_of(IOCTL, (v & 0xffff_ffff) as i64) {
            Some(n) => Value::Sym(n),
            None => Value::Hex(v & 0xffff_ffff),
        },
        FlagSet::Shutdown => named(v as i32 as i64, SHUT),
        FlagSet::SockLevel => named(v as i32 as i64, SOL),
        FlagSet::Other => Value::Hex(v),
    }
}

fn futex_private(name: &'static str) -> &'static str {
    match name {
        "FUTEX_WAIT" => "FUTEX_WAIT_PRIVATE",
        "FUTEX_WAKE" => "FUTEX_WAKE_PRIVATE",
        "FUTEX_FD" => "FUTEX_FD_PRIVATE",
        "FUTEX_REQUEUE" => "FUTEX_REQUEUE_PRIVATE",
        "FUTEX_CMP_REQUEUE" => "FUTEX_CMP_REQUEUE_PRIVATE",
        "FUTEX_WAKE_OP" => "FUTEX_WAKE_OP_PRIVATE",
        "FUTEX_LOCK_PI" => "FUTEX_LOCK_PI_PRIVATE",
        "FUTEX_UNLOCK_PI" => "FUTEX_UNLOCK_PI_PRIVATE",
        "FUTEX_TRYLOCK_PI" => "FUTEX_TRYLOCK_PI_PRIVATE",
        "FUTEX_WAIT_BITSET" => "FUTEX_WAIT_BITSET_PRIVATE",
        "FUTEX_WAKE_BITSET" => "FUTEX_WAKE_BITSET_PRIVATE",
        "FUTEX_WAIT_REQUEUE_PI" => "FUTEX_WAIT_REQUEUE_PI_PRIVATE",
        "FUTEX_CMP_REQUEUE_PI" => "FUTEX_CMP_REQUEUE_PI_PRIVATE",
        "FUTEX_LOCK_PI2" => "FUTEX_LOCK_PI2_PRIVATE",
        other => other,
    }
}

pub(crate) fn ptr(v: u64) -> Value<'static> {
    if v == 0 {
        Value::Null
    } else {
        Value::Hex(v)
    }
}

fn chunk_of(ev: &TraceEvent, i: usize, kind: u8) -> Option<&[u8]> {
    ev.chunks()
        .find(|c| c.arg as usize == i && c.kind == kind)
        .map(|c| c.data)
}

/// The path an fd argument (or, with [`RET_SLOT`], the returned fd) refers
/// to, when a fd table annotated the event.
pub fn fd_path(ev: &TraceEvent, slot: u8) -> Option<&[u8]> {
    ev.chunks()
        .find(|c| c.arg == slot && c.kind == CAP_FD_PATH)
        .map(|c| c.data)
}

fn fd_value(ev: &TraceEvent, i: usize, v: u64) -> Value<'_> {
    let fd = v as i32 as i64;
    match fd_path(ev, i as u8) {
        Some(path) if fd >= 0 => Value::Fd { fd, path },
        _ => Value::Int(fd),
    }
}

/// Decodes argument `i` of `ev` according to `spec`.
fn decode_one<'a>(ev: &'a TraceEvent, info: &SyscallInfo, i: usize, spec: &ArgSpec) -> Value<'a> {
    let v = ev.args[i];
    let sys = info.name;
    if ev.has_tail() {
        if let Some(val) = struct_value(ev, info, i) {
            return val;
        }
    }
    // The end of a directory: nothing was copied, and nothing needed to be.
    if sys == "getdents64" && i == 1 && ev.ret == 0 && ev.returns() {
        return Value::Dirents {
            addr: v,
            entries: 0,
        };
    }
    if let Some(t) = arg_table(ev.arch, info, i) {
        return match t {
            Table::B(b) => Value::Flags(bits(v, b)),
            Table::N(n) => named(v as i32 as i64, n),
        };
    }
    match spec.kind {
        ArgKind::Int | ArgKind::Pid => Value::Int(v as i32 as i64),
        ArgKind::UInt | ArgKind::SockLen => Value::UInt(v & 0xffff_ffff),
        ArgKind::Hex => Value::Hex(v),
        ArgKind::Fd => fd_value(ev, i, v),
        ArgKind::DirFd if v as i32 as i64 == consts::AT_FDCWD => Value::Sym("AT_FDCWD"),
        ArgKind::DirFd => fd_value(ev, i, v),
        ArgKind::Path | ArgKind::Str => match chunk_of(ev, i, CAP_STR) {
            // The kernel copies at most STR_MAX bytes with the NUL.
            Some(data) => Value::Str {
                data,
                truncated: data.len() >= STR_MAX - 1,
            },
            None => ptr(v),
        },
        ArgKind::BufIn | ArgKind::BufOut => {
            let cap = if spec.kind == ArgKind::BufIn {
                CAP_BUF_IN
            } else {
                CAP_BUF_OUT
            };
            match chunk_of(ev, i, cap) {
                Some(data) => {
                    // What the call moved: the length argument going in, the
                    // return value coming out. Less captured = cut short.
                    let moved = if cap == CAP_BUF_OUT {
                        ev.ret.max(0) as u64
                    } else {
                        spec.len_arg.map_or(0, |l| ev.args[usize::from(l)])
                    };
                    // getcwd's length counts the NUL it copied.
                    if sys == "getcwd" {
                        return Value::Str {
                            data: data.strip_suffix(b"\0").unwrap_or(data),
                            truncated: (data.len() as u64) < moved,
                        };
                    }
                    if sys == "setsockopt" && data.len() == 4 {
                        let n = i32::from_ne_bytes([data[0], data[1], data[2], data[3]]);
                        return Value::IntArray(vec![n.into()]);
                    }
                    if sys == "getrandom" {
                        return Value::HexBytes {
                            data,
                            truncated: (data.len() as u64) < moved,
                        };
                    }
                    Value::Str {
                        data,
                        truncated: (data.len() as u64) < moved,
                    }
                }
                // Nothing read (end of file): strace shows the empty string.
                None if cap == CAP_BUF_OUT && ev.ret == 0 && v != 0 && ev.returns() => Value::Str {
                    data: &[],
                    truncated: false,
                },
                None => ptr(v),
            }
        }
        ArgKind::Ptr | ArgKind::Struct => ptr(v),
        ArgKind::Flags(set) => flag_value(set, v, sys, ev.arch),
        ArgKind::Mode => Value::Mode(v as u32),
        ArgKind::Signal => signal(v),
        ArgKind::Uid | ArgKind::Gid => {
            let id = v as u32;
            if id == u32::MAX {
                Value::Int(-1)
            } else {
                Value::UInt(id.into())
            }
        }
        ArgKind::Size => Value::UInt(v),
        ArgKind::Off => Value::Int(v as i64),
        ArgKind::Argv => match ev
            .chunks()
            .find(|c| c.kind == CAP_ARGV && c.arg as usize == i)
        {
            Some(c) => {
                let mut items: Vec<&[u8]> = c.data.split(|&b| b == 0).collect();
                // The data ends with a NUL, so the last split is empty.
                if items.last().is_some_and(|l| l.is_empty()) {
                    items.pop();
                }
                Value::Argv {
                    items,
                    truncated: ev.truncated(),
                }
            }
            None => ptr(v),
        },
        ArgKind::Sockaddr => match chunk_of(ev, i, CAP_SOCKADDR)
            .or_else(|| chunk_of(ev, i, CAP_SOCKADDR_OUT))
            .and_then(Sockaddr::parse)
        {
            Some(sa) => Value::Sockaddr(sa),
            None => ptr(v),
        },
    }
}

/// A structure copied for argument `i`, decoded; None when nothing was
/// copied (NULL, a failed call, an unreadable address): shown as the address.
fn struct_value<'a>(ev: &'a TraceEvent, info: &SyscallInfo, i: usize) -> Option<Value<'a>> {
    let mut copies = ev.chunks().filter(|c| {
        c.arg as usize == i && matches!(c.kind, CAP_MEM | CAP_ARR | CAP_IOV | CAP_MSGHDR)
    });
    let first = copies.next()?;
    let second = copies.next();
    let specs = structs::specs(ev.arch, info.name);
    let mut mine = specs.iter().filter(|(k, _)| *k == i).map(|(_, s)| s);
    let (spec, data, before) = match (second, mine.clone().count()) {
        // Copied at enter and at exit: the enter copy comes first.
        (Some(out), 2) => (mine.nth(1)?, out.data, Some(first.data)),
        // Only the enter copy of a pair: the call failed.
        (None, 2) => {
            let s = mine.next()?;
            // A failed recvmsg still shows msg_namelen (MsghdrIn decodes it).
            if s.kind == structs::Kind::LenInOut {
                return None;
            }
            (s, first.data, None)
        }
        _ => (mine.next()?, first.data, None),
    };
    structs::decode(ev.arch, spec, data, before, &ev.args, ev.ret, info.name)
}

/// How many arguments strace shows: some calls print an argument only when
/// another one makes it meaningful.
fn shown_args(ev: &TraceEvent, info: &SyscallInfo) -> usize {
    let n = info.args.len();
    let a = &ev.args;
    match info.name {
        // The mode matters only when a file may be created.
        "open" | "openat" | "mq_open" => {
            let fi = if info.name == "openat" { 2 } else { 1 };
            let tmpfile = match ev.arch {
                Arch::X86_64 => 0o20000000,
                Arch::Aarch64 => 0o20000000,
            };
            if a[fi] & (0o100 | tmpfile) != 0 {
                n
            } else {
                n - 1
            }
        }
        "fcntl" => match a[1] as i32 {
            // Getters take no argument.
            1 | 3 | 9 | 11 | 1025 | 1032 | 1034 => 2,
            _ => n,
        },
        _ => n,
    }
}

/// Per-call refinements of one argument that depend on another argument.
fn refine<'a>(ev: &'a TraceEvent, info: &SyscallInfo, i: usize, v: Value<'a>) -> Value<'a> {
    // Only third arguments are refined: no name to compare for the others.
    if i != 2 {
        return v;
    }
    let a = &ev.args;
    match (info.name, i) {
        ("fcntl", 2) => match a[1] as i32 {
            2 => Value::Flags(bits(a[2], consts::FD_CLOEXEC_FLAGS)),
            4 => Value::Flags(open_flags(a[2], ev.arch)),
            0 | 8 | 1024 | 1026 | 1030 | 1031 => Value::Int(a[2] as i32 as i64),
            10 => signal(a[2]),
            _ => ptr(a[2]),
        },
        ("socket" | "socketpair", 2) => match a[0] as i32 {
            2 | 10 => named(a[2] as i32 as i64, consts::IPPROTO),
            16 => named(a[2] as i32 as i64, consts::NETLINK_PROTO),
            _ => v,
        },
        ("setsockopt" | "getsockopt", 2) => {
            let table = match a[1] as i32 {
                1 => consts::SO,
                6 => consts::TCP_OPT,
                0 => consts::IP_OPT,
                41 => consts::IPV6_OPT,
                _ => return v,
            };
            named(a[2] as i32 as i64, table)
        }
        _ => v,
    }
}

/// Every shown argument of `ev`, decoded. Unknown syscalls show six in hex.
pub fn decode(ev: &TraceEvent) -> Vec<Arg<'_>> {
    decode_iter(ev).collect()
}

/// `decode`, one argument at a time (rendering text needs no list).
pub fn decode_iter(ev: &TraceEvent) -> impl Iterator<Item = Arg<'_>> {
    const NAMES: [&str; 6] = ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5"];
    let info = ev.syscall();
    let mut n = info.map_or(6, |info| shown_args(ev, info));
    let mut order = [0u8, 1, 2, 3, 4, 5];
    let mut label: [Option<&'static str>; 6] = [None; 6];
    if let Some(info) = info.filter(|i| i.name == "clone") {
        n = clone_order(ev, info, &mut order, &mut label);
    }
    // preadv2/pwritev2: pos_h (argument 4) is unused on 64-bit.
    if info.is_some_and(|i| matches!(i.name, "preadv2" | "pwritev2")) {
        order = [0, 1, 2, 3, 5, 5];
        n = 5;
    }
    (0..n).map(move |k| {
        let i = usize::from(order[k]);
        match info {
            None => Arg {
                name: NAMES[i],
                value: Value::Hex(ev.args[i]),
            },
            Some(info) => {
                let spec = &info.args[i];
                let value = refine(ev, info, i, decode_one(ev, info, i, spec));
                match label[k] {
                    Some(l) => Arg {
                        name: l,
                        value: Value::Named(l, Box::new(value)),
                    },
                    None => Arg {
                        name: spec.name,
                        value,
                    },
                }
            }
        }
    })
}

/// strace names clone's arguments and shows the stack first, then the
/// flags, then only the pointers the flags make the kernel use.
fn clone_order(
    ev: &TraceEvent,
    info: &SyscallInfo,
    order: &mut [u8; 6],
    label: &mut [Option<&'static str>; 6],
) -> usize {
    let idx = |name: &str| info.args.iter().position(|a| a.name == name);
    let (Some(fl), Some(st)) = (idx("flags"), idx("stack")) else {
        return info.args.len();
    };
    let flags = ev.args[fl];
    let mut want = vec![(st, "child_stack"), (fl, "flags")];
    if flags & (0x0010_0000 | 0x1000) != 0 {
        want.extend(idx("parent_tid").map(|i| (i, "parent_tid")));
    }
    if flags & (0x0100_0000 | 0x0020_0000) != 0 {
        want.extend(idx("child_tid").map(|i| (i, "child_tidptr")));
    }
    if flags & 0x0008_0000 != 0 {
        want.extend(idx("tls").map(|i| (i, "tls")));
    }
    for (k, (i, l)) in want.iter().enumerate() {
        order[k] = *i as u8;
        label[k] = Some(l);
    }
    want.len()
}

const S_IFMT: u32 = 0o170000;
const FILE_TYPES: Names = &[
    (0o140000, "S_IFSOCK"),
    (0o120000, "S_IFLNK"),
    (0o100000, "S_IFREG"),
    (0o060000, "S_IFBLK"),
    (0o040000, "S_IFDIR"),
    (0o020000, "S_IFCHR"),
    (0o010000, "S_IFIFO"),
];

fn write_mode(out: &mut String, m: u32) {
    let ty = m & S_IFMT;
    if ty != 0 {
        match consts::name_of(FILE_TYPES, ty.into()) {
            Some(n) => {
                out.push_str(n);
                out.push('|');
            }
            None => {
                let _ = write!(out, "{ty:#o}|");
            }
        }
    }
    // C's "%#03o": a leading 0, at least three digits.
    let o = format!("0{:o}", m & !S_IFMT);
    let _ = write!(out, "{o:0>3}");
}

fn write_sym_mode(out: &mut String, m: u32) {
    let ty = m & S_IFMT;
    if ty != 0 {
        match consts::name_of(FILE_TYPES, ty.into()) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{ty:#o}");
            }
        }
        out.push('|');
    }
    for (bit, name) in [
        (0o4000, "S_ISUID"),
        (0o2000, "S_ISGID"),
        (0o1000, "S_ISVTX"),
    ] {
        if m & bit != 0 {
            out.push_str(name);
            out.push('|');
        }
    }
    let o = format!("0{:o}", m & 0o777);
    let _ = write!(out, "{o:0>3}");
}

/// C's `%#x`: zero has no prefix.
fn write_hex(out: &mut String, n: u64) {
    if n == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{n:#x}");
    }
}

fn mode_string(m: u32) -> String {
    let mut s = String::new();
    write_mode(&mut s, m);
    s
}

impl Value<'_> {
    /// Appends the value in strace's notation.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::UInt(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Hex(n) => write_hex(out, *n),
            Value::Null => out.push_str("NULL"),
            Value::Mode(m) => write_mode(out, *m),
            Value::Sym(s) => out.push_str(s),
            Value::Flags(f) if f.is_empty() => out.push('0'),
            Value::Flags(f) => {
                for (k, part) in f.iter().enumerate() {
                    if k > 0 {
                        out.push('|');
                    }
                    match part {
                        Flag::Name(n) => out.push_str(n),
                        Flag::Bits(b) => write_hex(out, *b),
                    }
                }
            }
            Value::Str { data, truncated } => escape::quoted_into(out, data, STR_MAX, *truncated),
            Value::Argv { items, truncated } => {
                out.push('[');
                for (k, it) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    escape::quoted_into(out, it, STR_MAX, false);
                }
                if *truncated {
                    out.push_str(if items.is_empty() { "..." } else { ", ..." });
                }
                out.push(']');
            }
            Value::Sockaddr(sa) => sa.write(out),
            Value::Fd { fd, path } => {
                let _ = write!(out, "{fd}<");
                // strace -y leaves the path unquoted; escape what is hostile.
                escape::plain_into(out, path, STR_MAX);
                out.push('>');
            }
            Value::IntArray(v) => {
                out.push('[');
                for (k, n) in v.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{n}");
                }
                out.push(']');
            }
            Value::Struct { fields, shown } => {
                out.push('{');
                for (k, (name, v)) in fields.iter().take(*shown).enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push('=');
                    v.write(out);
                }
                if *shown < fields.len() {
                    out.push_str(if *shown == 0 { "..." } else { ", ..." });
                }
                out.push('}');
            }
            Value::List { items, more } => {
                out.push('[');
                for (k, v) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    v.write(out);
                }
                if *more {
                    out.push_str(if items.is_empty() { "..." } else { ", ..." });
                }
                out.push(']');
            }
            Value::SigSet { neg, sigs } => {
                if *neg {
                    out.push('~');
                }
                out.push('[');
                for (k, s) in sigs.iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    out.push_str(s);
                }
                out.push(']');
            }
            Value::Epoch(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Ticks(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Dev { major, minor } => {
                out.push_str("makedev(");
                write_hex(out, *major);
                out.push_str(", ");
                write_hex(out, *minor);
                out.push(')');
            }
            Value::Wait(s) => structs::wait_text(*s, out),
            Value::InOut(a, b) => {
                let _ = write!(out, "[{a} => {b}]");
            }
            Value::Changed(a, b) => {
                let _ = write!(out, "{a} => {b}");
            }
            Value::Dirents { addr, entries } => {
                write_hex(out, *addr);
                let _ = write!(out, " /* {entries} entries */");
            }
            Value::Kib(n) => {
                let _ = write!(out, "{}*1024", n / 1024);
            }
            Value::SymMode(m) => {
                write_sym_mode(out, *m);
            }
            Value::Named(n, v) => {
                out.push_str(n);
                out.push('=');
                v.write(out);
            }
            Value::HexBytes { data, truncated } => {
                out.push('"');
                for b in data.iter() {
                    let _ = write!(out, "\\x{b:02x}");
                }
                out.push('"');
                if *truncated {
                    out.push_str("...");
                }
            }
            Value::FdList(v) => {
                out.push('[');
                for (k, n) in v.iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    n.write(out);
                }
                out.push(']');
            }
        }
    }

    /// A wait status as an object: `{"exited": 3}`, `{"signaled": "SIGKILL",
    /// "core_dumped": true}`, `{"stopped": "SIGSTOP"}`.
    fn wait_json(s: i32) -> serde_json::Value {
        use serde_json::json;
        let sig = |n: i32| match signal(n as u64) {
            Value::Sym(s) => json!(s),
            _ => json!(n),
        };
        match s & 0x7f {
            0 => json!({"exited": (s >> 8) & 0xff}),
            0x7f => json!({"stopped": sig((s >> 8) & 0xff)}),
            low => json!({"core_dumped": s & 0x80 != 0, "signaled": sig(low)}),
        }
    }

    /// The structured form for the export format.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::{json, Value as J};
        match self {
            Value::Int(n) => json!(n),
            Value::UInt(n) => json!(n),
            Value::Hex(n) => J::String(format!("{n:#x}")),
            Value::Null => J::Null,
            Value::Mode(m) => J::String(mode_string(*m)),
            Value::Sym(s) => J::String((*s).to_string()),
            Value::Flags(f) => J::Array(
                f.iter()
                    .map(|p| match p {
                        Flag::Name(n) => J::String((*n).to_string()),
                        Flag::Bits(b) => J::String(format!("{b:#x}")),
                    })
                    .collect(),
            ),
            Value::Str { data, truncated } => {
                let s = json_bytes(data);
                if *truncated {
                    json!({"data": s, "truncated": true})
                } else {
                    J::String(s)
                }
            }
            Value::Argv { items, truncated } => {
                let list: Vec<J> = items.iter().map(|i| J::String(json_bytes(i))).collect();
                if *truncated {
                    json!({"items": list, "truncated": true})
                } else {
                    J::Array(list)
                }
            }
            Value::Sockaddr(sa) => sa.json(),
            Value::Fd { fd, path } => json!({"fd": fd, "path": json_bytes(path)}),
            Value::IntArray(v) => json!(v),
            Value::Struct { fields, .. } => J::Object(
                fields
                    .iter()
                    .map(|(n, v)| ((*n).to_string(), v.json()))
                    .collect(),
            ),
            Value::List { items, more } => {
                let list: Vec<J> = items.iter().map(Value::json).collect();
                if *more {
                    json!({"items": list, "truncated": true})
                } else {
                    J::Array(list)
                }
            }
            Value::SigSet { neg, sigs } => {
                if *neg {
                    json!({ "all_but": sigs })
                } else {
                    json!(sigs)
                }
            }
            Value::Epoch(n) => json!(n),
            Value::Ticks(n) => json!(n),
            Value::Dev { major, minor } => json!({"major": major, "minor": minor}),
            Value::Wait(s) => Value::wait_json(*s),
            Value::InOut(a, b) | Value::Changed(a, b) => json!({"in": a, "out": b}),
            Value::Dirents { addr, entries } => {
                json!({"address": format!("{addr:#x}"), "entries": entries})
            }
            Value::FdList(v) => J::Array(v.iter().map(Value::json).collect()),
            Value::Named(_, v) => v.json(),
            Value::Kib(n) => json!(n),
            Value::SymMode(m) => J::String(mode_string(*m)),
            Value::HexBytes { data, truncated } => Value::Str {
                data,
                truncated: *truncated,
            }
            .json(),
        }
    }

    /// `json()` written straight into `out`: the same bytes serde_json
    /// writes for it (objects with their keys sorted, as its `Map` keeps
    /// them), without building the `serde_json::Value`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(n) => jsonw::int(out, *n),
            Value::UInt(n) => jsonw::uint(out, *n),
            Value::Hex(n) => jsonw::hex_str(out, *n),
            Value::Null => out.extend_from_slice(b"null"),
            Value::Mode(m) => jsonw::str(out, &mode_string(*m)),
            Value::Sym(s) => jsonw::str(out, s),
            Value::Flags(f) => jsonw::list(out, f, |out, p| match p {
                Flag::Name(n) => jsonw::str(out, n),
                Flag::Bits(b) => jsonw::hex_str(out, *b),
            }),
            Value::Str { data, truncated } => {
                if *truncated {
                    out.extend_from_slice(b"{\"data\":");
                    jsonw::bytes_str(out, data);
                    out.extend_from_slice(b",\"truncated\":true}");
                } else {
                    jsonw::bytes_str(out, data);
                }
            }
            Value::Argv { items, truncated } => {
                if *truncated {
                    out.extend_from_slice(b"{\"items\":");
                }
                jsonw::list(out, items, |out, i| jsonw::bytes_str(out, i));
                if *truncated {
                    out.extend_from_slice(b",\"truncated\":true}");
                }
            }
            Value::Sockaddr(sa) => sa.write_json(out),
            Value::Fd { fd, path } => {
                out.extend_from_slice(b"{\"fd\":");
                jsonw::int(out, *fd);
                out.extend_from_slice(b",\"path\":");
                jsonw::bytes_str(out, path);
                out.push(b'}');
            }
            Value::IntArray(v) => jsonw::list(out, v, |out, n| jsonw::int(out, *n)),
            Value::Struct { fields, .. } => {
                // Keys sorted, as serde_json's Map keeps them.
                let mut f: Vec<&(&str, Value)> = fields.iter().collect();
                f.sort_by_key(|(n, _)| *n);
                out.push(b'{');
                for (k, (n, v)) in f.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    jsonw::str(out, n);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
            Value::List { items, more } => {
                if *more {
                    out.extend_from_slice(b"{\"items\":");
                }
                jsonw::list(out, items, |out, v| v.write_json(out));
                if *more {
                    out.extend_from_slice(b",\"truncated\":true}");
                }
            }
            Value::FdList(v) => jsonw::list(out, v, |out, v| v.write_json(out)),
            Value::Named(_, v) => v.write_json(out),
            Value::Kib(n) => jsonw::uint(out, *n),
            Value::SymMode(m) => jsonw::str(out, &mode_string(*m)),
            Value::HexBytes { data, truncated } => Value::Str {
                data,
                truncated: *truncated,
            }
            .write_json(out),
            Value::Epoch(n) => jsonw::int(out, *n),
            Value::Ticks(n) => jsonw::uint(out, *n),
            // Rare: through serde_json, which gives the same bytes.
            Value::SigSet { .. }
            | Value::Dev { .. }
            | Value::Wait(_)
            | Value::InOut(..)
            | Value::Changed(..)
            | Value::Dirents { .. } => {
                out.extend_from_slice(self.json().to_string().as_bytes());
            }
        }
    }

    /// True for values shown as bare numbers or hex with no decoding.
    pub fn is_raw(&self) -> bool {
        matches!(self, Value::Hex(_))
    }
}

/// Bytes from a traced process as a JSON string: UTF-8 as is (JSON escapes
/// control characters itself), anything else in strace's escaped form.
pub fn json_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => escape::plain(b, usize::MAX),
    }
}

/// The return value in strace's notation (without the errno text).
pub fn format_return(ev: &TraceEvent) -> String {
    if !ev.returns() {
        return "?".to_string();
    }
    if let Some(e) = ev.errno() {
        // Kernel-internal restart codes never reach the program: strace
        // writes `?` for the value.
        let v = if matches!(e, 512..=514 | 516) {
            "?"
        } else {
            "-1"
        };
        return format!("{v} {}", super::errno::name(e).unwrap_or("E?"));
    }
    let kind = ev.syscall().map_or(RetKind::Int, |s| s.returns);
    let mut s = match (kind, ev.name().as_ref()) {
        (RetKind::Ptr, _) => format!("{:#x}", ev.ret),
        // The previous mask, in octal like the argument.
        (_, "umask") => mode_string(ev.ret as u32),
        // Flag getters: the value in hex with its names, as strace does.
        (_, "fcntl") if ev.args[1] == 1 || ev.args[1] == 3 => {
            let flags = if ev.args[1] == 1 {
                Value::Flags(bits(ev.ret as u64, consts::FD_CLOEXEC_FLAGS))
            } else {
                Value::Flags(open_flags(ev.ret as u64, ev.arch))
            };
            let mut t = String::new();
            write_hex(&mut t, ev.ret as u64);
            if ev.ret != 0 {
                t.push_str(" (flags ");
                flags.write(&mut t);
                t.push(')');
            }
            t
        }
        _ => ev.ret.to_string(),
    };
    if let Some(d) = poll_decoration(ev) {
        s.push_str(&d);
    }
    // fcntl's F_DUPFD / F_DUPFD_CLOEXEC return a descriptor too.
    let dupfd = ev.name() == "fcntl" && (ev.args[1] == 0 || ev.args[1] == 1030);
    if kind == RetKind::Fd || dupfd {
        if let Some(p) = fd_path(ev, RET_SLOT) {
            s.push('<');
            s.push_str(&escape::plain(p, STR_MAX));
            s.push('>');
        }
    }
    s
}

/// What strace adds after a poll's value: `(Timeout)`, or the descriptors
/// that are ready and, for ppoll, the time left: `([{fd=3,
/// revents=POLLIN}], left {tv_sec=0, tv_nsec=0})`. select's ready sets
/// would need its three fd_sets copied again at exit: not shown.
fn poll_decoration(ev: &TraceEvent) -> Option<String> {
    let name = ev.name();
    let poll = matches!(name.as_ref(), "poll" | "ppoll");
    if !poll && !matches!(name.as_ref(), "select" | "pselect6") {
        return None;
    }
    if ev.ret == 0 {
        return Some(" (Timeout)".to_string());
    }
    if !poll || ev.ret < 0 {
        return None;
    }
    let fds = chunk_of(ev, 0, CAP_ARR)?;
    let mut out = String::from(" (");
    Value::List {
        items: structs::pollfds(fds, true),
        more: false,
    }
    .write(&mut out);
    // ppoll's timeout: copied at enter, then again at exit (the time left).
    let mut times = ev.chunks().filter(|c| c.arg == 2 && c.kind == CAP_MEM);
    if let (Some(_), Some(left)) = (times.next(), times.next()) {
        if let Some(v) = structs::time_left(left.data) {
            out.push_str(", left ");
            v.write(&mut out);
        }
    }
    out.push(')');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::raw::{Chunk, F_TRUNCATED};
    use crate::model::raw::{CAP_ARR, CAP_IOV, CAP_MEM};
    use crate::model::testing::EventBuilder;

    /// A crafted event for syscall `name` on `arch`.
    fn ev_on(arch: Arch, name: &str, ret: i64, args: &[u64], chunks: &[Chunk<'_>]) -> TraceEvent {
        EventBuilder::named(name)
            .arch(arch)
            .ret(ret)
            .args(args)
            .chunks(chunks)
            .build()
    }

    fn evc(name: &str, ret: i64, args: &[u64], chunks: &[Chunk<'_>]) -> TraceEvent {
        ev_on(Arch::X86_64, name, ret, args, chunks)
    }

    fn ev(name: &str, ret: i64, args: &[u64]) -> TraceEvent {
        evc(name, ret, args, &[])
    }

    fn line(e: &TraceEvent) -> String {
        let mut s = format!("{}(", e.name());
        for (i, a) in decode(e).iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            a.value.write(&mut s);
        }
        s.push_str(") = ");
        s.push_str(&format_return(e));
        s
    }

    fn c(arg: u8, kind: u8, data: &[u8]) -> Chunk<'_> {
        Chunk { arg, kind, data }
    }

    const M1: u64 = u64::MAX; // -1 as a register value

    #[test]
    fn files() {
        let p = [c(1, CAP_STR, b"/etc/passwd")];
        assert_eq!(
            line(&evc(
                "openat",
                3,
                &[(-100i64) as u64, 1, 0o2000000 | 0o4000, 0],
                &p
            )),
            r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 3"#
        );
        assert_eq!(
            line(&evc("openat", 3, &[5, 1, 0o1101, 0o644], &p)),
            r#"openat(5, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3"#
        );
        // Unknown bits survive as hex; the tmpfile combination keeps its name.
        assert_eq!(
            line(&evc(
                "openat",
                -22,
                &[M1, 1, 0x4000_0000 | 0o20200002, 0o600],
                &p
            )),
            r#"openat(-1, "/etc/passwd", O_RDWR|O_TMPFILE|0x40000000, 0600) = -1 EINVAL"#
        );
        // arm64 numbers O_DIRECTORY differently.
        assert_eq!(
            line(&ev_on(Arch::Aarch64, "openat", 3, &[M1, 1, 0o40000, 0], &p)),
            r#"openat(-1, "/etc/passwd", O_RDONLY|O_DIRECTORY) = 3"#
        );
        assert_eq!(
            line(&evc(
                "newfstatat",
                0,
                &[3, 1, 0x7ffc, 0x1000],
                &[c(1, CAP_STR, b"")]
            )),
            r#"newfstatat(3, "", 0x7ffc, AT_EMPTY_PATH) = 0"#
        );
        assert_eq!(
            line(&evc(
                "unlinkat",
                0,
                &[M1 - 99, 1, 0x200],
                &[c(1, CAP_STR, b"d")]
            )),
            r#"unlinkat(AT_FDCWD, "d", AT_REMOVEDIR) = 0"#
        );
        assert_eq!(
            line(&evc(
                "faccessat2",
                0,
                &[M1 - 99, 1, 4 | 1, 0x200],
                &[c(1, CAP_STR, b"x")]
            )),
            r#"faccessat2(AT_FDCWD, "x", R_OK|X_OK, AT_EACCESS) = 0"#
        );
        assert_eq!(
            line(&evc("access", -2, &[1, 0], &[c(0, CAP_STR, b"x")])),
            r#"access("x", F_OK) = -1 ENOENT"#
        );
        assert_eq!(
            line(&evc(
                "statx",
                0,
                &[3, 1, 0x1000, 0xfff, 0x10],
                &[c(1, CAP_STR, b"")]
            )),
            r#"statx(3, "", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH, STATX_ALL, 0x10) = 0"#
        );
        assert_eq!(
            line(&ev("lseek", 10, &[3, 10, 0])),
            "lseek(3, 10, SEEK_SET) = 10"
        );
        assert_eq!(
            line(&ev("lseek", 0, &[3, M1, 2])),
            "lseek(3, -1, SEEK_END) = 0"
        );
        assert_eq!(line(&ev("umask", 0o22, &[0o77])), "umask(077) = 022");
        assert_eq!(
            line(&ev("lseek", -22, &[0, 0, 99])),
            "lseek(0, 0, 0x63) = -1 EINVAL"
        );
        assert_eq!(line(&ev("fchmod", 0, &[3, 0o4755])), "fchmod(3, 04755) = 0");
        assert_eq!(line(&ev("fchmod", 0, &[3, 0])), "fchmod(3, 000) = 0");
        assert_eq!(
            line(&evc(
                "mknodat",
                0,
                &[3, 1, 0o10644, 0],
                &[c(1, CAP_STR, b"f")]
            )),
            r#"mknodat(3, "f", S_IFIFO|0644, 0) = 0"#
        );
        assert_eq!(
            line(&ev("dup3", 4, &[3, 4, 0o2000000])),
            "dup3(3, 4, O_CLOEXEC) = 4"
        );
        assert_eq!(line(&ev("pipe2", 0, &[0x7ff0, 0])), "pipe2(0x7ff0, 0) = 0");
        assert_eq!(
            line(&evc(
                "renameat2",
                0,
                &[M1 - 99, 1, M1 - 99, 3, 1],
                &[c(1, CAP_STR, b"a"), c(3, CAP_STR, b"b")]
            )),
            r#"renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE) = 0"#
        );
        assert_eq!(
            line(&ev("flock", 0, &[3, 2 | 4])),
            "flock(3, LOCK_EX|LOCK_NB) = 0"
        );
    }

    #[test]
    fn fcntl_and_ioctl() {
        assert_eq!(
            line(&ev("fcntl", 1, &[3, 1, 0x55])),
            "fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)"
        );
        assert_eq!(
            line(&ev("fcntl", 0x8800, &[3, 3])),
            "fcntl(3, F_GETFL) = 0x8800 (flags O_RDONLY|O_NONBLOCK|O_LARGEFILE)"
        );
        assert_eq!(line(&ev("fcntl", 0, &[3, 1])), "fcntl(3, F_GETFD) = 0");
        assert_eq!(
            line(&ev("fcntl", 0, &[3, 2, 1])),
            "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"
        );
        assert_eq!(
            line(&ev("fcntl", 0, &[3, 4, 0o4002])),
            "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0"
        );
        assert_eq!(
            line(&ev("fcntl", 10, &[3, 1030, 10])),
            "fcntl(3, F_DUPFD_CLOEXEC, 10) = 10"
        );
        assert_eq!(
            line(&ev("ioctl", -25, &[1, 0x5401, 0x7ffc])),
            "ioctl(1, TCGETS, 0x7ffc) = -1 ENOTTY"
        );
        assert_eq!(
            line(&ev("ioctl", 0, &[1, 0x1234_5678, 0])),
            "ioctl(1, 0x12345678, 0) = 0"
        );
    }

    #[test]
    fn buffers_and_truncation() {
        let e = evc(
            "read",
            832,
            &[3, 0x7ff0, 832],
            &[c(1, CAP_BUF_OUT, b"\x7fELF\x02\n")],
        );
        assert_eq!(line(&e), r#"read(3, "\x7fELF\x02\n"..., 832) = 832"#);
        let e = evc("write", 6, &[1, 0x7ff0, 6], &[c(1, CAP_BUF_IN, b"hello\n")]);
        assert_eq!(line(&e), r#"write(1, "hello\n", 6) = 6"#);
        // Nothing read: the buffer is only an address.
        assert_eq!(
            line(&ev("read", -9, &[9, 0x7ff0, 8])),
            "read(9, 0x7ff0, 8) = -1 EBADF"
        );
        let j = decode(&evc("read", 832, &[3, 1, 832], &[c(1, CAP_BUF_OUT, b"ab")]))[1]
            .value
            .json();
        assert_eq!(j, serde_json::json!({"data": "ab", "truncated": true}));
        // Invalid UTF-8 is escaped in JSON too.
        assert_eq!(json_bytes(b"a\xffb"), "a\\xffb");
    }

    #[test]
    fn memory() {
        assert_eq!(
            line(&ev("mmap", 0x7f00_0000_0000, &[0, 8192, 3, 0x22, M1, 0])),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000"
        );
        assert_eq!(
            line(&ev("mmap", 0x7f00_0000_0000, &[0x7f00_0000_0000, 4096, 5, 0x812, 3, 0x26000])),
            "mmap(0x7f0000000000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f0000000000"
        );
        assert_eq!(
            line(&ev("mprotect", 0, &[0x1000, 4096, 0])),
            "mprotect(0x1000, 4096, PROT_NONE) = 0"
        );
        assert_eq!(
            line(&ev("brk", 0x55d0_0000, &[0])),
            "brk(NULL) = 0x55d00000"
        );
        assert_eq!(
            line(&ev("madvise", 0, &[0x1000, 4096, 4])),
            "madvise(0x1000, 4096, MADV_DONTNEED) = 0"
        );
        assert_eq!(
            line(&ev("munmap", 0, &[0x1000, 4096])),
            "munmap(0x1000, 4096) = 0"
        );
    }

    fn stat_bytes(arch: Arch, mode: u32, size: i64, rdev: u64) -> Vec<u8> {
        let mut b = vec![0u8; if arch == Arch::X86_64 { 144 } else { 128 }];
        let (mode_at, rdev_at) = match arch {
            Arch::X86_64 => (24, 40),
            Arch::Aarch64 => (16, 32),
        };
        b[mode_at..mode_at + 4].copy_from_slice(&mode.to_ne_bytes());
        b[rdev_at..rdev_at + 8].copy_from_slice(&rdev.to_ne_bytes());
        b[48..56].copy_from_slice(&size.to_ne_bytes());
        b
    }

    #[test]
    fn stat_per_arch_layout() {
        for arch in Arch::ALL {
            let reg = stat_bytes(arch, 0o100644, 2996, 0);
            let p = c(1, CAP_STR, b"/etc/passwd");
            let e = ev_on(
                arch,
                "newfstatat",
                0,
                &[M1 - 99, 1, 0x7f00, 0],
                &[p, c(2, CAP_MEM, &reg)],
            );
            assert_eq!(
                line(&e),
                r#"newfstatat(AT_FDCWD, "/etc/passwd", {st_mode=S_IFREG|0644, st_size=2996, ...}, 0) = 0"#,
                "{arch:?}"
            );
            // Devices show their number instead of a size.
            let chr = stat_bytes(arch, 0o20666, 0, (1 << 8) | 3);
            let e = ev_on(arch, "fstat", 0, &[0, 0x7f00], &[c(1, CAP_MEM, &chr)]);
            assert_eq!(
                line(&e),
                "fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0"
            );
        }
        // Inside a structure the sticky and set-id bits have names.
        let tmp = stat_bytes(Arch::X86_64, 0o41777, 4096, 0);
        let e = evc("fstat", 0, &[3, 0x7f00], &[c(1, CAP_MEM, &tmp)]);
        assert_eq!(
            line(&e),
            "fstat(3, {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}) = 0"
        );
        // A failed call copies nothing: the address, as strace shows it.
        let e = evc(
            "newfstatat",
            -2,
            &[M1 - 99, 1, 0x7f00, 0],
            &[c(1, CAP_STR, b"x")],
        );
        assert_eq!(
            line(&e),
            r#"newfstatat(AT_FDCWD, "x", 0x7f00, 0) = -1 ENOENT"#
        );
    }

    #[test]
    fn epoll_event_packing_per_arch() {
        // x86_64: events then data at offset 4 (packed); arm64: data at 8.
        let mut x86 = vec![0u8; 12];
        x86[0..4].copy_from_slice(&0x8000_0001u32.to_ne_bytes());
        x86[4..12].copy_from_slice(&3u64.to_ne_bytes());
        let mut arm = vec![0u8; 16];
        arm[0..4].copy_from_slice(&0x8000_0001u32.to_ne_bytes());
        arm[8..16].copy_from_slice(&3u64.to_ne_bytes());
        for (arch, b) in [(Arch::X86_64, x86), (Arch::Aarch64, arm)] {
            let e = ev_on(
                arch,
                "epoll_ctl",
                0,
                &[5, 1, 3, 0x7f00],
                &[c(3, CAP_MEM, &b)],
            );
            assert_eq!(
                line(&e),
                "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}) = 0"
            );
            let e = ev_on(
                arch,
                "epoll_pwait",
                1,
                &[5, 0x7f00, 8, 10, 0, 8],
                &[c(1, CAP_ARR, &b)],
            );
            assert_eq!(
                line(&e),
                "epoll_pwait(5, [{events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}], 8, 10, NULL, 8) = 1"
            );
        }
    }

    #[test]
    fn signals_actions_and_sets() {
        let mut act = vec![0u8; 32];
        act[0..8].copy_from_slice(&0x5555_0000u64.to_ne_bytes());
        act[8..16].copy_from_slice(&0x1400_0000u64.to_ne_bytes());
        act[16..24].copy_from_slice(&0x7f00_1000u64.to_ne_bytes());
        act[24..32].copy_from_slice(&((1u64 << 1) | (1 << 14)).to_ne_bytes());
        let old = vec![0u8; 32];
        // The kernel's struct sigaction is laid out alike on both arches.
        for arch in Arch::ALL {
            let e = ev_on(
                arch,
                "rt_sigaction",
                0,
                &[17, 0x10, 0x20, 8],
                &[c(1, CAP_MEM, &act), c(2, CAP_MEM, &old)],
            );
            assert_eq!(
                line(&e),
                "rt_sigaction(SIGCHLD, {sa_handler=0x55550000, sa_mask=[INT TERM], \
                 sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f001000}, \
                 {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0"
            );
        }
        // More than half set: the complement, as strace writes it.
        let all_but = (!(1u64 << 31) & !(1u64 << 32)).to_ne_bytes();
        let e = evc(
            "rt_sigprocmask",
            0,
            &[0, 0x10, 0, 8],
            &[c(1, CAP_MEM, &all_but)],
        );
        assert_eq!(
            line(&e),
            "rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], NULL, 8) = 0"
        );
    }

    #[test]
    fn wait_status_rlimits_pipes_and_vectors() {
        let st = (3i32 << 8).to_ne_bytes();
        let e = evc("wait4", 42, &[M1, 0x10, 0, 0], &[c(1, CAP_MEM, &st)]);
        assert_eq!(
            line(&e),
            "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 42"
        );
        let kill = 9i32.to_ne_bytes();
        let e = evc("wait4", 42, &[M1, 0x10, 0, 0], &[c(1, CAP_MEM, &kill)]);
        assert_eq!(
            line(&e),
            "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 42"
        );
        let mut rl = (8192u64 * 1024).to_ne_bytes().to_vec();
        rl.extend_from_slice(&u64::MAX.to_ne_bytes());
        let e = evc("prlimit64", 0, &[0, 3, 0, 0x10], &[c(3, CAP_MEM, &rl)]);
        assert_eq!(
            line(&e),
            "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0"
        );
        let fds = [3i32.to_ne_bytes(), 4i32.to_ne_bytes()].concat();
        let e = evc("pipe2", 0, &[0x10, 0o2000000], &[c(0, CAP_MEM, &fds)]);
        assert_eq!(line(&e), "pipe2([3, 4], O_CLOEXEC) = 0");
        // iovec: [u32 n][n iovecs][u16 len, bytes]...
        let mut iov = 2u32.to_ne_bytes().to_vec();
        for (base, len) in [(0x100u64, 2u64), (0x200, 10)] {
            iov.extend_from_slice(&base.to_ne_bytes());
            iov.extend_from_slice(&len.to_ne_bytes());
        }
        iov.extend_from_slice(&2u16.to_ne_bytes());
        iov.extend_from_slice(b"ab");
        iov.extend_from_slice(&3u16.to_ne_bytes());
        iov.extend_from_slice(b"cde");
        let e = evc("readv", 5, &[3, 0x10, 2], &[c(1, CAP_IOV, &iov)]);
        assert_eq!(
            line(&e),
            r#"readv(3, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=10}], 2) = 5"#
        );
    }

    #[test]
    fn processes_and_signals() {
        assert_eq!(
            line(&ev("clone", 42, &[0x0120_0011, 0, 0, 0x7f10, 0])),
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f10) = 42"
        );
        assert_eq!(
            line(&ev("unshare", 0, &[0x2002_0000])),
            "unshare(CLONE_NEWNS|CLONE_NEWPID) = 0"
        );
        assert_eq!(line(&ev("kill", 0, &[42, 15])), "kill(42, SIGTERM) = 0");
        assert_eq!(line(&ev("kill", 0, &[M1, 0])), "kill(-1, 0) = 0");
        assert_eq!(
            line(&ev("tgkill", 0, &[1, 2, 34])),
            "tgkill(1, 2, SIGRT_2) = 0"
        );
        assert_eq!(
            line(&ev("rt_sigprocmask", 0, &[2, 0x7f00, 0, 8])),
            "rt_sigprocmask(SIG_SETMASK, 0x7f00, NULL, 8) = 0"
        );
        assert_eq!(
            line(&ev("rt_sigaction", 0, &[17, 0x7f00, 0, 8])),
            "rt_sigaction(SIGCHLD, 0x7f00, NULL, 8) = 0"
        );
        assert_eq!(
            line(&ev("wait4", 42, &[M1, 0x7f00, 1 | 0x4000_0000, 0])),
            "wait4(-1, 0x7f00, WNOHANG|__WALL, NULL) = 42"
        );
        assert_eq!(
            line(&ev("prctl", 0, &[15, 0x7f00, 0, 0, 0])),
            "prctl(PR_SET_NAME, 0x7f00, 0, 0, 0) = 0"
        );
        assert_eq!(
            line(&ev("setresuid", 0, &[M1, 0, 1000])),
            "setresuid(-1, 0, 1000) = 0"
        );
        assert_eq!(
            line(&ev("futex", 0, &[0x7f00, 128 | 9 | 256, 1, 0, 0, u64::from(u32::MAX)])),
            "futex(0x7f00, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 4294967295) = 0"
        );
        let argv = evc(
            "execve",
            0,
            &[1, 2, 3],
            &[c(0, CAP_STR, b"/bin/x"), c(1, CAP_ARGV, b"x\0a b\0")],
        );
        assert_eq!(line(&argv), r#"execve("/bin/x", ["x", "a b"], 0x3) = 0"#);
        let mut cut = argv.clone();
        cut.flags |= F_TRUNCATED;
        assert!(
            line(&cut).contains(r#"["x", "a b", ...]"#),
            "{}",
            line(&cut)
        );
    }

    #[test]
    fn network() {
        assert_eq!(
            line(&ev("socket", 3, &[2, 1 | 0o2000000, 0])),
            "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3"
        );
        assert_eq!(
            line(&ev("socket", 3, &[1, 2, 0])),
            "socket(AF_UNIX, SOCK_DGRAM, 0) = 3"
        );
        let sin = [2u8, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            line(&evc(
                "connect",
                -111,
                &[3, 0x7f00, 16],
                &[c(1, CAP_SOCKADDR, &sin)]
            )),
            r#"connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED"#
        );
        assert_eq!(
            line(&evc(
                "accept4",
                4,
                &[3, 0x7f00, 0x7f10, 0o2000000],
                &[c(1, CAP_SOCKADDR_OUT, &sin)]
            )),
            r#"accept4(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 0x7f10, SOCK_CLOEXEC) = 4"#
        );
        assert_eq!(
            line(&evc(
                "setsockopt",
                0,
                &[3, 1, 2, 0x7f00, 4],
                &[c(3, CAP_BUF_IN, &1i32.to_ne_bytes())]
            )),
            "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"
        );
        assert_eq!(
            line(&ev("getsockopt", 0, &[3, 6, 1, 0x7f00, 0x7f10])),
            "getsockopt(3, SOL_TCP, TCP_NODELAY, 0x7f00, 0x7f10) = 0"
        );
        assert_eq!(
            line(&evc(
                "sendto",
                5,
                &[3, 1, 5, 0x4000, 0, 0],
                &[c(1, CAP_BUF_IN, b"hello")]
            )),
            r#"sendto(3, "hello", 5, MSG_NOSIGNAL, NULL, 0) = 5"#
        );
        assert_eq!(
            line(&ev("shutdown", 0, &[3, 1])),
            "shutdown(3, SHUT_WR) = 0"
        );
        assert_eq!(line(&ev("listen", 0, &[3, 128])), "listen(3, 128) = 0");
        let j = decode(&evc("connect", 0, &[3, 1, 16], &[c(1, CAP_SOCKADDR, &sin)]))[1]
            .value
            .json();
        assert_eq!(j["port"], 8080);
    }

    #[test]
    fn polling_time_and_fd_paths() {
        assert_eq!(
            line(&ev("epoll_ctl", 0, &[4, 1, 3, 0x7f00])),
            "epoll_ctl(4, EPOLL_CTL_ADD, 3, 0x7f00) = 0"
        );
        assert_eq!(
            line(&ev("epoll_create1", 4, &[0o2000000])),
            "epoll_create1(EPOLL_CLOEXEC) = 4"
        );
        assert_eq!(
            line(&ev("clock_gettime", 0, &[1, 0x7f00])),
            "clock_gettime(CLOCK_MONOTONIC, 0x7f00) = 0"
        );
        assert_eq!(
            line(&ev("clock_nanosleep", 0, &[0, 1, 0x7f00, 0])),
            "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, 0x7f00, NULL) = 0"
        );
        assert_eq!(
            line(&ev("io_uring_setup", 5, &[8, 0x7f00])),
            "io_uring_setup(8, 0x7f00) = 5"
        );
        let e = evc(
            "read",
            0,
            &[3, 0x7f00, 8],
            &[c(0, CAP_FD_PATH, b"/etc/passwd")],
        );
        // End of file: strace shows the empty string, not the address.
        assert_eq!(line(&e), "read(3</etc/passwd>, \"\", 8) = 0");
        assert_eq!(
            decode(&e)[0].value.json(),
            serde_json::json!({"fd": 3, "path": "/etc/passwd"})
        );
        let o = evc(
            "openat",
            3,
            &[M1 - 99, 1, 0],
            &[c(1, CAP_STR, b"/x"), c(RET_SLOT, CAP_FD_PATH, b"/x")],
        );
        assert_eq!(line(&o), r#"openat(AT_FDCWD, "/x", O_RDONLY) = 3</x>"#);
    }

    #[test]
    fn terminals_directories_and_poll_results() {
        let words = |w: &[u32]| w.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>();
        // A terminal's default modes.
        let tio = words(&[0x500, 0x5, 0xbf, 0x8a3b]);
        assert_eq!(
            line(&evc(
                "ioctl",
                0,
                &[3, 0x5401, 0x7f00],
                &[c(2, CAP_MEM, &tio)]
            )),
            "ioctl(3, TCGETS, {c_iflag=ICRNL|IXON, \
             c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, \
             c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0"
        );
        let raw = words(&[0x2, 0x0, 0xdbc, 0]);
        assert_eq!(
            line(&evc(
                "ioctl",
                0,
                &[3, 0x5401, 0x7f00],
                &[c(2, CAP_MEM, &raw)]
            )),
            "ioctl(3, TCGETS, {c_iflag=BRKINT, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|0, \
             c_cflag=B4800|CS8|CREAD|PARENB|HUPCL|CLOCAL, c_lflag=0, ...}) = 0"
        );
        // Not a terminal: the address.
        assert_eq!(
            line(&evc(
                "ioctl",
                -25,
                &[3, 0x5401, 0x7f00],
                &[c(2, CAP_MEM, &tio)]
            )),
            "ioctl(3, TCGETS, 0x7f00) = -1 ENOTTY"
        );
        let ws = [50u16, 132, 0, 0]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect::<Vec<u8>>();
        assert_eq!(
            line(&evc(
                "ioctl",
                0,
                &[3, 0x5414, 0x7f00],
                &[c(2, CAP_MEM, &ws)]
            )),
            "ioctl(3, TIOCSWINSZ, {ws_row=50, ws_col=132, ws_xpixel=0, ws_ypixel=0}) = 0"
        );

        // Two directory entries of 24 bytes; d_reclen is at offset 16.
        let mut d = vec![0u8; 48];
        d[16..18].copy_from_slice(&24u16.to_ne_bytes());
        d[40..42].copy_from_slice(&24u16.to_ne_bytes());
        assert_eq!(
            line(&evc(
                "getdents64",
                48,
                &[3, 0x7f00, 4096],
                &[c(1, CAP_MEM, &d)]
            )),
            "getdents64(3, 0x7f00 /* 2 entries */, 4096) = 48"
        );
        assert_eq!(
            line(&ev("getdents64", 0, &[3, 0x7f00, 4096])),
            "getdents64(3, 0x7f00 /* 0 entries */, 4096) = 0"
        );
        // More than one copy holds: no count rather than a wrong one.
        assert_eq!(
            line(&evc(
                "getdents64",
                9000,
                &[3, 0x7f00, 32768],
                &[c(1, CAP_MEM, &d)]
            )),
            "getdents64(3, 0x7f00, 32768) = 9000"
        );
        let bad = vec![0u8; 48];
        assert_eq!(
            line(&evc(
                "getdents64",
                48,
                &[3, 0x7f00, 4096],
                &[c(1, CAP_MEM, &bad)]
            )),
            "getdents64(3, 0x7f00, 4096) = 48"
        );
        let de = evc("getdents64", 48, &[3, 0x7f00, 4096], &[c(1, CAP_MEM, &d)]);
        let dj = decode(&de);
        assert_eq!(
            dj[1].value.json(),
            serde_json::json!({"address": "0x7f00", "entries": 2})
        );

        // poll: the ready descriptors after the value; nothing ready.
        let fds = [
            3i32.to_ne_bytes(),
            [1, 0, 1, 0],
            4i32.to_ne_bytes(),
            [1, 0, 0, 0],
        ]
        .concat();
        assert_eq!(
            line(&evc("poll", 1, &[0x7f00, 2, 0], &[c(0, CAP_ARR, &fds)])),
            "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}], 2, 0) = 1 \
             ([{fd=3, revents=POLLIN}])"
        );
        assert_eq!(
            line(&evc("poll", 0, &[0x7f00, 2, 0], &[c(0, CAP_ARR, &fds)])),
            "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}], 2, 0) = 0 (Timeout)"
        );
        // ppoll: the timeout as given, and the time left after the value.
        let t_in = [1i64.to_ne_bytes(), 0i64.to_ne_bytes()].concat();
        let t_out = [0i64.to_ne_bytes(), 999i64.to_ne_bytes()].concat();
        let e = evc(
            "ppoll",
            1,
            &[0x7f00, 2, 0x7f10, 0, 8],
            &[
                c(0, CAP_ARR, &fds),
                c(2, CAP_MEM, &t_in),
                c(2, CAP_MEM, &t_out),
            ],
        );
        assert_eq!(
            line(&e),
            "ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}], 2, \
             {tv_sec=1, tv_nsec=0}, NULL, 8) = 1 ([{fd=3, revents=POLLIN}], \
             left {tv_sec=0, tv_nsec=999})"
        );
        // A signal cut ppoll short: no decoration, the timeout as given.
        let e = evc(
            "ppoll",
            -4,
            &[0x7f00, 2, 0x7f10, 0, 8],
            &[c(0, CAP_ARR, &fds), c(2, CAP_MEM, &t_in)],
        );
        assert_eq!(
            line(&e),
            "ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}], 2, \
             {tv_sec=1, tv_nsec=0}, NULL, 8) = -1 EINTR"
        );
        assert_eq!(
            line(&ev("select", 0, &[0, 0, 0, 0, 0])),
            "select(0, NULL, NULL, NULL, NULL) = 0 (Timeout)"
        );
    }

    #[test]
    fn restarts_sleeps_clone3_caps_and_offsets() {
        // Kernel-internal restart codes: strace writes `?` for the value.
        let set = [0u8; 8];
        assert_eq!(
            line(&evc(
                "rt_sigsuspend",
                -514,
                &[0x7f00, 8],
                &[c(0, CAP_MEM, &set)]
            )),
            "rt_sigsuspend([], 8) = ? ERESTARTNOHAND"
        );
        // The remainder of a sleep is written only when it was cut short.
        let ts = [0i64.to_ne_bytes(), 1000i64.to_ne_bytes()].concat();
        let left = [0i64.to_ne_bytes(), 500i64.to_ne_bytes()].concat();
        let chunks = [c(0, CAP_MEM, &ts), c(1, CAP_MEM, &left)];
        assert_eq!(
            line(&evc("nanosleep", 0, &[0x7f00, 0x7f10], &chunks)),
            "nanosleep({tv_sec=0, tv_nsec=1000}, 0x7f10) = 0"
        );
        assert_eq!(
            line(&evc("nanosleep", -516, &[0x7f00, 0x7f10], &chunks)),
            "nanosleep({tv_sec=0, tv_nsec=1000}, {tv_sec=0, tv_nsec=500}) = ? \
             ERESTART_RESTARTBLOCK"
        );
        // clone3: the pointers only when the flags use them.
        let mut ca = vec![0u8; 88];
        ca[32..40].copy_from_slice(&17u64.to_ne_bytes());
        assert_eq!(
            line(&evc("clone3", 42, &[0x7f00, 88], &[c(0, CAP_MEM, &ca)])),
            "clone3({flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = 42"
        );
        ca[0..8].copy_from_slice(&(0x1000u64 | 0x0010_0000).to_ne_bytes());
        ca[8..16].copy_from_slice(&0x7f20u64.to_ne_bytes());
        ca[24..32].copy_from_slice(&0x7f30u64.to_ne_bytes());
        assert_eq!(
            line(&evc("clone3", 42, &[0x7f00, 88], &[c(0, CAP_MEM, &ca)])),
            "clone3({flags=CLONE_PIDFD|CLONE_PARENT_SETTID, pidfd=0x7f20, \
             parent_tid=0x7f30, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = 42"
        );
        // Capabilities: the version by name, each one as strace writes it.
        let hdr = [0x2008_0522u32.to_ne_bytes(), 0i32.to_ne_bytes()].concat();
        let data = [
            0x21u32.to_ne_bytes(),
            0x21u32.to_ne_bytes(),
            0u32.to_ne_bytes(),
            0u32.to_ne_bytes(),
            0x1u32.to_ne_bytes(),
            0u32.to_ne_bytes(),
        ]
        .concat();
        assert_eq!(
            line(&evc(
                "capget",
                0,
                &[0x7f00, 0x7f10],
                &[c(0, CAP_MEM, &hdr), c(1, CAP_MEM, &data)]
            )),
            "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, \
             {effective=1<<CAP_CHOWN|1<<CAP_KILL, \
             permitted=1<<CAP_CHOWN|1<<CAP_KILL|1<<CAP_MAC_OVERRIDE, inheritable=0}) = 0"
        );
        // preadv: one offset, as strace shows it; preadv2 skips pos_h.
        assert_eq!(
            line(&ev("preadv", 5, &[3, 0x7f00, 2, 100, 0])),
            "preadv(3, 0x7f00, 2, 100) = 5"
        );
        assert_eq!(
            line(&ev("pwritev2", 5, &[3, 0x7f00, 2, 100, 0, 0])),
            "pwritev2(3, 0x7f00, 2, 100, 0) = 5"
        );
        // statx's mask: STATX_ALL first, as strace's table has it.
        assert_eq!(
            line(&ev("statx", -2, &[3, 0, 0, 0xfff, 0x7f00])),
            "statx(3, NULL, AT_STATX_SYNC_AS_STAT, STATX_ALL, 0x7f00) = -1 ENOENT"
        );
    }

    #[test]
    fn unknown_syscall_shows_six_hex_args() {
        let e = EventBuilder::new()
            .nr(999)
            .args(&[0, 1, 2, 3, 4, 0x7f])
            .build();
        assert_eq!(line(&e), "syscall_999(0, 0x1, 0x2, 0x3, 0x4, 0x7f) = 0");
    }
}

/// How completely the decoder renders a syscall's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Coverage {
    /// Some argument is shown as a raw hex value for want of a decoder.
    Partial,
    /// Every argument is typed: numbers, fds, pointers to structures not
    /// copied (as addresses, like strace for unread memory).
    Typed,
    /// Typed, and at least one argument is symbolic or copied data (flags,
    /// names, strings, buffers, sockaddrs, modes, signals).
    Symbolic,
}

/// The decoder's coverage of `info` (used for the decoded-syscall count).
pub fn coverage(info: &SyscallInfo) -> Coverage {
    let mut symbolic = false;
    for a in info.args {
        let tabled = by_name_table(info.name, a.name).is_some();
        // Values strace itself shows in hex.
        let hex_by_design = matches!(
            (info.name, a.name),
            ("mmap", "offset") | ("clone", "tls") | ("rseq", "rseq_len" | "sig")
        );
        match a.kind {
            ArgKind::Hex if tabled => symbolic = true,
            ArgKind::Hex if hex_by_design => {}
            ArgKind::Hex => return Coverage::Partial,
            ArgKind::Flags(FlagSet::Other) if !tabled => return Coverage::Partial,
            ArgKind::Flags(_)
            | ArgKind::Path
            | ArgKind::Str
            | ArgKind::BufIn
            | ArgKind::BufOut
            | ArgKind::Argv
            | ArgKind::Sockaddr
            | ArgKind::Mode
            | ArgKind::Signal
            | ArgKind::DirFd => symbolic = true,
            _ if tabled => symbolic = true,
            _ => {}
        }
    }
    if symbolic {
        Coverage::Symbolic
    } else {
        Coverage::Typed
    }
}

#[cfg(test)]
mod coverage_tests {
    use super::*;
    use crate::model::syscalls::{by_name, table};

    #[test]
    fn tables_worked_out_once_are_the_ones_named() {
        fn same(a: Option<Table>, b: Option<Table>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(Table::B(x)), Some(Table::B(y))) => std::ptr::eq(x, y),
                (Some(Table::N(x)), Some(Table::N(y))) => std::ptr::eq(x, y),
                _ => false,
            }
        }
        let mut tabled = 0;
        for arch in Arch::ALL {
            for info in table(arch) {
                for (i, spec) in info.args.iter().enumerate() {
                    let named = by_name_table(info.name, spec.name);
                    tabled += usize::from(named.is_some());
                    assert!(
                        same(arg_table(arch, info, i), named),
                        "{} {}",
                        info.name,
                        spec.name
                    );
                }
                assert!(arg_table(arch, info, 6).is_none());
            }
        }
        assert!(tabled > 50, "{tabled}");
        // The order of decoding is the order of the list.
        let ev = crate::model::testing::EventBuilder::named("openat")
            .args(&[0xffff_ff9c, 0, 0o101, 0o644])
            .build();
        let names: Vec<&str> = decode_iter(&ev).map(|a| a.name).collect();
        assert_eq!(names, ["dfd", "filename", "flags", "mode"]);
    }

    #[test]
    fn at_least_200_syscalls_are_decoded_with_types() {
        for arch in Arch::ALL {
            let t = table(arch);
            let count = |c: Coverage| t.iter().filter(|s| coverage(s) >= c).count();
            let (typed, symbolic) = (count(Coverage::Typed), count(Coverage::Symbolic));
            eprintln!(
                "{}: {} syscalls, {typed} fully typed, {symbolic} of them with symbolic or copied arguments",
                arch.name(),
                t.len()
            );
            assert!(typed >= 200, "{}: only {typed} typed", arch.name());
            if arch == Arch::X86_64 {
                assert!(symbolic >= 200, "only {symbolic} with symbolic arguments");
            }
        }
        let x = |n| coverage(by_name(Arch::X86_64, n).unwrap());
        assert_eq!(x("openat"), Coverage::Symbolic);
        assert_eq!(x("getpid"), Coverage::Typed);
        assert_eq!(x("ioctl"), Coverage::Partial);
    }
}
