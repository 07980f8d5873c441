//! Typed decoding of syscall arguments: every argument becomes a [`Value`]
//! that renders either in strace's notation or as JSON, so the text line and
//! the export format cannot disagree.

pub mod consts;
mod coverage;
mod render;
pub mod sockaddr;
pub mod structs;
mod tables;
#[cfg(test)]
mod tests;

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

pub use coverage::{coverage, Coverage};
pub use render::{format_return, json_bytes};
pub use sockaddr::Sockaddr;
pub use tables::bits;
use tables::*;

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
    /// FUTEX_WAKE_OP's encoded operation (its val3):
    /// `FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1`.
    FutexWakeOp(u32),
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
        "ioctl" => match ioctl_arg(a[1]) {
            IoctlArg::None => 2,
            _ => n,
        },
        "prctl" => prctl_shown(a[0]),
        // The new address matters only when the mapping moves to it.
        "mremap" if a[3] & 3 != 3 => 4,
        // The CPU only with MEMBARRIER_CMD_FLAG_CPU.
        "membarrier" if a[1] & 1 == 0 => 2,
        _ => n,
    }
}

/// How many arguments strace shows for a prctl option (the option
/// included): the getters that return their value show none, the ones
/// with one argument only it, the rest (and unknown options) all five.
fn prctl_shown(option: u64) -> usize {
    match option & 0xffff_ffff {
        3 | 7 | 13 | 21 | 27 | 30 | 31 | 32 | 46 | 51 | 64 => 1,
        1
        | 2
        | 4
        | 5
        | 6
        | 8..=12
        | 14..=16
        | 19
        | 20
        | 23..=26
        | 28
        | 29
        | 36
        | 37
        | 40
        | 45
        | 50
        | 63
        | 0x5961_6d61 => 2,
        // PR_GET_SPECULATION_CTRL, PR_SET_SPECULATION_CTRL.
        52 | 53 => 3,
        _ => 5,
    }
}

/// prctl's second argument for the options that show it decoded; None:
/// as the signature has it (hex).
fn prctl_arg2(option: u64, v: u64) -> Option<Value<'static>> {
    let low = v & 0xffff_ffff;
    Some(match option & 0xffff_ffff {
        // The getters that write through a pointer, and PR_SET_NAME's
        // string (not copied).
        2 | 5 | 9 | 11 | 15 | 16 | 19 | 25 | 37 | 40 => ptr(v),
        1 => signal(v),
        4 => named(low as i64, consts::SUID_DUMP),
        6 => Value::Flags(bits(low, consts::PR_UNALIGN)),
        23 | 24 => structs::cap_name(low).map_or(Value::Int(low as i32 as i64), Value::Sym),
        26 => named(low as i64, consts::PR_TSC),
        45 => Value::Flags(bits(low, consts::PR_FP_MODE)),
        29 => Value::UInt(v),
        0x5961_6d61 if v == u64::MAX => Value::Sym("PR_SET_PTRACER_ANY"),
        8 | 10 | 12 | 14 | 20 | 36 | 0x5961_6d61 => Value::UInt(low),
        _ => return None,
    })
}

/// What an ioctl request's third argument is, as strace shows it.
enum IoctlArg {
    /// Not used: not shown.
    None,
    /// A pointer: NULL when 0.
    Ptr,
    /// An int, in decimal.
    Int,
    Named(Names),
    /// A number strace leaves in hex (and unknown requests).
    Raw,
}

fn ioctl_arg(request: u64) -> IoctlArg {
    match request & 0xffff_ffff {
        // TIOCEXCL, TIOCNXCL, TIOCCONS, TIOCNOTTY, FIONCLEX, FIOCLEX.
        0x540C | 0x540D | 0x541D | 0x5422 | 0x5450 | 0x5451 => IoctlArg::None,
        // TCSBRK, TIOCSCTTY, FICLONE.
        0x5409 | 0x540E | 0x4004_9409 => IoctlArg::Int,
        0x540A => IoctlArg::Named(consts::TCXONC_ARG),
        0x540B => IoctlArg::Named(consts::TCFLSH_ARG),
        // TIOCLINUX, TIOCGPTPEER, TIOCMIWAIT, TIOCGICOUNT, FIOQSIZE,
        // FS_IOC_GETVERSION and the KVM requests: strace does not take
        // them as pointers.
        0x541C | 0x5441 | 0x545C | 0x545D | 0x5460 | 0x8008_7601 | 0xAE00 | 0xAE01 => IoctlArg::Raw,
        r if consts::name_of(consts::IOCTL, r as i64).is_some() => IoctlArg::Ptr,
        _ => IoctlArg::Raw,
    }
}

/// Per-call refinements of one argument that depend on another argument.
fn refine<'a>(ev: &'a TraceEvent, info: &SyscallInfo, i: usize, v: Value<'a>) -> Value<'a> {
    let a = &ev.args;
    match (i, info.name) {
        // futex's fourth and sixth by its operation, prctl's second by its
        // option.
        (3 | 5, "futex") => return futex_arg(ev, i).unwrap_or(v),
        (1, "prctl") => return prctl_arg2(a[0], a[1]).unwrap_or(v),
        // The others refine only third arguments: no name to compare.
        (2, _) => {}
        _ => return v,
    }
    match (info.name, i) {
        ("fcntl", 2) => match a[1] as i32 {
            2 => Value::Flags(bits(a[2], consts::FD_CLOEXEC_FLAGS)),
            4 => Value::Flags(open_flags(a[2], ev.arch)),
            0 | 8 | 1024 | 1026 | 1030 | 1031 => Value::Int(a[2] as i32 as i64),
            10 => signal(a[2]),
            _ => ptr(a[2]),
        },
        // Only what no structure decoded: the argument as the request takes it.
        ("ioctl", 2) if v.is_raw() => match ioctl_arg(a[1]) {
            IoctlArg::Ptr => ptr(a[2]),
            IoctlArg::Int => Value::Int(a[2] as i32 as i64),
            IoctlArg::Named(t) => named(a[2] as i32 as i64, t),
            IoctlArg::None | IoctlArg::Raw => v,
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
    if info.is_some_and(|i| i.name == "futex") {
        n = futex_order(ev.args[1], &mut order);
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

/// The futex arguments strace shows for the operation (`op & 127`, as
/// strace switches on it): each command uses its own subset.
fn futex_order(op: u64, order: &mut [u8; 6]) -> usize {
    let shown: &[u8] = match op & 127 {
        // FUTEX_WAIT: val, timeout.
        0 => &[0, 1, 2, 3],
        // FUTEX_WAKE, FUTEX_FD: val.
        1 | 2 => &[0, 1, 2],
        // FUTEX_REQUEUE: val, val2, uaddr2.
        3 => &[0, 1, 2, 3, 4],
        // FUTEX_LOCK_PI, FUTEX_LOCK_PI2: timeout.
        6 | 13 => &[0, 1, 3],
        // FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI: nothing more.
        7 | 8 => &[0, 1],
        // FUTEX_WAIT_BITSET: val, timeout, bitset.
        9 => &[0, 1, 2, 3, 5],
        // FUTEX_WAKE_BITSET: val, bitset.
        10 => &[0, 1, 2, 5],
        // FUTEX_WAIT_REQUEUE_PI: val, timeout, uaddr2.
        11 => &[0, 1, 2, 3, 4],
        // The CMP_REQUEUEs, FUTEX_WAKE_OP and unknown commands: all six.
        _ => &[0, 1, 2, 3, 4, 5],
    };
    order[..shown.len()].copy_from_slice(shown);
    shown.len()
}

/// futex arguments whose meaning depends on the operation: the fourth is
/// a count for the requeues and FUTEX_WAKE_OP, the sixth a count, a bitset
/// or an encoded operation. None: decoded by the signature (uaddr, op, val,
/// the timeout, uaddr2).
fn futex_arg(ev: &TraceEvent, i: usize) -> Option<Value<'static>> {
    let a = &ev.args;
    let cmd = a[1] & 127;
    let low = a[i] & 0xffff_ffff;
    Some(match (i, cmd) {
        (3, 3 | 4 | 5 | 12) => Value::UInt(low),
        (5, 4 | 12) => Value::UInt(low),
        (5, 5) => Value::FutexWakeOp(low as u32),
        (5, 9 | 10) if low == 0xffff_ffff => Value::Sym("FUTEX_BITSET_MATCH_ANY"),
        (5, _) => Value::Hex(low),
        _ => return None,
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
