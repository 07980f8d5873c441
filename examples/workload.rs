//! A load generator and known-syscall workload for the tests and the
//! overhead benchmark. Talks to the kernel through libc directly so every
//! call is exactly one syscall.
//!
//!   workload known MARKER      openat(MARKER) -> ENOENT, 100 x getppid, write(/dev/null)
//!   workload getppid N         N x getppid
//!   workload storm getppid|open SECS   run for SECS, print "<calls> <calls/s>"
//!   workload loop-open PATH MS        openat(PATH) every MS ms until killed
//!   workload churn N          fork+exec N short-lived children (/bin/true)
//!   workload gated-getppid N  wait for a byte on stdin, then N x getppid
//!   workload gated-churn N    wait for a byte on stdin, then churn N
//!   workload counted N M PATH wait for a byte on stdin, then N x getppid, M x open(PATH)
//!   workload rounds K         K x getppid per byte on stdin, until end of file
//!   workload hostile          set a comm and open paths full of control bytes
//!   workload gated-setsid     getppid; after a byte on stdin, setsid and
//!                             print "s"; after another, getppid
//!   workload extra-args       getppid, close(-1) and lseek(-1, 7, 0), each
//!                             with 11..66 in the six argument registers
//!                             it does not use; then syscall numbers
//!                             1024 + getppid's and 1024 + exit_group's
//!                             (both ENOSYS) with 11..66

use std::ffi::CString;
use std::time::{Duration, Instant};

fn getppid() {
    // SAFETY: no arguments, no memory.
    unsafe { libc::syscall(libc::SYS_getppid) };
}

fn open_close(path: &CString) {
    // SAFETY: path is a valid NUL-terminated string for the whole call.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
    if fd >= 0 {
        let mut b = [0u8; 1];
        // SAFETY: fd was just opened; b is a valid 1-byte buffer.
        unsafe {
            libc::read(fd, b.as_mut_ptr().cast(), 1);
            libc::close(fd);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(1).as_str() {
        "known" => {
            let marker = CString::new(arg(2)).expect("marker without NUL");
            // SAFETY: valid C string.
            let fd = unsafe { libc::open(marker.as_ptr(), libc::O_RDONLY) };
            assert!(fd < 0, "the marker path must not exist");
            for _ in 0..100 {
                getppid();
            }
            let null = CString::new("/dev/null").unwrap();
            // SAFETY: valid C string; buffer lives across the call.
            unsafe {
                let fd = libc::open(null.as_ptr(), libc::O_WRONLY);
                libc::write(fd, b"hello".as_ptr().cast(), 5);
                libc::close(fd);
            }
        }
        "extra-args" => unsafe {
            // As longs: a variadic int leaves the upper half of its slot
            // to chance, and the sixth goes on the stack.
            let [a, b, c, d, e, f]: [libc::c_long; 6] = [11, 22, 33, 44, 55, 66];
            libc::syscall(libc::SYS_getppid, a, b, c, d, e, f);
            libc::syscall(libc::SYS_close, -1 as libc::c_long, b, c, d, e, f);
            libc::syscall(
                libc::SYS_lseek,
                -1 as libc::c_long,
                7 as libc::c_long,
                0 as libc::c_long,
                d,
                e,
                f,
            );
            libc::syscall(1024 + libc::SYS_getppid, a, b, c, d, e, f);
            libc::syscall(1024 + libc::SYS_exit_group, a, b, c, d, e, f);
        },
        "getppid" => {
            let n: u64 = arg(2).parse().expect("count");
            for _ in 0..n {
                getppid();
            }
        }
        "storm" => {
            let secs: f64 = arg(3).parse().unwrap_or(2.0);
            let path = CString::new("/dev/null").unwrap();
            let open = arg(2) == "open";
            let end = Instant::now() + Duration::from_secs_f64(secs);
            let start = Instant::now();
            let mut calls = 0u64;
            while Instant::now() < end {
                for _ in 0..1000 {
                    if open {
                        open_close(&path);
                        calls += 3;
                    } else {
                        getppid();
                        calls += 1;
                    }
                }
            }
            let el = start.elapsed().as_secs_f64();
            println!("{calls} {:.0}", calls as f64 / el);
        }
        "loop-open" => {
            let path = CString::new(arg(2)).expect("path");
            let ms: u64 = arg(3).parse().unwrap_or(50);
            loop {
                open_close(&path);
                std::thread::sleep(Duration::from_millis(ms));
            }
        }
        "churn" | "gated-churn" => {
            let n: u32 = arg(2).parse().expect("count");
            if arg(1) == "gated-churn" {
                let mut b = [0u8; 1];
                // SAFETY: reading one byte into a valid buffer.
                unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) };
            }
            for _ in 0..n {
                let st = std::process::Command::new("/bin/true").status();
                assert!(st.is_ok_and(|s| s.success()));
            }
        }
        "gated-getppid-paced" => {
            // As gated-getppid, at a bounded rate: K calls, then 1 ms asleep.
            let n: u64 = arg(2).parse().expect("count");
            let k: u64 = arg(3).parse().expect("calls between sleeps");
            let mut b = [0u8; 1];
            // SAFETY: reading one byte into a valid buffer.
            unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) };
            for i in 0..n {
                getppid();
                if i % k == k - 1 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        "gated-getppid" => {
            let n: u64 = arg(2).parse().expect("count");
            let mut b = [0u8; 1];
            // SAFETY: reading one byte into a valid buffer.
            unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) };
            for _ in 0..n {
                getppid();
            }
        }
        "counted" => {
            // N getppid, then M opens of PATH (missing: ENOENT), once a
            // byte arrives on stdin.
            let n: u64 = arg(2).parse().expect("count");
            let m: u64 = arg(3).parse().expect("count");
            let path = CString::new(arg(4)).expect("path without NUL");
            let mut b = [0u8; 1];
            // SAFETY: reading one byte into a valid buffer.
            unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) };
            for _ in 0..n {
                getppid();
            }
            for _ in 0..m {
                // SAFETY: path is a valid NUL-terminated string.
                unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
            }
        }
        "rounds" => {
            // K getppid per byte read from stdin, until end of file.
            let k: u64 = arg(2).parse().expect("count");
            let mut b = [0u8; 1];
            // SAFETY: reading one byte into a valid buffer.
            while unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) } == 1 {
                for _ in 0..k {
                    getppid();
                }
            }
        }
        "gated-setsid" => {
            // A new session between two getppids, each step on a byte.
            let mut b = [0u8; 1];
            getppid();
            // SAFETY: reading one byte into a valid buffer; setsid takes
            // nothing; writing two bytes from a static buffer.
            unsafe {
                libc::read(0, b.as_mut_ptr().cast(), 1);
                assert!(libc::setsid() > 0, "setsid");
                libc::write(1, b"s\n".as_ptr().cast(), 2);
                libc::read(0, b.as_mut_ptr().cast(), 1);
            }
            getppid();
        }
        "hostile" => {
            // A command name and paths chosen to break a terminal if printed raw.
            let comm = b"ev\x1b]0;pwn\x07\0";
            // SAFETY: PR_SET_NAME reads a NUL-terminated string of <= 16 bytes.
            unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr()) };
            let mut long = b"/tmp/\x1b[2J\x1b[H\n\r\t\xff\xfe".to_vec();
            long.extend(std::iter::repeat_n(b'A', 5000));
            for p in [
                &b"/tmp/\x1b[31mred\x1b[0m"[..],
                &b"/tmp/line\nbreak\rcr\x08bs\x7f"[..],
                &b"/tmp/\xc3\x28invalid-utf8\xff"[..],
                &long[..],
            ] {
                let c = CString::new(p).unwrap();
                // SAFETY: valid C string.
                unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) };
            }
        }
        other => {
            eprintln!("workload: unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}
