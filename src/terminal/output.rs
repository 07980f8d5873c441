//! Standard output for event lines and `-w -`: a reader that stalls (a
//! paused pipe, `| (sleep 60; head -1)`) never holds the process past its
//! stop. Writes to pipes, terminals and sockets wait in `poll` and look at
//! the stop between waits; once the run is stopped, output that makes no
//! progress for `GRACE` is given up (what could not be written is lost,
//! the reader was not reading it).

use std::io::{self, Write};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::model::stop::Stop;

/// How long a stopped run still waits for a stalled reader.
pub const GRACE: Duration = Duration::from_secs(1);
/// Between two looks at the stop while output is stalled.
const TICK: Duration = Duration::from_millis(50);
/// A write of at most this much to a pipe that polls writable does not
/// block (POSIX PIPE_BUF; Linux has a whole free page then).
const PIPE_CHUNK: usize = 4096;

pub struct Output {
    fd: RawFd,
    stop: Stop,
    /// Regular files and block devices never stall on a reader: no poll.
    direct: bool,
    stalled_since: Option<Instant>,
}

impl Output {
    /// File descriptor 1. It is not closed on drop.
    pub fn stdout(stop: Stop) -> Output {
        Output::new(libc::STDOUT_FILENO, stop)
    }

    pub fn new(fd: RawFd, stop: Stop) -> Output {
        // SAFETY: fstat fills a zeroed struct; a failure leaves it zeroed,
        // which reads as "not a regular file" (the careful path).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        unsafe { libc::fstat(fd, &mut st) };
        let kind = st.st_mode & libc::S_IFMT;
        Output {
            fd,
            stop,
            direct: kind == libc::S_IFREG || kind == libc::S_IFBLK,
            stalled_since: None,
        }
    }

    fn stalled(&mut self) -> io::Result<()> {
        if !self.stop.is_raised() {
            return Ok(());
        }
        let since = *self.stalled_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= GRACE {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the reader stopped reading",
            ));
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = if self.direct {
            buf.len()
        } else {
            buf.len().min(PIPE_CHUNK)
        };
        loop {
            if !self.direct {
                let mut p = libc::pollfd {
                    fd: self.fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let n = unsafe { libc::poll(&mut p, 1, TICK.as_millis() as i32) };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
                if n <= 0 {
                    self.stalled()?;
                    continue;
                }
                // Ready, or an error (a closed pipe): write() tells which.
            }
            // SAFETY: writes from a valid slice of `len` bytes.
            let n = unsafe { libc::write(self.fd, buf.as_ptr().cast(), len) };
            if n >= 0 {
                self.stalled_since = None;
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => {}
                // Someone else made the file description non-blocking.
                io::ErrorKind::WouldBlock => self.stalled()?,
                _ => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A line on stderr that cannot fail the program: with stderr closed
/// (`2>&1 | true`) there is nobody left to tell.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds we then own.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    #[test]
    fn a_stalled_pipe_is_given_up_once_stopped() {
        let (_r, w) = pipe();
        let stop = Stop::new(None);
        let mut out = Output::new(w.as_raw_fd(), stop.clone());
        // Fill the pipe: nobody reads it.
        let chunk = vec![b'x'; 1 << 16];
        let filler = std::thread::spawn(move || {
            let mut total = 0usize;
            let res = loop {
                match out.write(&chunk) {
                    Ok(n) => total += n,
                    Err(e) => break e,
                }
            };
            (total, res)
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(!filler.is_finished(), "a stalled reader is waited for");
        stop.raise();
        let (total, e) = filler.join().unwrap();
        assert!(total >= 4096, "the pipe took what fit first ({total})");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_closed_reader_is_a_broken_pipe() {
        let (r, w) = pipe();
        drop(r);
        let mut out = Output::new(w.as_raw_fd(), Stop::new(None));
        let e = out.write(b"line\n").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }
}
