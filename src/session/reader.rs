//! Reading session files back into the `Event` stream, plain or zstd, with
//! errors that name the line. Nothing in here panics on bad input.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Deserialize;

use super::binary::{self, BINARY_VERSION, RECORDS_BINARY, RECORDS_BINARY_1};
use super::format::{
    ContainerLine, Header, HeaderProbe, LostLine, SyscallIn, FORMAT_NAME, FORMAT_VERSION,
    SYSCALL_PREFIX,
};
use crate::model::container::ContainerInfo;
use crate::model::event::{Event, TraceEvent};
use crate::model::raw::Identities;
use crate::model::stop::Stop;
use crate::model::syscalls::Arch;

/// Longest line accepted. The largest real event (two 4 KiB captures as
/// base64 plus fields) is far below this.
pub const MAX_LINE: usize = 1 << 20;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A problem with one line (one record, of a binary session) of a session
/// file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {line}: {msg}", if *record { "record" } else { "line" })]
pub struct LineError {
    pub line: u64,
    pub msg: String,
    /// `line` counts the records of a binary session.
    pub record: bool,
}

enum RawLine {
    /// A line; `false` when the input ended without its newline.
    Line(bool),
    TooLong,
    Eof,
}

/// Reads a session from any buffered byte stream.
pub struct Reader<R> {
    src: R,
    header: Header,
    arch: Arch,
    line_no: u64,
    buf: Vec<u8>,
    skip_bad: bool,
    /// Lines skipped because they were bad (`--skip-bad`).
    pub skipped: u64,
    /// The first problem met while skipping, to report with the count.
    pub first_skipped: Option<LineError>,
    /// With `skip_bad`: the bad line or frame after which nothing more
    /// could be read (a binary frame's length, a cut stream).
    pub stopped_at: Option<LineError>,
    /// The final `lost` line, once read: its absence at the end means the
    /// recording was cut short.
    pub summary: Option<LostLine>,
    pub events: u64,
    /// A binary session's identities so far (None for JSON Lines).
    bin: Option<Identities>,
    /// A binary session's last packed call.
    packed: binary::Packed,
    /// No frame was bad since the last fresh start of the packed calls.
    synced: bool,
    done: bool,
    /// The input was read to its end (not stopped at a bad line).
    at_end: bool,
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_exact_or_eof(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

const TRUNCATED: &str = "truncated: the file ends in the middle of this record";

/// Fills `buf` from a binary session: Ok(false) at a clean end (nothing
/// left), the reason when the record is cut short or the read fails.
fn fill_record(src: &mut impl Read, buf: &mut [u8]) -> Result<bool, String> {
    match read_exact_or_eof(src, buf) {
        Ok(n) if n == buf.len() => Ok(true),
        Ok(0) => Ok(false),
        Ok(_) => Err(TRUNCATED.into()),
        Err(e) => Err(io_msg(&e)),
    }
}

fn read_line(src: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<RawLine> {
    buf.clear();
    let mut too_long = false;
    loop {
        let avail = match src.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(if too_long {
                RawLine::TooLong
            } else if buf.is_empty() {
                RawLine::Eof
            } else {
                RawLine::Line(false)
            });
        }
        let (take, found) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            let data = if found {
                &avail[..take - 1]
            } else {
                &avail[..take]
            };
            if buf.len() + data.len() > MAX_LINE {
                // Keep reading to the end of the line, but drop it.
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(data);
            }
        }
        src.consume(take);
        if found {
            return Ok(if too_long {
                RawLine::TooLong
            } else {
                RawLine::Line(true)
            });
        }
    }
}

fn io_msg(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            "the compressed data ends early (the file is truncated)".into()
        }
        _ => format!("read error: {e}"),
    }
}

fn json_msg(e: &serde_json::Error) -> String {
    // serde_json reports "at line 1 column C": the column is what helps.
    format!("{e}").replace(" at line 1 column", " at column")
}

/// Parses one line (without its newline): `Ok(None)` for a blank line. The
/// final `lost` line is also kept in `summary`.
fn parse(arch: Arch, buf: &[u8], summary: &mut Option<LostLine>) -> Result<Option<Event>, String> {
    let text = std::str::from_utf8(buf)
        .map_err(|e| format!("not valid UTF-8 (at byte {})", e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    // Lines this tool wrote start with their type: parse those directly,
    // most without serde_json at all.
    if text.starts_with(SYSCALL_PREFIX) {
        let s = match SyscallIn::parse_fast(text) {
            Some(s) => s,
            None => serde_json::from_str(text).map_err(|e| json_msg(&e))?,
        };
        return s.into_event(arch).map(|e| Some(Event::Syscall(e)));
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| json_msg(&e))?;
    let kind = v
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or("no \"type\" field")?;
    let bad = |e: serde_json::Error| format!("bad {kind} line: {}", json_msg(&e));
    match kind {
        "syscall" => {
            let s = SyscallIn::deserialize(&v).map_err(bad)?;
            s.into_event(arch).map(|e| Some(Event::Syscall(e)))
        }
        "lost" => {
            let l = LostLine::deserialize(&v).map_err(bad)?;
            let lost = l.lost();
            if l.is_final {
                *summary = Some(l);
            }
            Ok(Some(Event::Lost(lost)))
        }
        "container_add" | "container_del" => ContainerLine::deserialize(&v)
            .map_err(bad)?
            .to_event()
            .map(Some),
        "header" => Err("a second header inside the file".into()),
        other => Err(format!("unknown line type {other:?}")),
    }
}

impl<R: BufRead> Reader<R> {
    /// Reads and checks the header line.
    pub fn new(mut src: R, skip_bad: bool) -> Result<Reader<R>, LineError> {
        let mut buf = Vec::new();
        let err = |msg: String| LineError {
            line: 1,
            msg,
            record: false,
        };
        let complete = match read_line(&mut src, &mut buf).map_err(|e| err(io_msg(&e)))? {
            RawLine::Eof => {
                return Err(err(
                    "the file is empty: no session header (is this a systrace-tui session?)".into(),
                ))
            }
            RawLine::TooLong => {
                return Err(err(format!(
                    "line is longer than {MAX_LINE} bytes: not a systrace-tui session"
                )))
            }
            RawLine::Line(c) => c,
        };
        let text = std::str::from_utf8(&buf)
            .map_err(|e| err(format!("not valid UTF-8 (at byte {})", e.valid_up_to())))?;
        let probe: HeaderProbe = serde_json::from_str(text).map_err(|e| {
            err(if complete {
                format!("not a systrace-tui session header: {}", json_msg(&e))
            } else {
                "truncated: the file ends inside the header".into()
            })
        })?;
        match probe.format.as_deref() {
            Some(FORMAT_NAME) => {}
            Some(other) => {
                return Err(err(format!(
                    "not a systrace-tui session (format is {other:?}, expected {FORMAT_NAME:?})"
                )))
            }
            None => {
                return Err(err(
                    "not a systrace-tui session: the first line is not a session header (it has no \"format\" field)"
                        .into(),
                ))
            }
        }
        match probe.version {
            Some(v) if v == FORMAT_VERSION as u64 || v == BINARY_VERSION as u64 => {}
            Some(v) => {
                return Err(err(format!(
                    "session format version {v} is not supported (this build reads versions {FORMAT_VERSION} and {BINARY_VERSION})"
                )))
            }
            None => return Err(err("the header has no format version".into())),
        }
        let header: Header = serde_json::from_str(text)
            .map_err(|e| err(format!("bad session header: {}", json_msg(&e))))?;
        let bin = match (header.version, header.records.as_deref()) {
            (FORMAT_VERSION, None) => None,
            (BINARY_VERSION, Some(RECORDS_BINARY | RECORDS_BINARY_1)) => Some(Identities::new()),
            (_, r) => {
                return Err(err(format!(
                    "version {} with records {:?} is not a known session encoding",
                    header.version,
                    r.unwrap_or("(none)")
                )))
            }
        };
        let arch = header
            .arch()
            .ok_or_else(|| err(format!("unknown architecture {:?}", header.arch)))?;
        Ok(Reader {
            src,
            header,
            arch,
            line_no: 1,
            buf,
            skip_bad,
            skipped: 0,
            first_skipped: None,
            stopped_at: None,
            summary: None,
            events: 0,
            done: false,
            at_end: false,
            bin,
            packed: binary::Packed::default(),
            synced: true,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The line number of the last line read.
    pub fn line(&self) -> u64 {
        self.line_no
    }

    /// The next item; `Ok(None)` at the end. With `skip_bad`, bad lines are
    /// counted in `skipped` instead of being errors.
    pub fn next_item(&mut self) -> Result<Option<Event>, LineError> {
        if self.bin.is_some() {
            return self.next_frame();
        }
        loop {
            if self.done {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.line_no;
            // Most lines lie whole in the input buffer: parse them there,
            // without copying. The rest (a line across two reads, the end,
            // errors) go the general way below.
            let avail = match self.src.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.line_no -= 1;
                    continue;
                }
                Err(e) => {
                    // The stream cannot go on after an I/O or zstd error.
                    self.done = true;
                    self.bad(LineError {
                        line,
                        msg: io_msg(&e),
                        record: false,
                    })?;
                    continue;
                }
            };
            if let Some(end) = memchr::memchr(b'\n', avail).filter(|&e| e <= MAX_LINE) {
                let res = parse(self.arch, &avail[..end], &mut self.summary);
                self.src.consume(end + 1);
                match res {
                    Ok(Some(item)) => return Ok(Some(self.count(item))),
                    Ok(None) => continue,
                    Err(msg) => {
                        self.bad(LineError {
                            line,
                            msg,
                            record: false,
                        })?;
                        continue;
                    }
                }
            }
            let msg: String = match read_line(&mut self.src, &mut self.buf) {
                Err(e) => {
                    // The stream cannot go on after an I/O or zstd error.
                    self.done = true;
                    io_msg(&e)
                }
                Ok(RawLine::Eof) => {
                    self.done = true;
                    self.at_end = true;
                    return Ok(None);
                }
                Ok(RawLine::TooLong) => format!("line is longer than {MAX_LINE} bytes"),
                Ok(RawLine::Line(complete)) => {
                    match parse(self.arch, &self.buf, &mut self.summary) {
                        Ok(Some(item)) => return Ok(Some(self.count(item))),
                        Ok(None) => continue,
                        Err(_) if !complete => {
                            "truncated: the file ends in the middle of this line".into()
                        }
                        Err(msg) => msg,
                    }
                }
            };
            self.bad(LineError {
                line,
                msg,
                record: false,
            })?;
        }
    }

    /// `next_item` of a binary session: frames instead of lines (their
    /// numbers count in `line`, and errors say "record").
    fn next_frame(&mut self) -> Result<Option<Event>, LineError> {
        loop {
            if self.done {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.line_no;
            let mut head = [0u8; 4];
            let msg = match fill_record(&mut self.src, &mut head) {
                Ok(false) => {
                    self.done = true;
                    self.at_end = true;
                    return Ok(None);
                }
                Ok(true) => {
                    let (kind, len) = binary::parse_head(head);
                    if len > binary::MAX_FRAME {
                        self.done = true; // no way to find the next frame
                        format!(
                            "record of {len} bytes: longer than {} (corrupt file)",
                            binary::MAX_FRAME
                        )
                    } else {
                        self.buf.resize(len, 0);
                        match fill_record(&mut self.src, &mut self.buf) {
                            Ok(true) => match self.frame(kind) {
                                Ok(Some(item)) => return Ok(Some(self.count(item))),
                                Ok(None) => continue,
                                Err(msg) => msg,
                            },
                            // A payload that ends before it starts is cut short too.
                            Ok(false) => {
                                self.done = true;
                                TRUNCATED.into()
                            }
                            Err(msg) => {
                                self.done = true;
                                msg
                            }
                        }
                    }
                }
                Err(msg) => {
                    self.done = true;
                    msg
                }
            };
            // The bad frame may have been a packed call, which the next
            // ones are written against.
            self.synced = false;
            self.bad(LineError {
                line,
                msg,
                record: true,
            })?;
        }
    }

    /// One frame's payload (in `buf`) as an item.
    fn frame(&mut self, kind: u8) -> Result<Option<Event>, String> {
        match kind {
            binary::F_RECORD => {
                let ids = self.bin.as_mut().expect("binary session");
                TraceEvent::from_record(ids, &self.buf, self.arch)
                    .map(|e| e.map(Event::Syscall))
                    .map_err(|e| e.to_string())
            }
            binary::F_CALL => {
                let (c, tail) = self.packed.unpack(&self.buf, self.synced)?;
                self.synced = true;
                let ids = self.bin.as_mut().expect("binary session");
                TraceEvent::from_call(ids, &c, tail, self.arch)
                    .map(|e| Some(Event::Syscall(e)))
                    .map_err(|e| e.to_string())
            }
            binary::F_JSON => parse(self.arch, &self.buf, &mut self.summary),
            k => Err(format!("unknown record kind {k}")),
        }
    }

    fn count(&mut self, item: Event) -> Event {
        if let Event::Syscall(_) = item {
            self.events += 1;
        }
        item
    }

    /// A bad line: the error, or with `skip_bad` one more skipped line.
    fn bad(&mut self, e: LineError) -> Result<(), LineError> {
        if !self.skip_bad {
            self.done = true;
            return Err(e);
        }
        self.skipped += 1;
        if self.done {
            self.stopped_at = Some(e.clone());
        }
        self.first_skipped.get_or_insert(e);
        Ok(())
    }

    /// One line for the user about what was skipped or missing, if anything.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.skipped > 0 {
            let first = self
                .first_skipped
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default();
            // Skipping goes on after a bad line, but not after one that
            // leaves no way to the next (the rest of the file is lost).
            let stop = match &self.stopped_at {
                Some(_) if self.skipped == 1 => "; nothing after it could be read".to_string(),
                Some(e) => format!("; reading stopped at {e}"),
                None => String::new(),
            };
            w.push(format!("skipped {} bad lines{first}{stop}", self.skipped));
        }
        // Only a file read to its end can be missing its last line; one
        // that stopped at a bad line says so through that error.
        if self.at_end && self.summary.is_none() {
            w.push("the file has no final summary line: the recording was cut short".to_string());
        }
        w
    }
}

/// Counts the bytes read from the file, for a progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub use crate::model::flow::FileProgress;

/// Size of the blocks `Prefetch` hands over.
const BLOCK: usize = 1 << 20;

/// Reads (and decompresses) the file on a thread of its own, a few blocks
/// ahead of the parser, so zstd and JSON parsing overlap on two cores.
/// Bounded: at most a few blocks are in flight.
struct Prefetch {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// Used blocks go back to the thread, so it does not allocate anew.
    back: Sender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Prefetch {
    fn start(mut src: Box<dyn Read + Send>) -> io::Result<Prefetch> {
        let (tx, rx) = bounded::<io::Result<Vec<u8>>>(3);
        let (back, back_rx) = bounded::<Vec<u8>>(4);
        std::thread::Builder::new()
            .name("replay-read".into())
            .spawn(move || loop {
                let mut b = back_rx.try_recv().unwrap_or_default();
                b.resize(BLOCK, 0);
                let mut n = 0;
                let res = loop {
                    match src.read(&mut b[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == b.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                b.truncate(n);
                let end = n == 0 || res.is_err();
                // What was read before an error goes first, then the error.
                if n > 0 && tx.send(Ok(b)).is_err() {
                    return;
                }
                if let Err(e) = res {
                    let _ = tx.send(Err(e));
                }
                if end {
                    return;
                }
            })?;
        Ok(Prefetch {
            rx,
            back,
            cur: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.cur.len() && !self.done {
            match self.rx.recv() {
                Ok(Ok(b)) => {
                    let used = std::mem::replace(&mut self.cur, b);
                    let _ = self.back.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread is done: the end of the input.
                Err(_) => self.done = true,
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.cur.len());
    }
}

pub type FileReader = Reader<Box<dyn BufRead + Send>>;

/// The best-known description of every container in a session file, by
/// container id: the last `container_add` line of each (names that arrived
/// late, after events of that container, included). A replay applies them
/// from the first event on.
/// Gives up (with what it found) once `stop` is raised.
pub fn container_names(path: &Path, stop: &Stop) -> Result<HashMap<String, Arc<ContainerInfo>>> {
    let (mut src, _) = open_stream(path)?;
    let mut names = HashMap::new();
    let mut buf = Vec::new();
    // The header line is checked by `open`; lines that do not parse are
    // the main pass's to report.
    let _ = read_line(&mut src, &mut buf);
    let binary = serde_json::from_slice::<Header>(&buf).is_ok_and(|h| {
        matches!(
            h.records.as_deref(),
            Some(RECORDS_BINARY | RECORDS_BINARY_1)
        )
    });
    while !stop.is_raised() {
        if binary {
            // Frames: only the JSON ones can be containers.
            let mut head = [0u8; 4];
            if !matches!(read_exact_or_eof(&mut src, &mut head), Ok(4)) {
                break;
            }
            let (kind, len) = binary::parse_head(head);
            if len > binary::MAX_FRAME {
                break;
            }
            buf.resize(len, 0);
            if !matches!(read_exact_or_eof(&mut src, &mut buf), Ok(n) if n == len) {
                break;
            }
            if kind != binary::F_JSON {
                continue;
            }
        } else {
            match read_line(&mut src, &mut buf) {
                Ok(RawLine::Line(_)) => {}
                Ok(RawLine::TooLong) => continue,
                Ok(RawLine::Eof) | Err(_) => break,
            }
        }
        // Nearly every line is a syscall: skip those without parsing.
        if buf.starts_with(SYSCALL_PREFIX.as_bytes())
            || memchr::memmem::find(&buf, b"container_add").is_none()
        {
            continue;
        }
        let Ok(line) = serde_json::from_slice::<ContainerLine>(&buf) else {
            continue;
        };
        if line.kind != "container_add" {
            continue;
        }
        if let Ok(c) = line.container.to_model() {
            names.insert(c.id.clone(), Arc::new(c));
        }
    }
    Ok(names)
}

/// The file's bytes, decompressed if zstd (recognised by its magic bytes),
/// read ahead on a thread of their own.
fn open_stream(path: &Path) -> Result<(Box<dyn BufRead + Send>, FileProgress)> {
    let f = File::open(path).map_err(|e| anyhow!("cannot open {}: {e}", path.display()))?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(anyhow!("{} is a directory", path.display()));
    }
    let read = Arc::new(AtomicU64::new(0));
    let mut raw = BufReader::with_capacity(
        1 << 18,
        Counting {
            inner: f,
            count: read.clone(),
        },
    );
    let magic = raw
        .fill_buf()
        .map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
    let src: Box<dyn Read + Send> = if magic.starts_with(&ZSTD_MAGIC) {
        let d = zstd::Decoder::with_buffer(raw)
            .map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
        Box::new(d)
    } else {
        Box::new(raw)
    };
    let src: Box<dyn BufRead + Send> =
        Box::new(Prefetch::start(src).map_err(|e| anyhow!("reading {}: {e}", path.display()))?);
    Ok((
        src,
        FileProgress {
            read,
            total: meta.len(),
        },
    ))
}

/// Opens a session file and reads its header.
pub fn open(path: &Path, skip_bad: bool) -> Result<(FileReader, FileProgress)> {
    let (src, progress) = open_stream(path)?;
    let reader = Reader::new(src, skip_bad).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok((reader, progress))
}

/// Reads a whole session from bytes (plain or zstd): the fuzz target's
/// entry point and a convenience for tests.
pub fn read_all(bytes: &[u8], skip_bad: bool) -> Result<(Header, Vec<Event>, u64), LineError> {
    let src: Box<dyn BufRead> = if bytes.starts_with(&ZSTD_MAGIC) {
        match zstd::Decoder::with_buffer(bytes) {
            Ok(d) => Box::new(BufReader::new(d)),
            Err(e) => {
                return Err(LineError {
                    line: 1,
                    msg: io_msg(&e),
                    record: false,
                })
            }
        }
    } else {
        Box::new(bytes)
    };
    let mut r = Reader::new(src, skip_bad)?;
    let mut items = Vec::new();
    while let Some(it) = r.next_item()? {
        items.push(it);
    }
    Ok((r.header.clone(), items, r.skipped))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::model::event::{LostEvents, TraceEvent};
    use crate::model::testing::EventBuilder;
    use crate::session::format::{write_syscall, Filters, LostLine, WallClock};

    pub(crate) fn sample_event(i: u32) -> TraceEvent {
        EventBuilder::named("openat")
            .ret(if i.is_multiple_of(2) { -2 } else { 3 })
            .start(1_000 * i as u64)
            .duration(500)
            .pid(100 + i % 3)
            .comm("cat")
            .path(1, format!("/tmp/f{i}\u{e9}"))
            .build()
    }

    /// Numbers below `n`, from xorshift: deterministic, so a failure
    /// reproduces.
    pub(crate) fn rng() -> impl FnMut(usize) -> usize {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n.max(1) as u64) as usize
        }
    }

    /// A complete session as text: header, `n` syscalls, final lost line.
    pub(crate) fn sample_session(n: u32) -> String {
        let clock = Clock {
            boot_unix_ns: 1_700_000_000_000_000_000,
        };
        let h = Header::new(
            "host".into(),
            "6.1".into(),
            Arch::X86_64,
            clock,
            0,
            Filters::default(),
        );
        let mut s = serde_json::to_string(&h).unwrap();
        s.push('\n');
        let mut wc = WallClock::new(clock);
        for i in 0..n {
            let ev = sample_event(i);
            let mut line = Vec::new();
            write_syscall(&mut line, &ev, wc.format(ev.start_ns), None);
            s.push_str(std::str::from_utf8(&line).unwrap());
            s.push('\n');
        }
        let l = LostLine::new(
            LostEvents {
                kernel: 1,
                channel: 2,
            },
            Some(n as u64),
        );
        s.push_str(&serde_json::to_string(&l).unwrap());
        s.push('\n');
        s
    }

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(String::from).collect()
    }

    fn err_of(bytes: &[u8]) -> LineError {
        match read_all(bytes, false) {
            Ok(_) => panic!("accepted bad input"),
            Err(e) => e,
        }
    }

    #[test]
    fn reads_back_what_was_written() {
        let (h, items, skipped) = read_all(sample_session(5).as_bytes(), false).unwrap();
        assert_eq!(h.host, "host");
        assert_eq!(skipped, 0);
        let evs: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                Event::Syscall(e) => Some(e.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(evs, (0..5).map(sample_event).collect::<Vec<_>>());
        assert!(matches!(
            items.last(),
            Some(Event::Lost(LostEvents {
                kernel: 1,
                channel: 2
            }))
        ));
        // The same through zstd.
        let z = zstd::encode_all(sample_session(5).as_bytes(), 3).unwrap();
        let (_, zitems, _) = read_all(&z, false).unwrap();
        assert_eq!(zitems.len(), items.len());
    }

    #[test]
    fn bad_input_is_an_error_with_its_line_number() {
        let good = lines(&sample_session(4));
        let with = |i: usize, line: &str| {
            let mut l = good.clone();
            l[i] = line.to_string();
            l.join("\n") + "\n"
        };
        // Version 2 is the binary format: 3 is unknown.
        let mut header_v3 = good[0].replace("\"version\":1", "\"version\":3");
        header_v3.push('\n');
        let mut truncated = sample_session(4);
        truncated.truncate(truncated.len() - 30);
        let huge = format!(
            "{{\"type\":\"syscall\",\"pad\":\"{}\"}}",
            "x".repeat(MAX_LINE)
        );
        let mut bad_utf8 = good[..2].join("\n").into_bytes();
        bad_utf8.extend_from_slice(b"\n{\"type\":\"lost\",\"x\":\"\xff\"}\n");
        let z = zstd::encode_all(sample_session(50).as_bytes(), 3).unwrap();
        let table: Vec<(&str, Vec<u8>, u64, &str)> = vec![
            ("empty", vec![], 1, "empty"),
            (
                "garbage",
                b"hello world\n".to_vec(),
                1,
                "not a systrace-tui session header",
            ),
            (
                "other json",
                b"{\"a\":1}\n".to_vec(),
                1,
                "not a systrace-tui session",
            ),
            (
                "wrong version",
                header_v3.into_bytes(),
                1,
                "version 3 is not supported",
            ),
            (
                "corrupt line",
                with(2, "{\"type\":\"syscall\", oops").into_bytes(),
                3,
                "column",
            ),
            (
                "missing field",
                with(3, "{\"type\":\"syscall\",\"pid\":1}").into_bytes(),
                4,
                "missing field",
            ),
            (
                "unknown type",
                with(1, "{\"type\":\"nope\"}").into_bytes(),
                2,
                "unknown line type",
            ),
            (
                "second header",
                with(2, &good[0]).into_bytes(),
                3,
                "second header",
            ),
            ("truncated", truncated.into_bytes(), 6, "truncated"),
            ("invalid utf-8", bad_utf8, 3, "not valid UTF-8"),
            ("huge line", with(1, &huge).into_bytes(), 2, "longer than"),
            ("truncated zstd", z[..z.len() / 2].to_vec(), 0, "truncated"),
        ];
        for (name, input, line, msg) in table {
            let e = err_of(&input);
            if line > 0 {
                assert_eq!(e.line, line, "{name}: {e}");
            }
            assert!(e.to_string().contains(msg), "{name}: {e}");
            assert!(e.to_string().starts_with("line "), "{name}: {e}");
        }
    }

    #[test]
    fn skip_bad_counts_and_goes_on() {
        let mut l = lines(&sample_session(4));
        l[2] = "garbage".into();
        l[4] = "{\"type\":\"syscall\"}".into();
        let text = l.join("\n") + "\n";
        let mut r = Reader::new(text.as_bytes(), true).unwrap();
        let mut n = 0;
        while let Some(it) = r.next_item().unwrap() {
            if matches!(it, Event::Syscall(_)) {
                n += 1;
            }
        }
        assert_eq!(n, 2);
        assert_eq!(r.skipped, 2);
        assert_eq!(r.first_skipped.as_ref().unwrap().line, 3);
        assert!(r.warnings()[0].starts_with("skipped 2 bad lines (first: line 3:"));
        // A header problem is never skipped.
        assert!(Reader::new(&b"junk\n"[..], true).is_err());
        // Missing final line: a warning, not an error.
        let cut = lines(&sample_session(3))[..3].join("\n") + "\n";
        let mut r = Reader::new(cut.as_bytes(), false).unwrap();
        while r.next_item().unwrap().is_some() {}
        assert!(r.warnings()[0].contains("cut short"));
    }

    #[test]
    fn a_bad_line_in_a_complete_file_is_not_called_a_cut_recording() {
        let mut l = lines(&sample_session(4));
        l[2] = "garbage".into();
        let text = l.join("\n") + "\n";
        let mut r = Reader::new(text.as_bytes(), false).unwrap();
        let err = loop {
            match r.next_item() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("the bad line was not reported"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.line, 3);
        assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    }

    #[test]
    fn a_file_without_a_header_is_named_as_such() {
        let body = lines(&sample_session(2))[1..].join("\n") + "\n";
        let e = Reader::new(body.as_bytes(), false).err().unwrap();
        assert_eq!(e.line, 1);
        assert!(e.msg.contains("not a session header"), "{e}");
        assert!(!e.msg.contains("\"\""), "{e}");
    }

    fn syscalls(items: &[Event]) -> Vec<TraceEvent> {
        items
            .iter()
            .filter_map(|i| match i {
                Event::Syscall(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Files go through the read-ahead thread: lines that straddle its
    /// blocks, zstd, and a zstd stream cut short (an error naming a line).
    #[test]
    fn files_read_through_the_read_ahead_thread() {
        let dir = tempfile::tempdir().unwrap();
        let text = sample_session(6000);
        assert!(text.len() > 2 * BLOCK, "{}", text.len());
        let z = zstd::encode_all(text.as_bytes(), 3).unwrap();
        let (_, want, _) = read_all(text.as_bytes(), false).unwrap();
        for (name, bytes) in [("s.jsonl", text.as_bytes()), ("s.jsonl.zst", &z[..])] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let (mut r, progress) = open(&path, false).unwrap();
            let mut got = Vec::new();
            while let Some(it) = r.next_item().unwrap() {
                got.push(it);
            }
            assert_eq!(got.len(), want.len(), "{name}");
            assert_eq!(syscalls(&got), syscalls(&want), "{name}");
            assert_eq!(r.line(), 6003, "{name}");
            assert!(r.warnings().is_empty(), "{name}: {:?}", r.warnings());
            assert_eq!(progress.fraction(), 1.0);
        }
        let path = dir.path().join("cut.jsonl.zst");
        std::fs::write(&path, &z[..z.len() * 2 / 3]).unwrap();
        let (mut r, _) = open(&path, false).unwrap();
        let mut n = 0;
        let e = loop {
            match r.next_item() {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("a cut zstd stream read as complete"),
                Err(e) => break e,
            }
        };
        assert!(n > 1000, "{n}");
        assert_eq!(e.line, n + 2, "{e}");
        assert!(e.msg.contains("truncated"), "{e}");
    }

    /// Random damage to valid files (flipped, inserted, deleted bytes and
    /// cuts, plain and zstd) never panics, and every error names a line.
    #[test]
    fn mutated_input_never_panics() {
        let base = sample_session(20).into_bytes();
        let zbase = zstd::encode_all(&base[..], 3).unwrap();
        let mut rnd = rng();
        let mut errors = 0;
        for round in 0..3000 {
            let mut b = if round % 4 == 0 {
                zbase.clone()
            } else {
                base.clone()
            };
            for _ in 0..1 + rnd(4) {
                let at = rnd(b.len());
                match rnd(5) {
                    0 => b[at] ^= 1 << rnd(8),
                    1 => b[at] = [b'"', b'{', b'}', b'\n', 0xff, b'\\', b','][rnd(7)],
                    2 => b.insert(at, rnd(256) as u8),
                    3 => {
                        b.remove(at);
                    }
                    _ => b.truncate(at),
                }
                if b.is_empty() {
                    break;
                }
            }
            for skip in [false, true] {
                if let Err(e) = read_all(&b, skip) {
                    errors += 1;
                    assert!(e.line >= 1, "{e}");
                    assert!(!e.msg.is_empty());
                }
            }
        }
        assert!(
            errors > 1000,
            "mutations should mostly break files: {errors}"
        );
    }
}
