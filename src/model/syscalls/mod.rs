//! Syscall numbers, names, classes and argument signatures for the
//! architectures the tracer decodes.
//!
//! Numbers follow the kernel's own tables (`arch/x86/entry/syscalls/syscall_64.tbl`
//! for x86_64, `scripts/syscall.tbl` for aarch64) as of Linux 6.18, plus `listns`
//! (470) from 6.19 so that newer kernels still show a name. x32 numbers (512+)
//! are not part of the x86_64 64-bit ABI and are left out.
//!
//! Signatures live once, keyed by syscall name, in `sigs`; each architecture's
//! table only maps numbers to names, so both arches share the same data.

use std::borrow::Cow;

/// CPU architecture whose syscall numbering is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The architecture this binary was built for. Targets other than
    /// aarch64 fall back to x86_64, the only other numbering known here.
    pub const fn native() -> Arch {
        #[cfg(target_arch = "aarch64")]
        {
            Arch::Aarch64
        }
        #[cfg(not(target_arch = "aarch64"))]
        {
            Arch::X86_64
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

/// Coarse family a syscall belongs to, used for filtering and colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyscallClass {
    File,
    Network,
    Process,
    Memory,
    Signal,
    Ipc,
    Time,
    /// Readiness and asynchronous I/O: poll, select, epoll, eventfd, aio, io_uring.
    Io,
    /// Capabilities, seccomp, bpf, keyrings, landlock, LSM attributes.
    Security,
    /// Whole-machine operations: mount, modules, reboot, swap, sysinfo, tracing.
    System,
    /// Numbers that never had an implementation in mainline Linux.
    Other,
}

impl SyscallClass {
    pub const ALL: [SyscallClass; 11] = [
        SyscallClass::File,
        SyscallClass::Network,
        SyscallClass::Process,
        SyscallClass::Memory,
        SyscallClass::Signal,
        SyscallClass::Ipc,
        SyscallClass::Time,
        SyscallClass::Io,
        SyscallClass::Security,
        SyscallClass::System,
        SyscallClass::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SyscallClass::File => "file",
            SyscallClass::Network => "network",
            SyscallClass::Process => "process",
            SyscallClass::Memory => "memory",
            SyscallClass::Signal => "signal",
            SyscallClass::Ipc => "ipc",
            SyscallClass::Time => "time",
            SyscallClass::Io => "io",
            SyscallClass::Security => "security",
            SyscallClass::System => "system",
            SyscallClass::Other => "other",
        }
    }

    /// Inverse of [`SyscallClass::name`]; ASCII case is ignored because the
    /// input usually comes from a filter typed by the user.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

/// How an argument should be rendered, enough for an strace-like decoder to
/// pick a formatter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    Int,
    UInt,
    Hex,
    Fd,
    /// Directory fd that may be `AT_FDCWD`.
    DirFd,
    /// `const char *` naming a filesystem path.
    Path,
    /// Any other NUL-terminated C string.
    Str,
    /// Bytes read by the kernel; length in [`ArgSpec::len_arg`].
    BufIn,
    /// Bytes written by the kernel; capacity in [`ArgSpec::len_arg`], bytes
    /// actually filled given by the return value.
    BufOut,
    Ptr,
    Flags(FlagSet),
    /// Permission bits, shown in octal.
    Mode,
    Signal,
    Pid,
    Uid,
    Gid,
    Size,
    Off,
    /// `char *const[]`, NULL-terminated (argv, envp).
    Argv,
    /// `struct sockaddr *`; length in [`ArgSpec::len_arg`].
    Sockaddr,
    /// A `socklen_t` passed by value. Pointers to a `socklen_t` are `Ptr`.
    SockLen,
    /// Pointer to a structure, shown as an address until a decoder knows it.
    Struct,
}

/// Symbolic constant families a decoder can use for `ArgKind::Flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagSet {
    OpenFlags,
    AtFlags,
    AccessMode,
    MmapProt,
    MmapFlags,
    CloneFlags,
    SocketDomain,
    SocketType,
    Whence,
    FcntlCmd,
    FutexOp,
    ClockId,
    Madvise,
    SigprocmaskHow,
    PrctlOption,
    EpollCtlOp,
    Ioctl,
    Shutdown,
    SockLevel,
    /// Flags without a dedicated table yet: shown in hex.
    Other,
}

/// One syscall argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    pub name: &'static str,
    pub kind: ArgKind,
    /// For `BufIn`, `BufOut` and `Sockaddr`: index of the argument holding the
    /// length. That argument is either a value (`Size`, `SockLen`, `Int`, ...)
    /// or, when its kind is `Ptr`, a pointer to the length (accept, recvfrom).
    /// `None` for every other kind.
    pub len_arg: Option<u8>,
}

/// How the return value should be rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetKind {
    /// Signed; -4095..=-1 is `-errno`.
    Int,
    Fd,
    Pid,
    /// An address (mmap, brk), shown in hex.
    Ptr,
    /// A byte or element count.
    Size,
    /// Never reaches sys_exit (exit, exit_group), so no return is recorded.
    NoReturn,
}

/// Everything known statically about one syscall number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallInfo {
    pub nr: u32,
    pub name: &'static str,
    pub class: SyscallClass,
    pub args: &'static [ArgSpec],
    pub returns: RetKind,
}

impl SyscallInfo {
    const fn new(nr: u32, name: &'static str, sig: sigs::Sig) -> SyscallInfo {
        SyscallInfo {
            nr,
            name,
            class: sig.class,
            args: sig.args,
            returns: sig.ret,
        }
    }
}

/// Builds an arch table from `nr => name` pairs; the name selects the shared
/// signature in `sigs`, or `nr => name = sig` picks a differently named one
/// where the arch's argument order differs.
macro_rules! syscall_table {
    ($($nr:literal => $name:ident $(= $sig:ident)?),* $(,)?) => {
        &[$(
            super::SyscallInfo::new(
                $nr,
                stringify!($name),
                syscall_table!(@sig $name $(, $sig)?),
            )
        ),*]
    };
    (@sig $name:ident) => { super::sigs::$name };
    (@sig $name:ident, $sig:ident) => { super::sigs::$sig };
}

mod aarch64;
mod sigs;
mod x86_64;

/// Marks a number with no syscall in the per-arch index.
const NO_ENTRY: u16 = u16::MAX;

/// Maps each number to its position in the table, so `lookup` is one bounds
/// check and two loads. Fails the build if a table is not strictly sorted.
const fn build_index<const N: usize>(table: &[SyscallInfo]) -> [u16; N] {
    assert!(table.len() < NO_ENTRY as usize);
    let mut index = [NO_ENTRY; N];
    let mut i = 0;
    while i < table.len() {
        assert!(
            i == 0 || table[i - 1].nr < table[i].nr,
            "syscall table must be sorted by number without duplicates"
        );
        index[table[i].nr as usize] = i as u16;
        i += 1;
    }
    index
}

fn parts(arch: Arch) -> (&'static [SyscallInfo], &'static [u16]) {
    match arch {
        Arch::X86_64 => (x86_64::TABLE, &x86_64::INDEX),
        Arch::Aarch64 => (aarch64::TABLE, &aarch64::INDEX),
    }
}

/// The syscall with number `nr`, or `None` for holes and numbers past the end.
#[inline]
pub fn lookup(arch: Arch, nr: u32) -> Option<&'static SyscallInfo> {
    let (table, index) = parts(arch);
    let slot = *index.get(usize::try_from(nr).ok()?)?;
    // NO_ENTRY is past the end of every table, so holes fall out here.
    table.get(usize::from(slot))
}

/// The syscall called `name` (exact kernel spelling, e.g. "newfstatat").
/// A linear scan: a few hundred entries, and not on the per-event path.
pub fn by_name(arch: Arch, name: &str) -> Option<&'static SyscallInfo> {
    table(arch).iter().find(|s| s.name == name)
}

/// Every syscall of `arch`, sorted by number.
pub fn table(arch: Arch) -> &'static [SyscallInfo] {
    parts(arch).0
}

/// The highest syscall number known for `arch`.
pub fn max_nr(arch: Arch) -> u32 {
    let t = table(arch);
    t[t.len() - 1].nr
}

/// The syscall's name, or `syscall_<nr>` for numbers not in the table
/// (the spelling strace uses).
pub fn name_or_unknown(arch: Arch, nr: u32) -> Cow<'static, str> {
    match lookup(arch, nr) {
        Some(info) => Cow::Borrowed(info.name),
        None => Cow::Owned(format!("syscall_{nr}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(arch: Arch, nr: u32) -> &'static str {
        lookup(arch, nr)
            .unwrap_or_else(|| panic!("{} {nr} missing", arch.name()))
            .name
    }

    #[test]
    fn x86_64_spot_checks() {
        let a = Arch::X86_64;
        for (nr, n) in [
            (0, "read"),
            (1, "write"),
            (2, "open"),
            (39, "getpid"),
            (56, "clone"),
            (59, "execve"),
            (60, "exit"),
            (158, "arch_prctl"),
            (231, "exit_group"),
            (257, "openat"),
            (262, "newfstatat"),
            (334, "rseq"),
            (335, "uretprobe"),
            (336, "uprobe"),
            (424, "pidfd_send_signal"),
            (435, "clone3"),
            (462, "mseal"),
            (463, "setxattrat"),
            (467, "open_tree_attr"),
            (468, "file_getattr"),
            (469, "file_setattr"),
        ] {
            assert_eq!(name(a, nr), n, "x86_64 {nr}");
        }
        assert!(max_nr(a) >= 469);
    }

    #[test]
    fn aarch64_spot_checks() {
        let a = Arch::Aarch64;
        for (nr, n) in [
            (0, "io_setup"),
            (25, "fcntl"),
            (56, "openat"),
            (63, "read"),
            (64, "write"),
            (79, "newfstatat"),
            (93, "exit"),
            (94, "exit_group"),
            (172, "getpid"),
            (220, "clone"),
            (221, "execve"),
            (222, "mmap"),
            (293, "rseq"),
            (294, "kexec_file_load"),
            (435, "clone3"),
            (447, "memfd_secret"),
            (469, "file_setattr"),
        ] {
            assert_eq!(name(a, nr), n, "aarch64 {nr}");
        }
        assert!(max_nr(a) >= 469);
        // x86-only calls must not leak into the generic numbering.
        for n in ["open", "fork", "arch_prctl", "uretprobe", "epoll_wait"] {
            assert!(by_name(a, n).is_none(), "{n} is not an aarch64 syscall");
        }
    }

    #[test]
    fn holes_and_out_of_range() {
        for (arch, holes) in [
            (Arch::X86_64, &[337u32, 400, 423, 512, 547][..]),
            (Arch::Aarch64, &[244, 259, 295, 403, 423][..]),
        ] {
            for &nr in holes {
                assert!(lookup(arch, nr).is_none(), "{} {nr}", arch.name());
            }
            assert!(lookup(arch, max_nr(arch) + 1).is_none());
            assert!(lookup(arch, u32::MAX).is_none());
            assert_eq!(name_or_unknown(arch, 999), "syscall_999");
            assert_eq!(name_or_unknown(arch, u32::MAX), "syscall_4294967295");
        }
        assert_eq!(name_or_unknown(Arch::X86_64, 0), "read");
    }

    #[test]
    fn tables_sorted_unique_and_consistent() {
        for arch in Arch::ALL {
            let t = table(arch);
            assert!(t.windows(2).all(|w| w[0].nr < w[1].nr), "{}", arch.name());
            let mut names: Vec<_> = t.iter().map(|s| s.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "duplicate names in {}", arch.name());
            for s in t {
                assert!(std::ptr::eq(lookup(arch, s.nr).unwrap(), s));
                assert!(std::ptr::eq(by_name(arch, s.name).unwrap(), s));
                assert!(s.args.len() <= 6, "{} has too many args", s.name);
                for (i, a) in s.args.iter().enumerate() {
                    let needs_len = matches!(a.kind, ArgKind::BufIn);
                    if needs_len {
                        assert!(a.len_arg.is_some(), "{} arg {i} needs len_arg", s.name);
                    }
                    if let Some(l) = a.len_arg {
                        assert!(
                            matches!(a.kind, ArgKind::BufIn | ArgKind::BufOut | ArgKind::Sockaddr),
                            "{} arg {i}: len_arg on {:?}",
                            s.name,
                            a.kind
                        );
                        let l = usize::from(l);
                        assert!(
                            l < s.args.len() && l != i,
                            "{} arg {i}: bad len_arg",
                            s.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn classes_and_returns() {
        let x = Arch::X86_64;
        let class = |n: &str| by_name(x, n).unwrap().class;
        assert_eq!(class("openat"), SyscallClass::File);
        assert_eq!(class("connect"), SyscallClass::Network);
        assert_eq!(class("execve"), SyscallClass::Process);
        assert_eq!(class("mmap"), SyscallClass::Memory);
        assert_eq!(class("rt_sigaction"), SyscallClass::Signal);
        assert_eq!(class("futex"), SyscallClass::Ipc);
        assert_eq!(class("clock_gettime"), SyscallClass::Time);
        assert_eq!(class("epoll_wait"), SyscallClass::Io);
        assert_eq!(class("io_uring_enter"), SyscallClass::Io);
        assert_eq!(class("bpf"), SyscallClass::Security);
        assert_eq!(class("mount"), SyscallClass::System);
        assert_eq!(class("setuid"), SyscallClass::Process);

        for arch in Arch::ALL {
            for n in ["exit", "exit_group"] {
                assert_eq!(by_name(arch, n).unwrap().returns, RetKind::NoReturn);
            }
            assert_eq!(by_name(arch, "rt_sigreturn").unwrap().returns, RetKind::Int);
            assert_eq!(by_name(arch, "mmap").unwrap().returns, RetKind::Ptr);
            assert_eq!(by_name(arch, "openat").unwrap().returns, RetKind::Fd);
            let no_return = table(arch)
                .iter()
                .filter(|s| s.returns == RetKind::NoReturn)
                .count();
            assert_eq!(no_return, 2);
        }
    }

    #[test]
    fn shared_signatures_and_clone_order() {
        let x = by_name(Arch::X86_64, "openat").unwrap();
        let a = by_name(Arch::Aarch64, "openat").unwrap();
        assert_eq!(x.args, a.args);
        let kinds: Vec<_> = x.args.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                ArgKind::DirFd,
                ArgKind::Path,
                ArgKind::Flags(FlagSet::OpenFlags),
                ArgKind::Mode
            ]
        );
        // arm64 selects CLONE_BACKWARDS: tls comes before child_tid.
        let names = |arch| {
            by_name(arch, "clone")
                .unwrap()
                .args
                .iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Arch::X86_64)[3..], ["child_tid", "tls"]);
        assert_eq!(names(Arch::Aarch64)[3..], ["tls", "child_tid"]);
    }

    #[test]
    fn class_names_round_trip() {
        for c in SyscallClass::ALL {
            assert_eq!(SyscallClass::from_name(c.name()), Some(c));
        }
        assert_eq!(
            SyscallClass::from_name("NETWORK"),
            Some(SyscallClass::Network)
        );
        assert_eq!(SyscallClass::from_name("nope"), None);
        assert_eq!(Arch::X86_64.name(), "x86_64");
        assert_eq!(Arch::Aarch64.name(), "aarch64");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(Arch::native(), Arch::X86_64);
        #[cfg(target_arch = "aarch64")]
        assert_eq!(Arch::native(), Arch::Aarch64);
    }
}
