//! Programs for the strace-oracle test (tests/oracle.rs): each mode makes a
//! known set of syscalls through libc, so strace and systrace-tui can be
//! compared line by line on the same run.
//!
//!   stcorpus files DIR    file operations inside DIR, with failures
//!   stcorpus net          TCP and UDP on 127.0.0.1, IPv6 on ::1, refused connect
//!   stcorpus unix DIR     unix sockets: path in DIR, abstract, socketpair
//!   stcorpus proc         fork, execve with argv, wait4, kill, ids, prctl
//!   stcorpus mem          mmap/mprotect/madvise/mremap/munmap/brk, membarrier
//!   stcorpus signals      rt_sigaction, rt_sigprocmask, kill/tgkill to self
//!   stcorpus stat DIR     stat family, statx, statfs, utimensat, getdents64
//!   stcorpus time         sleeps, clocks, timers, poll/select, rlimits, uname,
//!                         sysinfo, rusage, times, sched_param, capabilities
//!   stcorpus io DIR       iovecs, msghdr, epoll, sockopts, pipes, ioctls
//!   stcorpus wait         wait4 with status and rusage, clone3, rt_sigsuspend,
//!                         signal sets
//!   stcorpus futex        every futex command, each with its own arguments
//!
//! Every call's result is checked, so a mode that did not do what it says
//! fails instead of producing a corpus that tests nothing.

use std::ffi::CString;
use std::mem::{size_of, zeroed};
use std::ptr::{null, null_mut};

use libc::{c_int, c_void, socklen_t};

fn cs(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

fn ok(r: i64, what: &str) -> i64 {
    assert!(r >= 0, "{what} failed: {}", std::io::Error::last_os_error());
    r
}

fn fails(r: i64, errno: c_int, what: &str) {
    let e = std::io::Error::last_os_error().raw_os_error();
    assert!(
        r < 0 && e == Some(errno),
        "{what}: expected errno {errno}, got {r} / {e:?}"
    );
}

// SAFETY (whole file): every pointer passed to libc points at live memory of
// the size given, and every string is NUL-terminated.

fn files(dir: &str) {
    let f = cs(&format!("{dir}/data.txt"));
    let f2 = cs(&format!("{dir}/renamed.txt"));
    let sub = cs(&format!("{dir}/sub"));
    let link = cs(&format!("{dir}/link"));
    unsafe {
        let fd = ok(
            libc::openat(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
                0o640,
            )
            .into(),
            "openat create",
        ) as c_int;
        let text = b"hello, oracle\n\twith \"quotes\" and \\ backslash\n";
        ok(
            libc::write(fd, text.as_ptr().cast(), text.len()) as i64,
            "write",
        );
        // Longer than the default 64-byte capture: shown cut with "...".
        let long = [b'x'; 200];
        ok(
            libc::write(fd, long.as_ptr().cast(), long.len()) as i64,
            "write long",
        );
        let bin: [u8; 8] = [0x7f, b'E', b'L', b'F', 0, 1, 0xff, b'\n'];
        ok(
            libc::pwrite(fd, bin.as_ptr().cast(), bin.len(), 300) as i64,
            "pwrite64",
        );
        ok(libc::fchmod(fd, 0o600).into(), "fchmod");
        ok(libc::ftruncate(fd, 308).into(), "ftruncate");
        ok(libc::close(fd).into(), "close");

        let fd = ok(
            libc::openat(libc::AT_FDCWD, f.as_ptr(), libc::O_RDONLY).into(),
            "openat ro",
        ) as c_int;
        let mut buf = [0u8; 32];
        ok(libc::read(fd, buf.as_mut_ptr().cast(), 16) as i64, "read");
        ok(libc::lseek(fd, 4, libc::SEEK_CUR), "lseek");
        ok(
            libc::pread(fd, buf.as_mut_ptr().cast(), 8, 300) as i64,
            "pread64",
        );
        let d = ok(libc::dup(fd).into(), "dup") as c_int;
        ok(libc::dup2(fd, 20).into(), "dup2");
        ok(libc::dup3(fd, 21, libc::O_CLOEXEC).into(), "dup3");
        ok(
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC).into(),
            "F_SETFD",
        );
        ok(libc::fcntl(fd, libc::F_GETFD).into(), "F_GETFD");
        ok(
            libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK).into(),
            "F_SETFL",
        );
        ok(libc::fcntl(fd, libc::F_GETFL).into(), "F_GETFL");
        ok(
            libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 30).into(),
            "F_DUPFD_CLOEXEC",
        );
        for c in [d, 20, 21, 30, fd] {
            ok(libc::close(c).into(), "close");
        }
        let mut p = [0 as c_int; 2];
        ok(
            libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK).into(),
            "pipe2",
        );
        ok(
            libc::write(p[1], b"through the pipe".as_ptr().cast(), 16) as i64,
            "write pipe",
        );
        ok(
            libc::read(p[0], buf.as_mut_ptr().cast(), 32) as i64,
            "read pipe",
        );
        // Empty non-blocking pipe.
        fails(
            libc::read(p[0], buf.as_mut_ptr().cast(), 32) as i64,
            libc::EAGAIN,
            "read empty",
        );
        libc::close(p[0]);
        libc::close(p[1]);

        ok(
            libc::mkdirat(libc::AT_FDCWD, sub.as_ptr(), 0o755).into(),
            "mkdirat",
        );
        fails(
            libc::mkdir(sub.as_ptr(), 0o700).into(),
            libc::EEXIST,
            "mkdir again",
        );
        ok(
            libc::symlinkat(f.as_ptr(), libc::AT_FDCWD, link.as_ptr()).into(),
            "symlinkat",
        );
        let mut lb = [0u8; 256];
        ok(
            libc::readlinkat(
                libc::AT_FDCWD,
                link.as_ptr(),
                lb.as_mut_ptr().cast(),
                lb.len(),
            ) as i64,
            "readlinkat",
        );
        ok(
            libc::faccessat(libc::AT_FDCWD, f.as_ptr(), libc::R_OK | libc::W_OK, 0).into(),
            "faccessat",
        );
        fails(
            libc::access(cs("/nonexistent/x").as_ptr(), libc::F_OK).into(),
            libc::ENOENT,
            "access",
        );
        ok(
            libc::renameat(libc::AT_FDCWD, f.as_ptr(), libc::AT_FDCWD, f2.as_ptr()).into(),
            "renameat",
        );
        fails(
            libc::openat(libc::AT_FDCWD, f.as_ptr(), libc::O_RDONLY).into(),
            libc::ENOENT,
            "open renamed",
        );
        fails(
            libc::openat(libc::AT_FDCWD, sub.as_ptr(), libc::O_WRONLY).into(),
            libc::EISDIR,
            "open dir for write",
        );
        fails(
            libc::openat(
                libc::AT_FDCWD,
                cs(&format!("{dir}/renamed.txt/x")).as_ptr(),
                libc::O_RDONLY,
            )
            .into(),
            libc::ENOTDIR,
            "open under a file",
        );
        fails(
            libc::openat(
                libc::AT_FDCWD,
                f2.as_ptr(),
                libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL,
                0o600,
            )
            .into(),
            libc::EEXIST,
            "O_EXCL",
        );
        // A path the kernel cannot read: shown as an address, like strace does.
        fails(
            libc::openat(libc::AT_FDCWD, 8 as *const libc::c_char, libc::O_RDONLY).into(),
            libc::EFAULT,
            "bad pointer",
        );
        fails(libc::close(999).into(), libc::EBADF, "close 999");
        fails(
            libc::write(999, b"x".as_ptr().cast(), 1) as i64,
            libc::EBADF,
            "write 999",
        );
        fails(libc::lseek(0, 0, 99), libc::EINVAL, "lseek whence");
        ok(
            libc::unlinkat(libc::AT_FDCWD, link.as_ptr(), 0).into(),
            "unlinkat",
        );
        ok(
            libc::unlinkat(libc::AT_FDCWD, sub.as_ptr(), libc::AT_REMOVEDIR).into(),
            "rmdir",
        );
        ok(libc::unlink(f2.as_ptr()).into(), "unlink");
        ok(libc::chdir(cs(dir).as_ptr()).into(), "chdir");
        let mut cwd = [0u8; 512];
        assert!(!libc::getcwd(cwd.as_mut_ptr().cast(), cwd.len()).is_null());
        libc::umask(0o27);
        libc::umask(0o22);
    }
}

fn sin(port: u16) -> libc::sockaddr_in {
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    a.sin_family = libc::AF_INET as u16;
    a.sin_port = port.to_be();
    a.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
    a
}

fn local_port(fd: c_int) -> u16 {
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    let mut l = size_of::<libc::sockaddr_in>() as socklen_t;
    ok(
        unsafe { libc::getsockname(fd, (&mut a as *mut libc::sockaddr_in).cast(), &mut l) }.into(),
        "getsockname",
    );
    u16::from_be(a.sin_port)
}

fn net() {
    let sl = size_of::<libc::sockaddr_in>() as socklen_t;
    unsafe {
        let srv = ok(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).into(),
            "socket",
        ) as c_int;
        let one: c_int = 1;
        ok(
            libc::setsockopt(
                srv,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const c_int).cast(),
                4,
            )
            .into(),
            "setsockopt",
        );
        let a = sin(0);
        ok(
            libc::bind(srv, (&a as *const libc::sockaddr_in).cast(), sl).into(),
            "bind",
        );
        ok(libc::listen(srv, 16).into(), "listen");
        let port = local_port(srv);
        let cli = ok(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_TCP).into(),
            "socket",
        ) as c_int;
        let to = sin(port);
        ok(
            libc::connect(cli, (&to as *const libc::sockaddr_in).cast(), sl).into(),
            "connect",
        );
        let mut peer: libc::sockaddr_in = zeroed();
        let mut pl = sl;
        let conn = ok(
            libc::accept4(
                srv,
                (&mut peer as *mut libc::sockaddr_in).cast(),
                &mut pl,
                libc::SOCK_CLOEXEC,
            )
            .into(),
            "accept4",
        ) as c_int;
        ok(
            libc::getpeername(conn, (&mut peer as *mut libc::sockaddr_in).cast(), &mut pl).into(),
            "getpeername",
        );
        let req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        ok(
            libc::sendto(
                cli,
                req.as_ptr().cast(),
                req.len(),
                libc::MSG_NOSIGNAL,
                null(),
                0,
            ) as i64,
            "sendto",
        );
        let mut buf = [0u8; 128];
        ok(
            libc::recvfrom(
                conn,
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                null_mut(),
                null_mut(),
            ) as i64,
            "recvfrom",
        );
        ok(
            libc::write(conn, b"HTTP/1.1 200 OK\r\n\r\n".as_ptr().cast(), 19) as i64,
            "write",
        );
        ok(
            libc::read(cli, buf.as_mut_ptr().cast(), buf.len()) as i64,
            "read",
        );
        ok(libc::shutdown(cli, libc::SHUT_WR).into(), "shutdown");
        for fd in [conn, cli, srv] {
            libc::close(fd);
        }
        // Nobody listens on the port any more.
        let c2 = ok(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0).into(),
            "socket",
        ) as c_int;
        fails(
            libc::connect(c2, (&to as *const libc::sockaddr_in).cast(), sl).into(),
            libc::ECONNREFUSED,
            "refused",
        );
        libc::close(c2);

        let u1 = ok(
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0).into(),
            "udp",
        ) as c_int;
        let u2 = ok(
            libc::socket(
                libc::AF_INET,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK,
                libc::IPPROTO_UDP,
            )
            .into(),
            "udp",
        ) as c_int;
        ok(
            libc::bind(u1, (&a as *const libc::sockaddr_in).cast(), sl).into(),
            "bind udp",
        );
        let uto = sin(local_port(u1));
        ok(
            libc::sendto(
                u2,
                b"ping\0\x01".as_ptr().cast(),
                6,
                0,
                (&uto as *const libc::sockaddr_in).cast(),
                sl,
            ) as i64,
            "sendto udp",
        );
        let mut from: libc::sockaddr_in = zeroed();
        let mut fl = sl;
        ok(
            libc::recvfrom(
                u1,
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_in).cast(),
                &mut fl,
            ) as i64,
            "recvfrom udp",
        );
        fails(
            libc::recvfrom(
                u2,
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                null_mut(),
                null_mut(),
            ) as i64,
            libc::EAGAIN,
            "recv empty",
        );
        libc::close(u1);
        libc::close(u2);

        // IPv6 loopback, when the machine has it.
        let s6 = libc::socket(libc::AF_INET6, libc::SOCK_STREAM, 0);
        if s6 >= 0 {
            let mut a6: libc::sockaddr_in6 = zeroed();
            a6.sin6_family = libc::AF_INET6 as u16;
            a6.sin6_addr.s6_addr[15] = 1;
            let l6 = size_of::<libc::sockaddr_in6>() as socklen_t;
            libc::bind(s6, (&a6 as *const libc::sockaddr_in6).cast(), l6);
            libc::close(s6);
        }
        fails(
            libc::connect(0, (&to as *const libc::sockaddr_in).cast(), sl).into(),
            libc::ENOTSOCK,
            "connect on stdin",
        );
    }
}

fn sun(path: &[u8]) -> (libc::sockaddr_un, socklen_t) {
    let mut a: libc::sockaddr_un = unsafe { zeroed() };
    a.sun_family = libc::AF_UNIX as u16;
    for (i, b) in path.iter().enumerate() {
        a.sun_path[i] = *b as libc::c_char;
    }
    (a, (2 + path.len()) as socklen_t)
}

fn unix(dir: &str) {
    unsafe {
        let path = format!("{dir}/s.sock");
        let (a, l) = sun(path.as_bytes());
        let srv = ok(
            libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0).into(),
            "socket",
        ) as c_int;
        ok(
            libc::bind(srv, (&a as *const libc::sockaddr_un).cast(), l + 1).into(),
            "bind",
        );
        ok(libc::listen(srv, 4).into(), "listen");
        let cli = ok(
            libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).into(),
            "socket",
        ) as c_int;
        ok(
            libc::connect(cli, (&a as *const libc::sockaddr_un).cast(), l + 1).into(),
            "connect",
        );
        let mut peer: libc::sockaddr_un = zeroed();
        let mut pl = size_of::<libc::sockaddr_un>() as socklen_t;
        let conn = ok(
            libc::accept(srv, (&mut peer as *mut libc::sockaddr_un).cast(), &mut pl).into(),
            "accept",
        ) as c_int;
        ok(
            libc::write(cli, b"over unix\n".as_ptr().cast(), 10) as i64,
            "write",
        );
        let mut buf = [0u8; 64];
        ok(libc::read(conn, buf.as_mut_ptr().cast(), 64) as i64, "read");
        let mut sl = size_of::<libc::sockaddr_un>() as socklen_t;
        ok(
            libc::getsockname(srv, (&mut peer as *mut libc::sockaddr_un).cast(), &mut sl).into(),
            "getsockname",
        );
        for fd in [conn, cli, srv] {
            libc::close(fd);
        }
        ok(libc::unlink(cs(&path).as_ptr()).into(), "unlink");

        // Abstract namespace: the name starts with a NUL byte.
        let name = format!("\0stcorpus-{}", std::process::id());
        let (b, bl) = sun(name.as_bytes());
        let s = ok(
            libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0).into(),
            "socket",
        ) as c_int;
        ok(
            libc::bind(s, (&b as *const libc::sockaddr_un).cast(), bl).into(),
            "bind abstract",
        );
        let c = ok(
            libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0).into(),
            "socket",
        ) as c_int;
        ok(
            libc::sendto(
                c,
                b"dgram".as_ptr().cast(),
                5,
                0,
                (&b as *const libc::sockaddr_un).cast(),
                bl,
            ) as i64,
            "sendto",
        );
        ok(
            libc::recvfrom(s, buf.as_mut_ptr().cast(), 64, 0, null_mut(), null_mut()) as i64,
            "recvfrom",
        );
        libc::close(c);
        libc::close(s);
        let missing = format!("{dir}/missing.sock");
        let (m, ml) = sun(missing.as_bytes());
        let c = ok(
            libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0).into(),
            "socket",
        ) as c_int;
        fails(
            libc::connect(c, (&m as *const libc::sockaddr_un).cast(), ml + 1).into(),
            libc::ENOENT,
            "connect missing",
        );
        libc::close(c);
        let mut sv = [0 as c_int; 2];
        ok(
            libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, sv.as_mut_ptr()).into(),
            "socketpair",
        );
        libc::close(sv[0]);
        libc::close(sv[1]);
    }
}

fn proc_() {
    unsafe {
        libc::getpid();
        libc::getppid();
        libc::syscall(libc::SYS_gettid);
        libc::getuid();
        libc::geteuid();
        // prctl shows only the arguments the option uses; junk in the rest.
        let pr = |o: c_int, a: libc::c_ulong| libc::syscall(libc::SYS_prctl, o, a, 7, 7, 7);
        ok(pr(libc::PR_GET_DUMPABLE, 7), "PR_GET_DUMPABLE");
        ok(pr(libc::PR_SET_DUMPABLE, 1), "PR_SET_DUMPABLE");
        ok(pr(libc::PR_SET_PDEATHSIG, 0), "PR_SET_PDEATHSIG");
        ok(pr(libc::PR_CAPBSET_READ, 0), "PR_CAPBSET_READ");
        ok(pr(libc::PR_GET_SECCOMP, 7), "PR_GET_SECCOMP");
        ok(pr(libc::PR_SET_TIMERSLACK, 50_000), "PR_SET_TIMERSLACK");
        fails(pr(libc::PR_GET_NAME, 0), libc::EFAULT, "PR_GET_NAME NULL");
        fails(pr(0x11, 0), libc::EINVAL, "unknown prctl option");
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let prog = cs("/bin/true");
            let args = [cs("true"), cs("an arg"), cs("tab\there"), cs("quote\"d")];
            let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
            argv.push(null());
            libc::execv(prog.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
        let mut status = 0;
        ok(libc::wait4(pid, &mut status, 0, null_mut()).into(), "wait4");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child status {status}"
        );
        fails(
            libc::wait4(-1, &mut status, libc::WNOHANG, null_mut()).into(),
            libc::ECHILD,
            "no children",
        );
        // A pid that does not exist (above the default pid_max of 4194304).
        fails(
            libc::kill(0x7fff_fff0, libc::SIGTERM).into(),
            libc::ESRCH,
            "kill none",
        );
        let missing = cs("/nonexistent/prog");
        let argv = [missing.as_ptr(), null()];
        fails(
            libc::execv(missing.as_ptr(), argv.as_ptr()).into(),
            libc::ENOENT,
            "execve missing",
        );
    }
}

fn mem() {
    unsafe {
        let len = 4 * 4096;
        let p = libc::mmap(
            null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        ok(libc::mprotect(p, 4096, libc::PROT_READ).into(), "mprotect");
        ok(
            libc::mprotect(p, 4096, libc::PROT_NONE).into(),
            "mprotect none",
        );
        ok(libc::madvise(p, len, libc::MADV_DONTNEED).into(), "madvise");
        // Without MREMAP_FIXED the new address (junk here) is not shown.
        // The pages after the first are one mapping, as mremap needs.
        let tail = p.cast::<u8>().add(4096);
        let r = libc::syscall(
            libc::SYS_mremap,
            tail,
            len - 4096,
            2 * len,
            libc::MREMAP_MAYMOVE,
            0x5eed_0000usize,
        );
        assert_ne!(r as *mut c_void, libc::MAP_FAILED, "mremap");
        ok(libc::munmap(r as *mut c_void, 2 * len).into(), "munmap");
        // The CPU argument only with MEMBARRIER_CMD_FLAG_CPU.
        ok(
            libc::syscall(libc::SYS_membarrier, 16, 0, 7),
            "membarrier register",
        );
        ok(libc::munmap(p, len).into(), "munmap");
        let q = libc::mmap(
            null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        );
        assert_ne!(q, libc::MAP_FAILED);
        libc::munmap(q, 4096);
        let bad = libc::mmap(null_mut(), 4096, libc::PROT_READ, libc::MAP_PRIVATE, 999, 0);
        assert_eq!(bad, libc::MAP_FAILED);
        let fd = ok(
            libc::openat(
                libc::AT_FDCWD,
                cs("/proc/self/exe").as_ptr(),
                libc::O_RDONLY,
            )
            .into(),
            "open exe",
        ) as c_int;
        let f = libc::mmap(
            null_mut(),
            8192,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            fd,
            4096,
        );
        assert_ne!(f, libc::MAP_FAILED);
        libc::munmap(f, 8192);
        libc::close(fd);
        let cur = libc::syscall(libc::SYS_brk, 0);
        libc::syscall(libc::SYS_brk, cur + 8192);
        fails(
            libc::munmap(std::ptr::dangling_mut::<c_void>(), 4096).into(),
            libc::EINVAL,
            "munmap unaligned",
        );
    }
}

extern "C" fn on_usr1(_: c_int) {}

fn signals() {
    unsafe {
        let mut sa: libc::sigaction = zeroed();
        sa.sa_sigaction = on_usr1 as extern "C" fn(c_int) as usize;
        ok(
            libc::sigaction(libc::SIGUSR1, &sa, null_mut()).into(),
            "sigaction",
        );
        ok(
            libc::sigaction(libc::SIGUSR2, &sa, null_mut()).into(),
            "sigaction",
        );
        let mut set: libc::sigset_t = zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR2);
        ok(
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, null_mut()).into(),
            "block",
        );
        ok(
            libc::kill(libc::getpid(), libc::SIGUSR1).into(),
            "kill self",
        );
        ok(
            libc::syscall(
                libc::SYS_tgkill,
                libc::getpid(),
                libc::syscall(libc::SYS_gettid),
                libc::SIGUSR2,
            ),
            "tgkill",
        );
        ok(
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, null_mut()).into(),
            "unblock",
        );
        fails(
            libc::kill(libc::getpid(), 99).into(),
            libc::EINVAL,
            "bad signal",
        );
    }
}

fn sys(r: libc::c_long, what: &str) -> i64 {
    ok(r, what)
}

/// stat family, statx, statfs, utimensat, getdents64.
fn stat(dir: &str) {
    let f = cs(&format!("{dir}/st.txt"));
    let empty = cs("");
    let missing = cs("/nonexistent/st");
    unsafe {
        let fd = ok(
            libc::openat(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                0o4750,
            )
            .into(),
            "create",
        ) as c_int;
        ok(
            libc::write(fd, b"twelve bytes".as_ptr().cast(), 12) as i64,
            "write",
        );
        ok(libc::fchmod(fd, 0o4750).into(), "fchmod");
        let mut st: libc::stat = zeroed();
        #[cfg(target_arch = "x86_64")]
        {
            sys(
                libc::syscall(libc::SYS_stat, f.as_ptr(), &mut st as *mut libc::stat),
                "stat",
            );
            sys(
                libc::syscall(libc::SYS_lstat, f.as_ptr(), &mut st as *mut libc::stat),
                "lstat",
            );
            sys(
                libc::syscall(libc::SYS_fstat, fd, &mut st as *mut libc::stat),
                "fstat",
            );
        }
        sys(
            libc::syscall(
                libc::SYS_newfstatat,
                libc::AT_FDCWD,
                f.as_ptr(),
                &mut st as *mut libc::stat,
                0,
            ),
            "newfstatat",
        );
        sys(
            libc::syscall(
                libc::SYS_newfstatat,
                fd,
                empty.as_ptr(),
                &mut st as *mut libc::stat,
                libc::AT_EMPTY_PATH,
            ),
            "newfstatat empty",
        );
        // A device: st_rdev instead of st_size.
        sys(
            libc::syscall(
                libc::SYS_newfstatat,
                libc::AT_FDCWD,
                cs("/dev/null").as_ptr(),
                &mut st as *mut libc::stat,
                0,
            ),
            "newfstatat dev",
        );
        // A directory and a failure (the structure is then an address).
        sys(
            libc::syscall(
                libc::SYS_newfstatat,
                libc::AT_FDCWD,
                cs(dir).as_ptr(),
                &mut st as *mut libc::stat,
                libc::AT_SYMLINK_NOFOLLOW,
            ),
            "newfstatat dir",
        );
        fails(
            libc::syscall(
                libc::SYS_newfstatat,
                libc::AT_FDCWD,
                missing.as_ptr(),
                &mut st as *mut libc::stat,
                0,
            ),
            libc::ENOENT,
            "newfstatat missing",
        );
        let mut stx: libc::statx = zeroed();
        sys(
            libc::syscall(
                libc::SYS_statx,
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_STATX_SYNC_AS_STAT,
                libc::STATX_BASIC_STATS | libc::STATX_BTIME,
                &mut stx as *mut libc::statx,
            ),
            "statx",
        );
        sys(
            libc::syscall(
                libc::SYS_statx,
                fd,
                empty.as_ptr(),
                libc::AT_EMPTY_PATH,
                libc::STATX_TYPE | libc::STATX_MODE,
                &mut stx as *mut libc::statx,
            ),
            "statx fd",
        );
        let mut sfs: libc::statfs = zeroed();
        sys(
            libc::syscall(
                libc::SYS_statfs,
                cs(dir).as_ptr(),
                &mut sfs as *mut libc::statfs,
            ),
            "statfs",
        );
        sys(
            libc::syscall(libc::SYS_fstatfs, fd, &mut sfs as *mut libc::statfs),
            "fstatfs",
        );
        // Fixed times, now, and one left alone.
        let times = [
            libc::timespec {
                tv_sec: 1_000_000_000,
                tv_nsec: 5,
            },
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_NOW,
            },
        ];
        sys(
            libc::syscall(
                libc::SYS_utimensat,
                libc::AT_FDCWD,
                f.as_ptr(),
                times.as_ptr(),
                0,
            ),
            "utimensat",
        );
        let omit = [
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
            libc::timespec {
                tv_sec: 1_600_000_000,
                tv_nsec: 0,
            },
        ];
        sys(
            libc::syscall(
                libc::SYS_utimensat,
                fd,
                null::<libc::c_char>(),
                omit.as_ptr(),
                0,
            ),
            "utimensat fd",
        );
        sys(
            libc::syscall(
                libc::SYS_utimensat,
                libc::AT_FDCWD,
                f.as_ptr(),
                null::<libc::timespec>(),
                0,
            ),
            "utimensat now",
        );
        ok(libc::close(fd).into(), "close");
        let d = ok(
            libc::openat(
                libc::AT_FDCWD,
                cs(dir).as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY,
            )
            .into(),
            "open dir",
        ) as c_int;
        let mut buf = [0u8; 4096];
        while sys(
            libc::syscall(libc::SYS_getdents64, d, buf.as_mut_ptr(), buf.len()),
            "getdents64",
        ) > 0
        {}
        ok(libc::close(d).into(), "close");
        ok(libc::unlink(f.as_ptr()).into(), "unlink");
    }
}

/// Sleeps, clocks, timers, poll/select, resource limits and system data.
fn time() {
    unsafe {
        let short = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1000,
        };
        let mut rem: libc::timespec = zeroed();
        sys(
            libc::syscall(
                libc::SYS_nanosleep,
                &short as *const libc::timespec,
                null_mut::<libc::timespec>(),
            ),
            "nanosleep",
        );
        sys(
            libc::syscall(
                libc::SYS_nanosleep,
                &short as *const libc::timespec,
                &mut rem as *mut libc::timespec,
            ),
            "nanosleep rem",
        );
        sys(
            libc::syscall(
                libc::SYS_clock_nanosleep,
                libc::CLOCK_MONOTONIC,
                0,
                &short as *const libc::timespec,
                null_mut::<libc::timespec>(),
            ),
            "clock_nanosleep",
        );
        // The vDSO answers clock_gettime without a syscall: call the kernel.
        let mut now: libc::timespec = zeroed();
        sys(
            libc::syscall(
                libc::SYS_clock_gettime,
                libc::CLOCK_MONOTONIC,
                &mut now as *mut libc::timespec,
            ),
            "clock_gettime",
        );
        sys(
            libc::syscall(
                libc::SYS_clock_getres,
                libc::CLOCK_REALTIME,
                &mut rem as *mut libc::timespec,
            ),
            "clock_getres",
        );
        // An absolute sleep a microsecond after the reading.
        let mut until = now;
        until.tv_nsec += 1000;
        if until.tv_nsec >= 1_000_000_000 {
            until.tv_sec += 1;
            until.tv_nsec -= 1_000_000_000;
        }
        sys(
            libc::syscall(
                libc::SYS_clock_nanosleep,
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &until as *const libc::timespec,
                null_mut::<libc::timespec>(),
            ),
            "clock_nanosleep abs",
        );
        let mut tv: libc::timeval = zeroed();
        sys(
            libc::syscall(
                libc::SYS_gettimeofday,
                &mut tv as *mut libc::timeval,
                null_mut::<c_void>(),
            ),
            "gettimeofday",
        );

        // A timer: set, read back, disarm.
        let tfd = ok(
            libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_CLOEXEC).into(),
            "timerfd_create",
        ) as c_int;
        let its = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 1,
                tv_nsec: 500,
            },
            it_value: libc::timespec {
                tv_sec: 100,
                tv_nsec: 0,
            },
        };
        let mut old: libc::itimerspec = zeroed();
        ok(
            libc::timerfd_settime(tfd, 0, &its, &mut old).into(),
            "timerfd_settime",
        );
        ok(
            libc::timerfd_gettime(tfd, &mut old).into(),
            "timerfd_gettime",
        );
        ok(libc::close(tfd).into(), "close");

        // poll family on a pipe with data in it.
        let mut p = [0 as c_int; 2];
        ok(libc::pipe2(p.as_mut_ptr(), 0).into(), "pipe2");
        ok(libc::write(p[1], b"x".as_ptr().cast(), 1) as i64, "write");
        let mut fds = [
            libc::pollfd {
                fd: p[0],
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: p[1],
                events: libc::POLLIN | libc::POLLPRI,
                revents: 0,
            },
        ];
        sys(
            libc::syscall(libc::SYS_poll, fds.as_mut_ptr(), 2, 0),
            "poll",
        );
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        sys(
            libc::syscall(
                libc::SYS_ppoll,
                fds.as_mut_ptr(),
                2,
                &zero as *const libc::timespec,
                null::<libc::sigset_t>(),
                8,
            ),
            "ppoll",
        );
        let mut rd: libc::fd_set = zeroed();
        let mut wr: libc::fd_set = zeroed();
        libc::FD_SET(p[0], &mut rd);
        libc::FD_SET(p[1], &mut wr);
        let mut tv0: libc::timeval = zeroed();
        #[cfg(target_arch = "x86_64")]
        sys(
            libc::syscall(
                libc::SYS_select,
                p[1] + 1,
                &mut rd as *mut libc::fd_set,
                &mut wr as *mut libc::fd_set,
                null_mut::<libc::fd_set>(),
                &mut tv0 as *mut libc::timeval,
            ),
            "select",
        );
        libc::FD_SET(p[0], &mut rd);
        libc::FD_SET(p[1], &mut wr);
        let mut ts0 = zero;
        sys(
            libc::syscall(
                libc::SYS_pselect6,
                p[1] + 1,
                &mut rd as *mut libc::fd_set,
                &mut wr as *mut libc::fd_set,
                null_mut::<libc::fd_set>(),
                &mut ts0 as *mut libc::timespec,
                null::<c_void>(),
            ),
            "pselect6",
        );
        let _ = &mut tv0;
        // Nothing ready: 0 (Timeout).
        let mut quiet = [libc::pollfd {
            fd: p[1],
            events: libc::POLLIN,
            revents: 0,
        }];
        sys(
            libc::syscall(libc::SYS_poll, quiet.as_mut_ptr(), 1, 0),
            "poll timeout",
        );
        libc::close(p[0]);
        libc::close(p[1]);

        // Resource limits.
        let mut rl: libc::rlimit = zeroed();
        #[cfg(target_arch = "x86_64")]
        {
            sys(
                libc::syscall(
                    libc::SYS_getrlimit,
                    libc::RLIMIT_NOFILE,
                    &mut rl as *mut libc::rlimit,
                ),
                "getrlimit",
            );
            sys(
                libc::syscall(
                    libc::SYS_setrlimit,
                    libc::RLIMIT_NOFILE,
                    &rl as *const libc::rlimit,
                ),
                "setrlimit",
            );
        }
        sys(
            libc::syscall(
                libc::SYS_prlimit64,
                0,
                libc::RLIMIT_STACK,
                null::<libc::rlimit>(),
                &mut rl as *mut libc::rlimit,
            ),
            "prlimit64 get",
        );
        let core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: libc::RLIM_INFINITY,
        };
        sys(
            libc::syscall(
                libc::SYS_prlimit64,
                0,
                libc::RLIMIT_CORE,
                &core as *const libc::rlimit,
                &mut rl as *mut libc::rlimit,
            ),
            "prlimit64 set",
        );

        // System data.
        let mut u: libc::utsname = zeroed();
        sys(
            libc::syscall(libc::SYS_uname, &mut u as *mut libc::utsname),
            "uname",
        );
        let mut si: libc::sysinfo = zeroed();
        sys(
            libc::syscall(libc::SYS_sysinfo, &mut si as *mut libc::sysinfo),
            "sysinfo",
        );
        let mut ru: libc::rusage = zeroed();
        sys(
            libc::syscall(
                libc::SYS_getrusage,
                libc::RUSAGE_SELF,
                &mut ru as *mut libc::rusage,
            ),
            "getrusage",
        );
        let mut t: libc::tms = zeroed();
        sys(
            libc::syscall(libc::SYS_times, &mut t as *mut libc::tms),
            "times",
        );

        // Scheduling parameters.
        let mut sp: libc::sched_param = zeroed();
        sys(
            libc::syscall(
                libc::SYS_sched_getparam,
                0,
                &mut sp as *mut libc::sched_param,
            ),
            "sched_getparam",
        );
        sys(
            libc::syscall(
                libc::SYS_sched_setscheduler,
                0,
                libc::SCHED_OTHER,
                &sp as *const libc::sched_param,
            ),
            "sched_setscheduler",
        );
        sys(
            libc::syscall(libc::SYS_sched_setparam, 0, &sp as *const libc::sched_param),
            "sched_setparam",
        );

        // Capabilities: read them, then set the same ones back.
        #[repr(C)]
        struct CapHeader {
            version: u32,
            pid: c_int,
        }
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct CapData {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        let mut h = CapHeader {
            version: 0x2008_0522,
            pid: 0,
        };
        let mut data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        sys(
            libc::syscall(
                libc::SYS_capget,
                &mut h as *mut CapHeader,
                data.as_mut_ptr(),
            ),
            "capget",
        );
        sys(
            libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, data.as_ptr()),
            "capset",
        );
    }
}

/// iovecs, msghdr, epoll, socket options, pipes and ioctls.
fn io(dir: &str) {
    let f = cs(&format!("{dir}/iov.txt"));
    unsafe {
        let fd = ok(
            libc::openat(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
                0o600,
            )
            .into(),
            "create",
        ) as c_int;
        let a = b"first part, ";
        let b = b"second\n";
        let iov = [
            libc::iovec {
                iov_base: a.as_ptr() as *mut c_void,
                iov_len: a.len(),
            },
            libc::iovec {
                iov_base: b.as_ptr() as *mut c_void,
                iov_len: b.len(),
            },
        ];
        ok(libc::writev(fd, iov.as_ptr(), 2) as i64, "writev");
        ok(libc::pwritev(fd, iov.as_ptr(), 2, 100) as i64, "pwritev");
        let mut r1 = [0u8; 5];
        let mut r2 = [0u8; 64];
        let riov = [
            libc::iovec {
                iov_base: r1.as_mut_ptr().cast(),
                iov_len: r1.len(),
            },
            libc::iovec {
                iov_base: r2.as_mut_ptr().cast(),
                iov_len: r2.len(),
            },
        ];
        ok(libc::lseek(fd, 0, libc::SEEK_SET), "lseek");
        ok(libc::readv(fd, riov.as_ptr(), 2) as i64, "readv");
        ok(libc::preadv(fd, riov.as_ptr(), 2, 100) as i64, "preadv");
        // At the end of the file: nothing read.
        ok(libc::readv(fd, riov.as_ptr(), 2) as i64, "readv eof");
        ok(libc::close(fd).into(), "close");
        ok(libc::unlink(f.as_ptr()).into(), "unlink");

        // Old-style pipe() and a pipe for FIONREAD.
        let mut p = [0 as c_int; 2];
        #[cfg(target_arch = "x86_64")]
        {
            sys(libc::syscall(libc::SYS_pipe, p.as_mut_ptr()), "pipe");
            libc::close(p[0]);
            libc::close(p[1]);
        }
        ok(libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC).into(), "pipe2");
        ok(
            libc::write(p[1], b"hello".as_ptr().cast(), 5) as i64,
            "write",
        );
        let mut n: c_int = 0;
        ok(
            libc::ioctl(p[0], libc::FIONREAD, &mut n as *mut c_int).into(),
            "FIONREAD",
        );

        // epoll: register the pipe's read end, collect its event.
        let ep = ok(
            libc::epoll_create1(libc::EPOLL_CLOEXEC).into(),
            "epoll_create1",
        ) as c_int;
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: p[0] as u64,
        };
        ok(
            libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, p[0], &mut ev).into(),
            "epoll_ctl",
        );
        let mut ev2 = libc::epoll_event {
            events: libc::EPOLLOUT as u32,
            u64: 0x1_0000_0007,
        };
        ok(
            libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, p[1], &mut ev2).into(),
            "epoll_ctl",
        );
        let mut out = [libc::epoll_event { events: 0, u64: 0 }; 8];
        ok(
            libc::syscall(
                libc::SYS_epoll_pwait,
                ep,
                out.as_mut_ptr(),
                8,
                0,
                null::<c_void>(),
                8,
            ),
            "epoll_pwait",
        );
        #[cfg(target_arch = "x86_64")]
        ok(
            libc::syscall(libc::SYS_epoll_wait, ep, out.as_mut_ptr(), 8, 0),
            "epoll_wait",
        );
        ok(
            libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, p[0], null_mut()).into(),
            "epoll_ctl del",
        );
        libc::close(ep);
        libc::close(p[0]);
        libc::close(p[1]);

        // Datagrams over a socket pair: sendmsg with two iovecs, recvmsg.
        let mut sv = [0 as c_int; 2];
        ok(
            libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, sv.as_mut_ptr()).into(),
            "socketpair",
        );
        let mut mh: libc::msghdr = zeroed();
        mh.msg_iov = iov.as_ptr() as *mut libc::iovec;
        mh.msg_iovlen = 2;
        ok(libc::sendmsg(sv[0], &mh, 0) as i64, "sendmsg");
        let mut rh: libc::msghdr = zeroed();
        rh.msg_iov = riov.as_ptr() as *mut libc::iovec;
        rh.msg_iovlen = 2;
        ok(libc::recvmsg(sv[1], &mut rh, 0) as i64, "recvmsg");
        fails(
            libc::recvmsg(sv[1], &mut rh, libc::MSG_DONTWAIT) as i64,
            libc::EAGAIN,
            "recvmsg empty",
        );
        let one: c_int = 1;
        ok(
            libc::ioctl(sv[0], libc::FIONBIO, &one as *const c_int).into(),
            "FIONBIO",
        );
        libc::close(sv[0]);
        libc::close(sv[1]);

        // UDP: a named sendmsg, a recvmsg that learns the sender.
        let u1 = ok(
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0).into(),
            "udp",
        ) as c_int;
        let u2 = ok(
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0).into(),
            "udp",
        ) as c_int;
        let any = sin(0);
        let sl = size_of::<libc::sockaddr_in>() as socklen_t;
        ok(
            libc::bind(u1, (&any as *const libc::sockaddr_in).cast(), sl).into(),
            "bind",
        );
        let mut to = sin(local_port(u1));
        let mut sm: libc::msghdr = zeroed();
        sm.msg_name = (&mut to as *mut libc::sockaddr_in).cast();
        sm.msg_namelen = sl;
        sm.msg_iov = iov.as_ptr() as *mut libc::iovec;
        sm.msg_iovlen = 1;
        ok(libc::sendmsg(u2, &sm, 0) as i64, "sendmsg udp");
        let mut from: libc::sockaddr_storage = zeroed();
        let mut rm: libc::msghdr = zeroed();
        rm.msg_name = (&mut from as *mut libc::sockaddr_storage).cast();
        rm.msg_namelen = size_of::<libc::sockaddr_storage>() as socklen_t;
        rm.msg_iov = riov.as_ptr() as *mut libc::iovec;
        rm.msg_iovlen = 2;
        ok(libc::recvmsg(u1, &mut rm, 0) as i64, "recvmsg udp");

        // Socket options: ints and linger, set and read back.
        ok(
            libc::setsockopt(
                u1,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&one as *const c_int).cast(),
                4,
            )
            .into(),
            "setsockopt",
        );
        let mut val: c_int = 0;
        let mut vl = 4 as socklen_t;
        ok(
            libc::getsockopt(
                u1,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&mut val as *mut c_int).cast(),
                &mut vl,
            )
            .into(),
            "getsockopt",
        );
        let t = ok(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0).into(),
            "tcp",
        ) as c_int;
        let lg = libc::linger {
            l_onoff: 1,
            l_linger: 5,
        };
        let ll = size_of::<libc::linger>() as socklen_t;
        ok(
            libc::setsockopt(
                t,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&lg as *const libc::linger).cast(),
                ll,
            )
            .into(),
            "setsockopt linger",
        );
        let mut lg2: libc::linger = zeroed();
        let mut ll2 = ll;
        ok(
            libc::getsockopt(
                t,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&mut lg2 as *mut libc::linger).cast(),
                &mut ll2,
            )
            .into(),
            "getsockopt linger",
        );
        ok(
            libc::setsockopt(
                t,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const c_int).cast(),
                4,
            )
            .into(),
            "TCP_NODELAY",
        );
        for s in [u1, u2, t] {
            libc::close(s);
        }

        // A terminal: the master side of a new pseudo-terminal.
        let m = ok(
            libc::openat(
                libc::AT_FDCWD,
                cs("/dev/ptmx").as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY,
            )
            .into(),
            "ptmx",
        ) as c_int;
        let mut tio: libc::termios = zeroed();
        ok(
            libc::ioctl(m, libc::TCGETS, &mut tio as *mut libc::termios).into(),
            "TCGETS",
        );
        let ws = libc::winsize {
            ws_row: 50,
            ws_col: 132,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        ok(
            libc::ioctl(m, libc::TIOCSWINSZ, &ws as *const libc::winsize).into(),
            "TIOCSWINSZ",
        );
        let mut ws2: libc::winsize = zeroed();
        ok(
            libc::ioctl(m, libc::TIOCGWINSZ, &mut ws2 as *mut libc::winsize).into(),
            "TIOCGWINSZ",
        );
        // No struct to write into, and a request that takes no argument.
        fails(
            libc::ioctl(m, libc::TCGETS, null_mut::<libc::termios>()).into(),
            libc::EFAULT,
            "TCGETS NULL",
        );
        fails(
            libc::ioctl(m, libc::FIONREAD, null_mut::<c_int>()).into(),
            libc::EFAULT,
            "FIONREAD NULL",
        );
        ok(libc::ioctl(m, libc::FIOCLEX).into(), "FIOCLEX");
        ok(
            libc::ioctl(m, libc::TCFLSH, libc::TCIFLUSH).into(),
            "TCFLSH",
        );
        libc::close(m);
        // Not a terminal.
        fails(
            libc::ioctl(999, libc::TCGETS, &mut tio as *mut libc::termios).into(),
            libc::EBADF,
            "TCGETS bad fd",
        );
        let nul = ok(
            libc::openat(libc::AT_FDCWD, cs("/dev/null").as_ptr(), libc::O_RDONLY).into(),
            "null",
        ) as c_int;
        fails(
            libc::ioctl(nul, libc::TCGETS, &mut tio as *mut libc::termios).into(),
            libc::ENOTTY,
            "TCGETS not a tty",
        );
        libc::close(nul);
    }
}

/// Every futex command on words of this thread: each shows its own
/// arguments (FUTEX_WAKE only `val`, the waits a timeout, FUTEX_WAKE_OP its
/// encoded operation). Unused registers get junk, as libc may leave there.
fn futex() {
    const JUNK: usize = 0x5eed_0000;
    let fx = |u: *const u32, op: c_int, val: u32, t: usize, u2: *const u32, v3: u32| unsafe {
        libc::syscall(libc::SYS_futex, u, op, val, t, u2, v3)
    };
    let w = Box::new([0u32; 2]);
    let (a, b) = (&w[0] as *const u32, &w[1] as *const u32);
    let pv = libc::FUTEX_PRIVATE_FLAG;
    let j = JUNK as *const u32;
    ok(fx(a, libc::FUTEX_WAKE, 1, JUNK, j, 7), "FUTEX_WAKE");
    ok(
        fx(a, libc::FUTEX_WAKE | pv, 1, JUNK, j, 7),
        "FUTEX_WAKE_PRIVATE",
    );
    fails(
        fx(a, libc::FUTEX_WAIT, 1, 0, j, 7),
        libc::EAGAIN,
        "FUTEX_WAIT",
    );
    fails(
        fx(
            a,
            libc::FUTEX_WAIT | pv | libc::FUTEX_CLOCK_REALTIME,
            1,
            0,
            j,
            7,
        ),
        // The kernel takes the clock only on FUTEX_WAIT_BITSET and the PI calls.
        libc::ENOSYS,
        "FUTEX_WAIT_PRIVATE|FUTEX_CLOCK_REALTIME",
    );
    // A timeout: strace shows the structure, which is not copied.
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1000,
    };
    fails(
        fx(a, libc::FUTEX_WAIT | pv, 0, &ts as *const _ as usize, j, 7),
        libc::ETIMEDOUT,
        "FUTEX_WAIT_PRIVATE timeout",
    );
    let any = u32::MAX;
    fails(
        fx(
            a,
            libc::FUTEX_WAIT_BITSET | pv | libc::FUTEX_CLOCK_REALTIME,
            1,
            0,
            j,
            any,
        ),
        libc::EAGAIN,
        "FUTEX_WAIT_BITSET",
    );
    fails(
        fx(a, libc::FUTEX_WAIT_BITSET, 1, 0, j, 5),
        libc::EAGAIN,
        "FUTEX_WAIT_BITSET 5",
    );
    ok(
        fx(a, libc::FUTEX_WAKE_BITSET | pv, 1, JUNK, j, any),
        "FUTEX_WAKE_BITSET",
    );
    ok(fx(a, libc::FUTEX_REQUEUE | pv, 1, 2, b, 7), "FUTEX_REQUEUE");
    ok(
        fx(a, libc::FUTEX_CMP_REQUEUE | pv, 1, 0x7fff_ffff, b, 0),
        "FUTEX_CMP_REQUEUE",
    );
    fails(
        fx(a, libc::FUTEX_CMP_REQUEUE, 1, 2, b, 7),
        libc::EAGAIN,
        "FUTEX_CMP_REQUEUE 7",
    );
    // FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 1) and
    // FUTEX_OP(FUTEX_OP_ADD | FUTEX_OP_OPARG_SHIFT, 3, FUTEX_OP_CMP_EQ, 0).
    ok(
        fx(a, libc::FUTEX_WAKE_OP | pv, 1, 1, b, 0x0400_0001),
        "FUTEX_WAKE_OP",
    );
    ok(
        fx(a, libc::FUTEX_WAKE_OP, 1, 1, b, 0x9000_3000),
        "FUTEX_WAKE_OP shift",
    );
    fails(
        fx(a, libc::FUTEX_WAKE_OP, 1, 1, b, u32::MAX),
        libc::ENOSYS,
        "FUTEX_WAKE_OP bad",
    );
    // The PI lock on a free word: taken, released, tried, released.
    ok(fx(a, libc::FUTEX_LOCK_PI | pv, 7, 0, j, 7), "FUTEX_LOCK_PI");
    ok(
        fx(a, libc::FUTEX_UNLOCK_PI | pv, 7, JUNK, j, 7),
        "FUTEX_UNLOCK_PI",
    );
    ok(
        fx(a, libc::FUTEX_TRYLOCK_PI, 7, JUNK, j, 7),
        "FUTEX_TRYLOCK_PI",
    );
    ok(
        fx(a, libc::FUTEX_UNLOCK_PI, 7, JUNK, j, 7),
        "FUTEX_UNLOCK_PI shared",
    );
    fails(fx(a, 99, 1, 3, b, 4), libc::ENOSYS, "unknown futex command");
    fails(
        fx(
            a,
            libc::FUTEX_WAKE | libc::FUTEX_CLOCK_REALTIME,
            1,
            JUNK,
            j,
            7,
        ),
        libc::ENOSYS,
        "FUTEX_WAKE with a clock",
    );
    fails(
        fx(std::ptr::null(), libc::FUTEX_WAKE, 1, JUNK, j, 7),
        libc::EFAULT,
        "FUTEX_WAKE NULL",
    );
}

extern "C" fn on_usr2(_: c_int) {}

/// wait4 with a status and rusage, clone3, rt_sigsuspend, signal sets.
fn wait() {
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            libc::_exit(3);
        }
        let mut status = 0;
        let mut ru: libc::rusage = zeroed();
        ok(libc::wait4(pid, &mut status, 0, &mut ru).into(), "wait4");
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 3);

        // clone3 without a new stack: a fork.
        #[repr(C)]
        struct CloneArgs {
            flags: u64,
            pidfd: u64,
            child_tid: u64,
            parent_tid: u64,
            exit_signal: u64,
            stack: u64,
            stack_size: u64,
            tls: u64,
            set_tid: u64,
            set_tid_size: u64,
            cgroup: u64,
        }
        let ca = CloneArgs {
            flags: 0,
            pidfd: 0,
            child_tid: 0,
            parent_tid: 0,
            exit_signal: libc::SIGCHLD as u64,
            stack: 0,
            stack_size: 0,
            tls: 0,
            set_tid: 0,
            set_tid_size: 0,
            cgroup: 0,
        };
        let pid = libc::syscall(
            libc::SYS_clone3,
            &ca as *const CloneArgs,
            size_of::<CloneArgs>(),
        );
        assert!(pid >= 0, "clone3");
        if pid == 0 {
            libc::syscall(libc::SYS_exit_group, 7);
        }
        ok(
            libc::wait4(pid as c_int, &mut status, 0, null_mut()).into(),
            "wait4 clone3",
        );

        // Block SIGUSR2, make it pending, then wait for it with an empty mask.
        let mut sa: libc::sigaction = zeroed();
        sa.sa_sigaction = on_usr2 as extern "C" fn(c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigaddset(&mut sa.sa_mask, libc::SIGINT);
        ok(
            libc::sigaction(libc::SIGUSR2, &sa, null_mut()).into(),
            "sigaction",
        );
        let mut old: libc::sigaction = zeroed();
        ok(
            libc::sigaction(libc::SIGUSR2, null(), &mut old).into(),
            "sigaction get",
        );
        let mut set: libc::sigset_t = zeroed();
        let mut prev: libc::sigset_t = zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR2);
        ok(
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut prev).into(),
            "block",
        );
        ok(
            libc::kill(libc::getpid(), libc::SIGUSR2).into(),
            "kill self",
        );
        let empty: libc::sigset_t = zeroed();
        libc::sigsuspend(&empty);
        // Nearly everything blocked: strace writes the complement.
        let mut full: libc::sigset_t = zeroed();
        libc::sigfillset(&mut full);
        ok(
            libc::pthread_sigmask(libc::SIG_SETMASK, &full, &mut prev).into(),
            "block all",
        );
        ok(
            libc::pthread_sigmask(libc::SIG_SETMASK, &prev, null_mut()).into(),
            "restore",
        );
        let mut pend: libc::sigset_t = zeroed();
        ok(libc::sigpending(&mut pend).into(), "sigpending");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(2).cloned().unwrap_or_else(|| "/tmp".into());
    match args.get(1).map(String::as_str) {
        Some("files") => files(&dir),
        Some("net") => net(),
        Some("unix") => unix(&dir),
        Some("proc") => proc_(),
        Some("mem") => mem(),
        Some("signals") => signals(),
        Some("stat") => stat(&dir),
        Some("time") => time(),
        Some("io") => io(&dir),
        Some("wait") => wait(),
        Some("futex") => futex(),
        _ => {
            eprintln!(
                "usage: stcorpus files|net|unix|proc|mem|signals|stat|time|io|wait|futex [DIR]"
            );
            std::process::exit(2);
        }
    }
}
