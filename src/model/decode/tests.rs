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

/// Every futex command shows the arguments it uses, as strace 6 prints
/// them (the expected lines are strace's for the same raw arguments, with
/// garbage in the unused registers as libc leaves there).
#[test]
fn futex_shows_the_arguments_its_operation_uses() {
    const G: u64 = 0xdead_beef_0000; // an unused register's leftover
    let cases: &[(&[u64], i64, &str)] = &[
        (
            &[0x7f00, 1, 1, G, G, G],
            0,
            "futex(0x7f00, FUTEX_WAKE, 1) = 0",
        ),
        (
            &[0x7f00, 129, 1, G, G, G],
            0,
            "futex(0x7f00, FUTEX_WAKE_PRIVATE, 1) = 0",
        ),
        (
            &[0, 1, 1, G, G, G],
            -14,
            "futex(NULL, FUTEX_WAKE, 1) = -1 EFAULT",
        ),
        (
            &[0x7f00, 0, 1, 0, G, G],
            -11,
            "futex(0x7f00, FUTEX_WAIT, 1, NULL) = -1 EAGAIN",
        ),
        (
            &[0x7f00, 128, 0, 0x7ff0, G, G],
            -110,
            "futex(0x7f00, FUTEX_WAIT_PRIVATE, 0, 0x7ff0) = -1 ETIMEDOUT",
        ),
        (
            &[0x7f00, 256, 1, 0, G, G],
            -11,
            "futex(0x7f00, FUTEX_WAIT|FUTEX_CLOCK_REALTIME, 1, NULL) = -1 EAGAIN",
        ),
        (
            &[0x7f00, 128 | 9 | 256, 1, 0, G, u64::from(u32::MAX)],
            -11,
            "futex(0x7f00, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 1, NULL, \
             FUTEX_BITSET_MATCH_ANY) = -1 EAGAIN",
        ),
        (
            &[0x7f00, 9, 1, 0, G, 5],
            -11,
            "futex(0x7f00, FUTEX_WAIT_BITSET, 1, NULL, 0x5) = -1 EAGAIN",
        ),
        (
            &[0x7f00, 128 | 10, 1, G, G, u64::from(u32::MAX)],
            0,
            "futex(0x7f00, FUTEX_WAKE_BITSET_PRIVATE, 1, FUTEX_BITSET_MATCH_ANY) = 0",
        ),
        (
            &[0x7f00, 10, 1, G, G, 0x10],
            0,
            "futex(0x7f00, FUTEX_WAKE_BITSET, 1, 0x10) = 0",
        ),
        (
            &[0x7f00, 128 | 3, 1, 2, 0x7f04, G],
            0,
            "futex(0x7f00, FUTEX_REQUEUE_PRIVATE, 1, 2, 0x7f04) = 0",
        ),
        (
            &[0x7f00, 128 | 4, 1, 0x7fff_ffff, 0x7f04, 0],
            0,
            "futex(0x7f00, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2147483647, 0x7f04, 0) = 0",
        ),
        (
            &[0x7f00, 4, 1, 2, 0x7f04, 7],
            -11,
            "futex(0x7f00, FUTEX_CMP_REQUEUE, 1, 2, 0x7f04, 7) = -1 EAGAIN",
        ),
        (
            &[0x7f00, 128 | 5, 1, 1, 0x7f04, 0x0400_0001],
            0,
            "futex(0x7f00, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x7f04, \
             FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1) = 0",
        ),
        (
            &[0x7f00, 5, 1, 1, 0x7f04, 0x9000_3000],
            0,
            "futex(0x7f00, FUTEX_WAKE_OP, 1, 1, 0x7f04, \
             FUTEX_OP_OPARG_SHIFT<<28|FUTEX_OP_ADD<<28|0x3<<12|FUTEX_OP_CMP_EQ<<24|0) = 0",
        ),
        (
            &[0x7f00, 5, 1, 1, 0x7f04, 0xffff_ffff],
            -38,
            "futex(0x7f00, FUTEX_WAKE_OP, 1, 1, 0x7f04, \
             FUTEX_OP_OPARG_SHIFT<<28|0x7<<28|0xfff<<12|0xf<<24|0xfff) = -1 ENOSYS",
        ),
        (
            &[0x7f00, 128 | 6, G, 0, G, G],
            0,
            "futex(0x7f00, FUTEX_LOCK_PI_PRIVATE, NULL) = 0",
        ),
        (
            &[0x7f00, 128 | 7, G, G, G, G],
            0,
            "futex(0x7f00, FUTEX_UNLOCK_PI_PRIVATE) = 0",
        ),
        (
            &[0x7f00, 8, G, G, G, G],
            0,
            "futex(0x7f00, FUTEX_TRYLOCK_PI) = 0",
        ),
        (
            &[0x7f00, 128 | 11, 1, 0, 0x7f04, G],
            -11,
            "futex(0x7f00, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, NULL, 0x7f04) = -1 EAGAIN",
        ),
        (
            &[0x7f00, 128 | 12, 1, 1, 0x7f04, 0],
            0,
            "futex(0x7f00, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 1, 0x7f04, 0) = 0",
        ),
        (
            &[0x7f00, 13, G, 0, G, G],
            0,
            "futex(0x7f00, FUTEX_LOCK_PI2, NULL) = 0",
        ),
        (
            &[0x7f00, 2, 1, G, G, G],
            -38,
            "futex(0x7f00, FUTEX_FD, 1) = -1 ENOSYS",
        ),
        (
            &[0x7f00, 128 | 2, 1, G, G, G],
            -38,
            "futex(0x7f00, FUTEX_FD|FUTEX_PRIVATE_FLAG, 1) = -1 ENOSYS",
        ),
        // Unknown: every argument, the op in hex.
        (
            &[0x7f00, 99, 1, 3, 0x7f04, 4],
            -38,
            "futex(0x7f00, 0x63, 1, 0x3, 0x7f04, 0x4) = -1 ENOSYS",
        ),
        (
            &[0x7f00, 99 | 128 | 256, 1, 3, 0x7f04, 4],
            -38,
            "futex(0x7f00, 0x1e3, 1, 0x3, 0x7f04, 0x4) = -1 ENOSYS",
        ),
        // The clock on a wake is not a known operation; the layout is
        // still chosen by the low seven bits, as strace does.
        (
            &[0x7f00, 256 | 1, 1, G, G, G],
            -38,
            "futex(0x7f00, 0x101, 1) = -1 ENOSYS",
        ),
        (
            &[0x7f00, 0x409, 1, 0, G, 0],
            -38,
            "futex(0x7f00, 0x409, 1, NULL, 0) = -1 ENOSYS",
        ),
    ];
    for (args, ret, want) in cases {
        assert_eq!(line(&ev("futex", *ret, args)), *want, "{args:x?}");
    }
    // futex_waitv takes all its arguments (strace 6.1 shows the same).
    assert_eq!(
        line(&ev("futex_waitv", -22, &[0, 0, 0, 0, 1])),
        "futex_waitv(NULL, 0, 0, NULL, CLOCK_MONOTONIC) = -1 EINVAL"
    );
    // The structured form keeps the encoded operation's parts.
    let e = ev("futex", 0, &[0x7f00, 5, 1, 1, 0x7f04, 0x9000_3000]);
    let op = decode(&e).pop().unwrap().value;
    assert_eq!(
        op.json(),
        serde_json::json!({"op": "FUTEX_OP_ADD", "oparg_shift": true, "oparg": 3,
                           "cmp": "FUTEX_OP_CMP_EQ", "cmparg": 0})
    );
    let mut bytes = Vec::new();
    op.write_json(&mut bytes);
    assert_eq!(bytes, op.json().to_string().into_bytes());
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

/// ioctl's third argument as the request takes it; the expected lines are
/// strace 6's for the same calls (a pointer request's NULL, an int in
/// decimal, named values, no argument at all, hex where strace keeps hex).
#[test]
fn ioctl_argument_follows_the_request() {
    let cases: &[(&[u64], i64, &str)] = &[
        (&[3, 0x5401, 0], -25, "ioctl(3, TCGETS, NULL) = -1 ENOTTY"),
        (&[3, 0x5401, 7], -14, "ioctl(3, TCGETS, 0x7) = -1 EFAULT"),
        (
            &[4, 0x5413, 0],
            -14,
            "ioctl(4, TIOCGWINSZ, NULL) = -1 EFAULT",
        ),
        (
            &[4, 0x5414, 0],
            -14,
            "ioctl(4, TIOCSWINSZ, NULL) = -1 EFAULT",
        ),
        (&[4, 0x541B, 0], -14, "ioctl(4, FIONREAD, NULL) = -1 EFAULT"),
        (&[4, 0x5421, 0], -14, "ioctl(4, FIONBIO, NULL) = -1 EFAULT"),
        (
            &[4, 0x540F, 0],
            -14,
            "ioctl(4, TIOCGPGRP, NULL) = -1 EFAULT",
        ),
        (
            &[3, 0x8008_6601, 0],
            -25,
            "ioctl(3, FS_IOC_GETFLAGS, NULL) = -1 ENOTTY",
        ),
        (
            &[3, 0x8927, 0],
            -25,
            "ioctl(3, SIOCGIFHWADDR, NULL) = -1 ENOTTY",
        ),
        (&[4, 0x5451, 0x7f00], 0, "ioctl(4, FIOCLEX) = 0"),
        (&[4, 0x5450, 5], 0, "ioctl(4, FIONCLEX) = 0"),
        (&[4, 0x5422, 0], -25, "ioctl(4, TIOCNOTTY) = -1 ENOTTY"),
        (&[4, 0x540E, 0], -1, "ioctl(4, TIOCSCTTY, 0) = -1 EPERM"),
        (&[3, 0x540E, M1], -25, "ioctl(3, TIOCSCTTY, -1) = -1 ENOTTY"),
        (&[4, 0x5409, 7], 0, "ioctl(4, TCSBRK, 7) = 0"),
        (&[4, 0x540B, 0], 0, "ioctl(4, TCFLSH, TCIFLUSH) = 0"),
        (&[3, 0x540B, 7], -25, "ioctl(3, TCFLSH, 0x7) = -1 ENOTTY"),
        (&[3, 0x540A, 0], -25, "ioctl(3, TCXONC, TCOOFF) = -1 ENOTTY"),
        (&[3, 0x545D, 0], -25, "ioctl(3, TIOCGICOUNT, 0) = -1 ENOTTY"),
        (
            &[3, 0x545C, 7],
            -25,
            "ioctl(3, TIOCMIWAIT, 0x7) = -1 ENOTTY",
        ),
        (&[3, 0x5460, 0], -25, "ioctl(3, FIOQSIZE, 0) = -1 ENOTTY"),
        (
            &[3, 0xAE01, 0],
            -25,
            "ioctl(3, KVM_CREATE_VM, 0) = -1 ENOTTY",
        ),
    ];
    for (args, ret, want) in cases {
        assert_eq!(line(&ev("ioctl", *ret, args)), *want, "{args:x?}");
    }
}

/// Calls whose shown arguments depend on another one, as strace 6 prints
/// them for the same raw arguments: prctl by option, mremap's new address
/// only with MREMAP_FIXED, membarrier's CPU only with its flag.
#[test]
fn arguments_shown_only_when_used() {
    let cases: &[(&str, &[u64], i64, &str)] = &[
        (
            "prctl",
            &[15, 0x7f00, 0, 0, 0],
            0,
            "prctl(PR_SET_NAME, 0x7f00) = 0",
        ),
        (
            "prctl",
            &[15, 0, 0, 0, 0],
            -14,
            "prctl(PR_SET_NAME, NULL) = -1 EFAULT",
        ),
        (
            "prctl",
            &[16, 0, 0, 0, 0],
            -14,
            "prctl(PR_GET_NAME, NULL) = -1 EFAULT",
        ),
        (
            "prctl",
            &[2, 7, 0, 0, 0],
            -14,
            "prctl(PR_GET_PDEATHSIG, 0x7) = -1 EFAULT",
        ),
        (
            "prctl",
            &[1, 15, 0, 0, 0],
            0,
            "prctl(PR_SET_PDEATHSIG, SIGTERM) = 0",
        ),
        (
            "prctl",
            &[1, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_PDEATHSIG, 0) = 0",
        ),
        (
            "prctl",
            &[3, 7, 7, 7, 7],
            1,
            "prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)",
        ),
        (
            "prctl",
            &[4, 1, 0, 0, 0],
            0,
            "prctl(PR_SET_DUMPABLE, SUID_DUMP_USER) = 0",
        ),
        (
            "prctl",
            &[4, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_DUMPABLE, SUID_DUMP_DISABLE) = 0",
        ),
        ("prctl", &[21, 0, 0, 0, 0], 0, "prctl(PR_GET_SECCOMP) = 0"),
        (
            "prctl",
            &[23, 1, 0, 0, 0],
            1,
            "prctl(PR_CAPBSET_READ, CAP_DAC_OVERRIDE) = 1",
        ),
        (
            "prctl",
            &[24, 0, 0, 0, 0],
            0,
            "prctl(PR_CAPBSET_DROP, CAP_CHOWN) = 0",
        ),
        (
            "prctl",
            &[36, 1, 0, 0, 0],
            0,
            "prctl(PR_SET_CHILD_SUBREAPER, 1) = 0",
        ),
        (
            "prctl",
            &[37, 0, 0, 0, 0],
            -14,
            "prctl(PR_GET_CHILD_SUBREAPER, NULL) = -1 EFAULT",
        ),
        (
            "prctl",
            &[8, M1, 0, 0, 0],
            -22,
            "prctl(PR_SET_KEEPCAPS, 4294967295) = -1 EINVAL",
        ),
        (
            "prctl",
            &[29, 50000, 0, 0, 0],
            0,
            "prctl(PR_SET_TIMERSLACK, 50000) = 0",
        ),
        (
            "prctl",
            &[26, 1, 0, 0, 0],
            0,
            "prctl(PR_SET_TSC, PR_TSC_ENABLE) = 0",
        ),
        (
            "prctl",
            &[6, 1, 0, 0, 0],
            -22,
            "prctl(PR_SET_UNALIGN, PR_UNALIGN_NOPRINT) = -1 EINVAL",
        ),
        (
            "prctl",
            &[45, 1, 0, 0, 0],
            -22,
            "prctl(PR_SET_FP_MODE, PR_FP_MODE_FR) = -1 EINVAL",
        ),
        (
            "prctl",
            &[0x5961_6d61, M1, 0, 0, 0],
            0,
            "prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY) = 0",
        ),
        (
            "prctl",
            &[0x5961_6d61, 1, 0, 0, 0],
            0,
            "prctl(PR_SET_PTRACER, 1) = 0",
        ),
        (
            "prctl",
            &[38, 1, 0, 0, 0],
            0,
            "prctl(PR_SET_NO_NEW_PRIVS, 0x1, 0, 0, 0) = 0",
        ),
        (
            "prctl",
            &[0x11, 0, 0, 0, 0],
            -22,
            "prctl(0x11, 0, 0, 0, 0) = -1 EINVAL",
        ),
        (
            "mremap",
            &[0x7f00_0000, 4096, 8192, 1, 0x1234],
            0x7f10_0000,
            "mremap(0x7f000000, 4096, 8192, MREMAP_MAYMOVE) = 0x7f100000",
        ),
        (
            "mremap",
            &[0x7f00_0000, 4096, 4096, 3, 0x7f20_0000],
            0x7f20_0000,
            "mremap(0x7f000000, 4096, 4096, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f200000) = 0x7f200000",
        ),
        (
            "mremap",
            &[0x7f00_0000, 4096, 4096, 2, 0x7f20_0000],
            -22,
            "mremap(0x7f000000, 4096, 4096, MREMAP_FIXED) = -1 EINVAL",
        ),
        (
            "membarrier",
            &[1 << 3, 0, 3],
            0,
            "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) = 0",
        ),
        (
            "membarrier",
            &[0, 1, 3],
            -22,
            "membarrier(MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_FLAG_CPU, 3) = -1 EINVAL",
        ),
    ];
    for (name, args, ret, want) in cases {
        assert_eq!(line(&ev(name, *ret, args)), *want, "{name} {args:x?}");
    }
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
        line(&ev("setresuid", 0, &[M1, 0, 1000])),
        "setresuid(-1, 0, 1000) = 0"
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
