//! The tables behind argument values: flag sets, named values, signals,
//! and which table an argument takes by syscall and argument name.

use super::*;

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
pub(super) fn named(v: i64, table: Names) -> Value<'static> {
    consts::name_of(table, v).map_or(Value::Hex(u64::from(v as u32)), Value::Sym)
}

pub(super) fn signal(v: u64) -> Value<'static> {
    let s = v as i32 as i64;
    match s {
        1..=31 => Value::Sym(consts::SIGNALS[s as usize]),
        32..=64 => Value::Sym(rt_signal_name(s)),
        _ => Value::Int(s),
    }
}

pub(super) fn rt_signal_name(s: i64) -> &'static str {
    const RT: [&str; 33] = [
        "SIGRTMIN", "SIGRT_1", "SIGRT_2", "SIGRT_3", "SIGRT_4", "SIGRT_5", "SIGRT_6", "SIGRT_7",
        "SIGRT_8", "SIGRT_9", "SIGRT_10", "SIGRT_11", "SIGRT_12", "SIGRT_13", "SIGRT_14",
        "SIGRT_15", "SIGRT_16", "SIGRT_17", "SIGRT_18", "SIGRT_19", "SIGRT_20", "SIGRT_21",
        "SIGRT_22", "SIGRT_23", "SIGRT_24", "SIGRT_25", "SIGRT_26", "SIGRT_27", "SIGRT_28",
        "SIGRT_29", "SIGRT_30", "SIGRT_31", "SIGRT_32",
    ];
    RT[(s - 32) as usize]
}

pub(super) fn open_flags(v: u64, arch: Arch) -> Vec<Flag> {
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
pub(super) fn flags_or(v: u64, table: Bits, zero: Option<&'static str>) -> Value<'static> {
    match (v, zero) {
        (0, Some(z)) => Value::Sym(z),
        _ => Value::Flags(bits(v, table)),
    }
}

/// Tables for arguments typed `Flags(Other)` or `Int`, chosen by syscall and
/// argument name: the signature tables say "flags", strace knows which.
pub(super) fn by_name_table(sys: &str, arg: &str) -> Option<Table> {
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
pub(super) enum Table {
    B(Bits),
    N(Names),
}

/// `by_name_table` for argument `i` of `info`, worked out once per
/// syscall: matching names for every argument of every event was most of
/// the cost of rendering argument text (filters over `args`, the stream).
pub(super) fn arg_table(arch: Arch, info: &SyscallInfo, i: usize) -> Option<Table> {
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
pub(super) fn fd_flags_table(sys: &str) -> Bits {
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

pub(super) fn takes_open_flags(sys: &str) -> bool {
    matches!(
        sys,
        "open" | "openat" | "mq_open" | "open_by_handle_at" | "fanotify_init"
    )
}

pub(super) fn flag_value(set: FlagSet, v: u64, sys: &str, arch: Arch) -> Value<'static> {
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
        FlagSet::FutexOp => futex_op(v),
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

/// The futex operation as strace names it: the command with `_PRIVATE`,
/// FUTEX_CLOCK_REALTIME only on the waits that take it, anything else
/// (unknown bits, a clock on a wake) as the number in hex.
pub(super) fn futex_op(v: u64) -> Value<'static> {
    use consts::{FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE};
    let cmd = v & !(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);
    let Some(name) = consts::name_of(consts::FUTEX_CMD, cmd as i64) else {
        return Value::Hex(v);
    };
    // FUTEX_WAIT, FUTEX_WAIT_BITSET and FUTEX_WAIT_REQUEUE_PI.
    if v & FUTEX_CLOCK_REALTIME != 0 && !matches!(cmd, 0 | 9 | 11) {
        return Value::Hex(v);
    }
    let mut f = vec![Flag::Name(name)];
    if v & FUTEX_PRIVATE != 0 {
        f = match futex_private(name) {
            Some(p) => vec![Flag::Name(p)],
            // FUTEX_FD has no _PRIVATE name.
            None => vec![Flag::Name(name), Flag::Name("FUTEX_PRIVATE_FLAG")],
        };
    }
    if v & FUTEX_CLOCK_REALTIME != 0 {
        f.push(Flag::Name("FUTEX_CLOCK_REALTIME"));
    }
    Value::Flags(f)
}

pub(super) fn futex_private(name: &'static str) -> Option<&'static str> {
    Some(match name {
        "FUTEX_WAIT" => "FUTEX_WAIT_PRIVATE",
        "FUTEX_WAKE" => "FUTEX_WAKE_PRIVATE",
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
        _ => return None,
    })
}

pub(crate) fn ptr(v: u64) -> Value<'static> {
    if v == 0 {
        Value::Null
    } else {
        Value::Hex(v)
    }
}
