//! Writing session files: safe creation (0600, no symlinks, no silent
//! overwrite), optional zstd, and a writer thread for live capture.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use super::binary::{Encoder, BINARY_VERSION, RECORDS_BINARY};
use super::format::{write_syscall, ContainerLine, Header, LostLine, WallClock};
use crate::clock::Clock;
use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::flow::Recycler;
use crate::model::stop::Stop;
use crate::model::syscalls::Arch;
use crate::terminal::output::Output;

/// Host name and kernel release, for the header.
pub fn host_and_kernel() -> (String, String) {
    // SAFETY: uname fills the zeroed struct; the fields are NUL-terminated.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (String::new(), String::new());
    }
    let field = |f: &[libc::c_char]| {
        let b: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&b).into_owned()
    };
    (field(&u.nodename), field(&u.release))
}

/// A header for a recording that starts now on this machine.
pub fn live_header(clock: Clock, filters: super::format::Filters) -> Header {
    let (host, kernel) = host_and_kernel();
    Header::new(
        host,
        kernel,
        Arch::native(),
        clock,
        Clock::monotonic_now(),
        filters,
    )
}

fn is_zstd(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

/// Where an export goes.
pub enum Target {
    /// A new file (or, with `overwrite`, a replaced one). A FIFO or a
    /// device is written into as it is: those are not files to protect.
    File { path: PathBuf, overwrite: bool },
    /// Standard output (`-w -`).
    Stdout,
}

impl Target {
    /// `-` is standard output, as for tcpdump.
    pub fn from_arg(path: &Path, overwrite: bool) -> Target {
        if path == Path::new("-") {
            Target::Stdout
        } else {
            Target::File {
                path: path.to_path_buf(),
                overwrite,
            }
        }
    }

    pub fn display(&self) -> String {
        match self {
            Target::File { path, .. } => path.display().to_string(),
            Target::Stdout => "standard output".into(),
        }
    }
}

/// Creates `path` for writing with mode 0600. Never follows a symlink;
/// refuses an existing file unless `overwrite`. An existing FIFO or device
/// is opened as it is.
pub fn create_file(path: &Path, overwrite: bool) -> Result<File> {
    if let Ok(m) = std::fs::symlink_metadata(path) {
        let t = m.file_type();
        if t.is_dir() {
            return Err(anyhow!("{} is a directory", path.display()));
        }
        if t.is_fifo() {
            return open_fifo(path, None);
        }
        if t.is_char_device() || t.is_block_device() {
            return std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .map_err(|e| anyhow!("cannot open {}: {e}", path.display()));
        }
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).mode(0o600).custom_flags(libc::O_NOFOLLOW);
    if overwrite {
        o.create(true).truncate(true);
    } else {
        // O_CREAT|O_EXCL fails on any existing name, symlinks included.
        o.create_new(true);
    }
    let f = o.open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::EEXIST) if path.is_symlink() => {
            anyhow!(
                "{} is a symlink: refusing to write through it",
                path.display()
            )
        }
        Some(libc::EEXIST) => anyhow!(
            "{} already exists: use --force to overwrite it",
            path.display()
        ),
        Some(libc::ELOOP) => {
            anyhow!(
                "{} is a symlink: refusing to write through it",
                path.display()
            )
        }
        Some(libc::EISDIR) => anyhow!("{} is a directory", path.display()),
        _ => anyhow!("cannot create {}: {e}", path.display()),
    })?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(anyhow!("{} is not a regular file", path.display()));
    }
    // An overwritten file keeps its old mode: tighten it.
    if meta.permissions().mode() & 0o777 != 0o600 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// Opens a FIFO for writing without blocking in open(2), which would wait
/// for a reader past any stop. With `wait`, a FIFO nobody reads yet is
/// waited for (said once) until the stop; without, it is an error at once.
fn open_fifo(path: &Path, wait: Option<&Stop>) -> Result<File> {
    let mut said = false;
    loop {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path);
        match f {
            Ok(f) => {
                // Writes block again (`Output` polls before each).
                // SAFETY: fcntl on a descriptor we own.
                unsafe {
                    let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
                    libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
                }
                return Ok(f);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => match wait {
                Some(stop) if !stop.is_raised() => {
                    if !said {
                        crate::say!(
                            "systrace-tui: waiting for a reader of the FIFO {} (Ctrl-C to stop)",
                            path.display()
                        );
                        said = true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                _ => return Err(anyhow!("{}: no reader has the FIFO open", path.display())),
            },
            Err(e) => return Err(anyhow!("cannot open {}: {e}", path.display())),
        }
    }
}

enum Out {
    Plain(File),
    Zstd(zstd::Encoder<'static, File>),
    /// A pipe, FIFO, terminal or device: written with the care a stalled
    /// reader needs, never synced. The file (if any) keeps the fd open.
    Stream {
        out: Output,
        _file: Option<File>,
    },
}

impl Out {
    fn new(target: &Target, stop: &Stop) -> Result<Out> {
        Ok(match target {
            Target::Stdout => Out::Stream {
                out: Output::stdout(stop.clone()),
                _file: None,
            },
            Target::File { path, overwrite } => {
                let fifo = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo());
                let f = if fifo {
                    open_fifo(path, Some(stop))?
                } else {
                    create_file(path, *overwrite)?
                };
                if !f.metadata()?.is_file() {
                    Out::Stream {
                        out: Output::new(f.as_raw_fd(), stop.clone()),
                        _file: Some(f),
                    }
                } else if super::binary::is_binary_path(path) {
                    // A fast level (zstd --fast=3): a recording must keep
                    // up with capture, and records of one kind compress well
                    // anyway (about 7 bytes per call instead of 5.3 at
                    // level 1, for a fifth less of the disk thread's CPU).
                    Out::Zstd(zstd::Encoder::new(f, -3)?)
                } else if is_zstd(path) {
                    Out::Zstd(zstd::Encoder::new(f, 3)?)
                } else {
                    Out::Plain(f)
                }
            }
        })
    }

    fn w(&mut self) -> &mut dyn Write {
        match self {
            Out::Plain(w) => w,
            Out::Zstd(w) => w,
            Out::Stream { out, .. } => out,
        }
    }

    /// Starts the kernel writing what is in the page cache so far, without
    /// waiting: the final fsync then has little left to wait for.
    fn start_writeback(&self) {
        let f = match self {
            Out::Plain(f) => f,
            Out::Zstd(w) => w.get_ref(),
            Out::Stream { .. } => return,
        };
        // SAFETY: a plain syscall on an open descriptor; 0, 0 = the whole
        // file. Only a hint: an error changes nothing.
        unsafe {
            libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }

    fn finish(self) -> io::Result<()> {
        let f = match self {
            Out::Plain(f) => f,
            Out::Zstd(w) => w.finish()?,
            Out::Stream { .. } => return Ok(()),
        };
        f.sync_all()
    }
}

/// Lines collect in a buffer that goes to the disk thread (and on to the
/// compressor or the file) in pieces of about this size.
const FLUSH_AT: usize = 1 << 18;
const BUF_CAP: usize = FLUSH_AT + (64 << 10);
/// Buffers in flight to the disk thread (about 16 MiB): deep enough that
/// on a busy machine neither side waits for the other to be scheduled.
const QUEUE: usize = 64;
/// Input bytes between two writeback hints to the kernel.
const WRITEBACK_EVERY: usize = 8 << 20;

/// Writes (and compresses) on a thread of its own, so formatting lines
/// overlaps with zstd and with the kernel's copy into the page cache.
/// Bounded: when the disk side is slower, `send` waits; nothing is dropped.
struct DiskThread {
    tx: Option<Sender<Vec<u8>>>,
    /// Written buffers come back for reuse.
    back: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl DiskThread {
    fn start(mut out: Out) -> io::Result<DiskThread> {
        let (tx, rx) = bounded::<Vec<u8>>(QUEUE);
        let (back_tx, back) = bounded::<Vec<u8>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("session-disk".into())
            .spawn(move || -> io::Result<()> {
                let mut unsynced = 0;
                for mut b in rx {
                    // An empty buffer asks for what the compressor holds.
                    if b.is_empty() {
                        out.w().flush()?;
                        continue;
                    }
                    out.w().write_all(&b)?;
                    unsynced += b.len();
                    if unsynced >= WRITEBACK_EVERY {
                        unsynced = 0;
                        out.start_writeback();
                    }
                    b.clear();
                    let _ = back_tx.try_send(b);
                }
                // The sender is gone: end the stream and sync.
                out.finish()
            })?;
        Ok(DiskThread {
            tx: Some(tx),
            back,
            thread: Some(thread),
        })
    }

    /// Hands `buf` over and leaves an empty buffer in its place.
    fn send(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        let next = self
            .back
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BUF_CAP));
        let full = std::mem::replace(buf, next);
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(full).is_ok());
        if sent {
            Ok(())
        } else {
            // The thread stopped on an error: that error is the answer.
            self.tx = None;
            self.join()
        }
    }

    /// Asks the thread to push out what the compressor holds, once it has
    /// written what was sent before.
    fn flush(&mut self) -> io::Result<()> {
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Vec::new()).is_ok());
        if sent {
            Ok(())
        } else {
            self.tx = None;
            self.join()
        }
    }

    fn join(&mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(t) => match t.join() {
                Ok(Ok(())) => Err(io::Error::other("the session file was closed early")),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(io::Error::other("the session disk thread panicked")),
            },
            None => Err(io::Error::other(
                "the session file was closed after an error",
            )),
        }
    }

    /// Waits until everything is written, the stream ended and synced.
    fn finish(mut self) -> io::Result<()> {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(io::Error::other("the session disk thread panicked")),
            None => Err(io::Error::other(
                "the session file was closed after an error",
            )),
        }
    }
}

/// A session file being written, synchronously. `Writer` runs one on a
/// thread; the TUI's export job uses one directly.
pub struct SessionFile {
    out: DiskThread,
    /// Containers by cgroup, as last announced, serialized once for the
    /// syscall lines.
    containers: HashMap<u64, Vec<u8>>,
    wall: WallClock,
    buf: Vec<u8>,
    last_lost: LostEvents,
    pub written: u64,
    /// Binary format (`*.strc`): what turns events into records.
    bin: Option<Encoder>,
    /// Something was added since the last `flush`.
    unflushed: bool,
}

impl SessionFile {
    pub fn create(path: &Path, overwrite: bool, header: &Header) -> Result<SessionFile> {
        let target = Target::File {
            path: path.to_path_buf(),
            overwrite,
        };
        SessionFile::create_in(&target, header, &Stop::new(None))
    }

    /// `stop`: when the run ends, a reader of a stream target that stopped
    /// reading is given up on (see `Output`).
    pub fn create_in(target: &Target, header: &Header, stop: &Stop) -> Result<SessionFile> {
        let out = Out::new(target, stop)?;
        let bin = match target {
            Target::File { path, .. } if super::binary::is_binary_path(path) => {
                Some(Encoder::new())
            }
            _ => None,
        };
        let mut header = header.clone();
        if bin.is_some() {
            header.records = Some(RECORDS_BINARY.to_string());
            header.version = BINARY_VERSION;
        } else {
            // A binary session's header, cut or exported to JSON Lines,
            // must not say its lines are records.
            header.records = None;
            header.version = super::format::FORMAT_VERSION;
        }
        let header = &header;
        let mut s = SessionFile {
            out: DiskThread::start(out)?,
            containers: HashMap::new(),
            wall: WallClock::new(header.clock()),
            buf: Vec::with_capacity(BUF_CAP),
            last_lost: LostEvents::default(),
            written: 0,
            bin: None,
            unflushed: false,
        };
        s.put(header)
            .with_context(|| format!("writing {}", target.display()))?;
        s.bin = bin;
        Ok(s)
    }

    /// Ends the line just appended to the buffer; writes the buffer out
    /// once it is large.
    fn end_line(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.unflushed = true;
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.out.send(&mut self.buf)
    }

    fn put(&mut self, v: &impl serde::Serialize) -> io::Result<()> {
        if let Some(enc) = self.bin.as_mut() {
            let line = serde_json::to_vec(v)?;
            enc.json(&mut self.buf, &line);
            return self.end_frame();
        }
        serde_json::to_writer(&mut self.buf, v)?;
        self.end_line()
    }

    fn end_frame(&mut self) -> io::Result<()> {
        self.unflushed = true;
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    pub fn syscall(&mut self, ev: &TraceEvent) -> io::Result<()> {
        if let Some(enc) = self.bin.as_mut() {
            if ev.node == crate::model::node::LOCAL {
                enc.syscall(&mut self.buf, ev);
            } else {
                // A remote node's call: the kernel's records have no room
                // for its node, so it goes as its JSON line.
                let mut line = Vec::new();
                let wall = self.wall.format(ev.start_ns);
                let c = self.containers.get(&ev.id.cgroup_id).map(Vec::as_slice);
                write_syscall(&mut line, ev, wall, c);
                enc.json(&mut self.buf, &line);
            }
            self.written += 1;
            return self.end_frame();
        }
        let wall = self.wall.format(ev.start_ns);
        let c = self.containers.get(&ev.id.cgroup_id).map(Vec::as_slice);
        write_syscall(&mut self.buf, ev, wall, c);
        self.written += 1;
        self.end_line()
    }

    /// Writes a lost line when the counts changed since the last one.
    pub fn lost(&mut self, l: LostEvents) -> io::Result<()> {
        if l == self.last_lost {
            return Ok(());
        }
        self.last_lost = l;
        self.put(&LostLine::new(l, None))
    }

    pub fn event(&mut self, ev: &Event) -> io::Result<()> {
        match ev {
            Event::Syscall(e) => self.syscall(e),
            Event::Lost(l) => self.lost(*l),
            Event::ContainerAdd(a) => {
                let line = ContainerLine::new("container_add", a.cgroup_id, &a.container);
                self.containers
                    .insert(a.cgroup_id, serde_json::to_vec(&line.container)?);
                self.put(&line)
            }
            Event::ContainerDel(d) => {
                self.containers.remove(&d.cgroup_id);
                self.put(&ContainerLine::new(
                    "container_del",
                    d.cgroup_id,
                    &d.container,
                ))
            }
            // The nodes' events carry their names; their comings and
            // goings are not part of a session.
            Event::Node(_) => Ok(()),
        }
    }

    /// Whether events were added since the last `flush`.
    pub fn unflushed(&self) -> bool {
        self.unflushed
    }

    /// Sends everything added so far on to the file or stream, through
    /// the compressor, without ending the session: a recording killed
    /// later keeps it, and a reader of `-w -` sees it now.
    pub fn flush(&mut self) -> io::Result<()> {
        self.unflushed = false;
        self.flush_buf()?;
        self.out.flush()
    }

    /// Ends the file without the final summary, after everything added so
    /// far: its reader is told it was cut short, and loses nothing of it.
    /// Returns the number of syscall events written.
    pub fn cut(mut self) -> io::Result<u64> {
        self.flush_buf()?;
        self.out.finish()?;
        Ok(self.written)
    }

    /// Writes the final lost summary, flushes and syncs. Returns the number
    /// of syscall events written.
    pub fn finish(mut self, lost: LostEvents) -> io::Result<u64> {
        let l = LostEvents {
            kernel: lost.kernel.max(self.last_lost.kernel),
            channel: lost.channel.max(self.last_lost.channel),
        };
        self.put(&LostLine::new(l, Some(self.written)))?;
        self.flush_buf()?;
        self.out.finish()?;
        Ok(self.written)
    }
}

/// Events reach the file, or the reader of `-w -`, at most about this long
/// after they were handed to the writer, however few there are.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

enum Msg {
    /// Events, and where their emptied vector goes back to.
    Batch(Vec<Event>, Option<Recycler>),
    Finish(LostEvents),
}

/// Hands batches to a `Writer`'s thread. Cloneable, for pump threads.
#[derive(Clone)]
pub struct Sink {
    tx: Sender<Msg>,
    /// Written batches go back to the source that filled them: a fresh
    /// vector per batch costs the capture thread its page faults.
    recycler: Option<Recycler>,
    /// Syscall events sent so far (sent, not yet necessarily written).
    pub sent: Arc<AtomicU64>,
}

impl Sink {
    /// False once the writer has stopped (an I/O error: see `finish`).
    pub fn send(&self, batch: Vec<Event>) -> bool {
        let n = batch
            .iter()
            .filter(|e| matches!(e, Event::Syscall(_)))
            .count();
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
        self.tx
            .send(Msg::Batch(batch, self.recycler.clone()))
            .is_ok()
    }

    /// This sink, handing written batches to `r`.
    pub fn recycling(mut self, r: Option<Recycler>) -> Sink {
        self.recycler = r;
        self
    }
}

/// A session file written on its own thread, so serialization and disk
/// never slow the consumer down. Batches queue up to a bound, then the
/// sender waits: an export is complete or it is an error, never lossy.
pub struct Writer {
    sink: Sink,
    target: Target,
    thread: JoinHandle<Result<u64>>,
}

impl Writer {
    /// Creates the file now (so a bad path fails before capture starts) and
    /// starts the thread.
    pub fn create(target: Target, header: &Header, stop: &Stop) -> Result<Writer> {
        let mut file = SessionFile::create_in(&target, header, stop)?;
        let (tx, rx) = bounded::<Msg>(256);
        let p = target.display();
        let thread = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || -> Result<u64> {
                let ctx = || format!("writing {p}");
                // When what was added first since the last flush must be
                // out: a few events a minute otherwise sit in the buffer
                // (and the compressor) for hours.
                let mut due = file.unflushed().then(|| Instant::now() + FLUSH_EVERY);
                loop {
                    let msg = match due {
                        Some(d) => rx.recv_deadline(d),
                        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match msg {
                        Ok(Msg::Batch(b, r)) => {
                            for ev in &b {
                                file.event(ev).with_context(ctx)?;
                            }
                            if let Some(r) = r {
                                r.give(b);
                            }
                        }
                        Ok(Msg::Finish(lost)) => return file.finish(lost).with_context(ctx),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    // Checked after batches too: a steady trickle never
                    // lets the wait time out.
                    if due.is_some_and(|d| Instant::now() >= d) {
                        file.flush().with_context(ctx)?;
                        due = None;
                    } else if due.is_none() && file.unflushed() {
                        due = Some(Instant::now() + FLUSH_EVERY);
                    }
                }
                Err(anyhow!("{p}: the writer was dropped unfinished"))
            })?;
        Ok(Writer {
            sink: Sink {
                tx,
                recycler: None,
                sent: Arc::new(AtomicU64::new(0)),
            },
            target,
            thread,
        })
    }

    pub fn sink(&self) -> Sink {
        self.sink.clone()
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Writes the final lost line and waits until the file is complete and
    /// on disk. Returns the number of events written.
    pub fn finish(self, lost: LostEvents) -> Result<u64> {
        let _ = self.sink.tx.send(Msg::Finish(lost));
        self.thread
            .join()
            .map_err(|_| anyhow!("the session writer thread panicked"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::format::Filters;
    use crate::session::reader::{self, tests::sample_event};

    fn header() -> Header {
        live_header(Clock::measure(), Filters::default())
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_private_and_never_clobbered_or_followed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.jsonl");
        SessionFile::create(&p, false, &header())
            .unwrap()
            .finish(LostEvents::default())
            .unwrap();
        assert_eq!(mode(&p), 0o600);
        let e = SessionFile::create(&p, false, &header()).err().unwrap();
        assert!(format!("{e:#}").contains("already exists"), "{e:#}");
        // --force overwrites, and tightens a looser mode.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        SessionFile::create(&p, true, &header()).unwrap();
        assert_eq!(mode(&p), 0o600);
        // Symlinks: to a file, dangling; with and without --force.
        let target = d.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        let link = d.path().join("link.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let dangling = d.path().join("dangling.jsonl");
        std::os::unix::fs::symlink(d.path().join("nowhere"), &dangling).unwrap();
        for l in [&link, &dangling] {
            for force in [false, true] {
                let e = SessionFile::create(l, force, &header()).err().unwrap();
                assert!(format!("{e:#}").contains("symlink"), "{e:#}");
            }
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(!d.path().join("nowhere").exists());
    }

    #[test]
    fn devices_and_fifos_are_written_into_and_directories_named() {
        let null = SessionFile::create(Path::new("/dev/null"), false, &header()).unwrap();
        assert_eq!(null.finish(LostEvents::default()).unwrap(), 0);

        let d = tempfile::tempdir().unwrap();
        let e = SessionFile::create(d.path(), false, &header())
            .err()
            .unwrap();
        assert_eq!(
            format!("{e:#}"),
            format!("{} is a directory", d.path().display())
        );

        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = std::thread::spawn({
            let fifo = fifo.clone();
            move || std::fs::read_to_string(fifo).unwrap()
        });
        let f = SessionFile::create(&fifo, false, &header()).unwrap();
        f.finish(LostEvents::default()).unwrap();
        let text = reader.join().unwrap();
        assert!(text.starts_with("{\"type\":\"header\""), "{text}");
        assert!(text.trim_end().ends_with('}') && text.lines().count() == 2);
    }

    /// A write that fails on the disk thread comes back as the error of a
    /// later `send` (or of `finish`): never lost.
    #[test]
    fn disk_thread_errors_come_back() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ro");
        std::fs::write(&p, "").unwrap();
        // Opened read-only: every write fails with EBADF.
        let mut t = DiskThread::start(Out::Plain(File::open(&p).unwrap())).unwrap();
        let mut err = None;
        for _ in 0..2 * QUEUE {
            let mut b = b"line\n".to_vec();
            if let Err(e) = t.send(&mut b) {
                err = Some(e);
                break;
            }
        }
        let e = err.expect("a send after the thread failed must fail");
        assert_eq!(e.raw_os_error(), Some(libc::EBADF), "{e}");
        // Later calls keep failing rather than pretending to write.
        assert!(t.send(&mut b"more".to_vec()).is_err());
        assert!(t.finish().is_err());
    }

    #[test]
    fn writer_thread_writes_a_complete_file_plain_and_zstd() {
        let d = tempfile::tempdir().unwrap();
        for name in ["s.jsonl", "s.jsonl.zst"] {
            let p = d.path().join(name);
            let w =
                Writer::create(Target::from_arg(&p, false), &header(), &Stop::new(None)).unwrap();
            let sink = w.sink();
            let evs: Vec<Event> = (0..3000).map(|i| Event::Syscall(sample_event(i))).collect();
            for chunk in evs.chunks(700) {
                assert!(sink.send(chunk.to_vec()));
            }
            let lost = LostEvents {
                kernel: 4,
                channel: 5,
            };
            assert!(sink.send(vec![Event::Lost(lost)]));
            assert_eq!(w.finish(lost).unwrap(), 3000);
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!(bytes.starts_with(b"{"), name.ends_with(".jsonl"));
            let (mut r, _) = reader::open(&p, false).unwrap();
            let mut got = Vec::new();
            while let Some(it) = r.next_item().unwrap() {
                if let Event::Syscall(e) = it {
                    got.push(e);
                }
            }
            assert_eq!(got, (0..3000).map(sample_event).collect::<Vec<_>>());
            let s = r.summary.as_ref().expect("final line");
            assert_eq!((s.kernel, s.channel, s.events), (4, 5, Some(3000)));
            assert!(r.warnings().is_empty());
        }
    }
}
