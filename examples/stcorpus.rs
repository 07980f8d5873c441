//! Programs for the strace-oracle test (tests/oracle.rs): each mode makes a
//! known set of syscalls through libc, so strace and systrace-tui can be
//! compared line by line on the same run.
//!
//!   stcorpus files DIR    file operations inside DIR, with failures
//!   stcorpus net          TCP and UDP on 127.0.0.1, IPv6 on ::1, refused connect
//!   stcorpus unix DIR     unix sockets: path in DIR, abstract, socketpair
//!   stcorpus proc         fork, execve with argv, wait4, kill, ids
//!   stcorpus mem          mmap/mprotect/madvise/munmap/brk
//!   stcorpus signals      rt_sigaction, rt_sigprocmask, kill/tgkill to self
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
        _ => {
            eprintln!("usage: stcorpus files|net|unix|proc|mem|signals [DIR]");
            std::process::exit(2);
        }
    }
}
