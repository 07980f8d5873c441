//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A small session made with the library: `n` failed openat calls of
/// `/tmp/f<i>` by `sample`, pids 4000 and 4001 in turn.
pub fn make_session(path: &std::path::Path, n: u32) {
    use systrace_tui::clock::Clock;
    use systrace_tui::model::event::LostEvents;
    use systrace_tui::model::syscalls::Arch;
    use systrace_tui::model::testing::EventBuilder;
    use systrace_tui::session::format::Filters;
    use systrace_tui::session::writer::{live_header, SessionFile};
    let mut f = SessionFile::create(
        path,
        false,
        &live_header(Clock::measure(), Filters::default()),
    )
    .unwrap();
    for i in 0..n {
        let ev = EventBuilder::named("openat")
            .arch(Arch::native())
            .ret(-2)
            .start(Clock::monotonic_now())
            .duration(1500)
            .pid(4000 + i % 2)
            .comm("sample")
            .path(1, format!("/tmp/f{i}"))
            .build();
        f.syscall(&ev).unwrap();
    }
    f.finish(LostEvents::default()).unwrap();
}

/// Root-only tests call this first. Without root they fail loudly, unless
/// SYSTRACE_ALLOW_NO_ROOT=1 says skipping is intended (e.g. a laptop run).
pub fn require_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("SYSTRACE_ALLOW_NO_ROOT").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: needs root (SYSTRACE_ALLOW_NO_ROOT=1 is set)");
        return false;
    }
    panic!(
        "{test} needs root to load eBPF: run the suite as root, or set SYSTRACE_ALLOW_NO_ROOT=1 to skip root-only tests"
    );
}

/// The systrace-tui binary cargo built for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_systrace-tui"))
}

/// The workload example (cargo builds examples for `cargo test`).
pub fn workload() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/workload
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let p = dir.join("examples").join("workload");
    // `cargo test --test X` does not rebuild examples: make sure it is current
    // (a no-op when it is), once per test binary.
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "--example", "workload"])
            .status()
            .expect("cargo build --example workload");
        assert!(st.success());
    });
    assert!(p.exists(), "workload example not built at {}", p.display());
    p
}

/// A name no other run can produce.
pub fn unique(prefix: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{t}", std::process::id())
}

/// Polls `f` until it returns Some or `limit` passes. For conditions that
/// have no signal to wait on (a screen's contents, a file appearing).
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tmux session that is killed when dropped.
pub struct Tmux {
    pub name: String,
}

impl Tmux {
    pub fn start(cmd: &str, w: u16, h: u16) -> Tmux {
        let name = unique("st");
        // Two sessions created at once can race on starting the tmux server;
        // the loser fails at once, so try again a few times.
        let mut last = String::new();
        for _ in 0..5 {
            let out = Command::new("tmux")
                .args(["new-session", "-d", "-s", &name, "-x"])
                .arg(w.to_string())
                .arg("-y")
                .arg(h.to_string())
                .arg(cmd)
                .output()
                .expect("tmux is installed (scripts/test.sh installs it)");
            if out.status.success() {
                return Tmux { name };
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("tmux new-session failed: {last}");
    }

    pub fn send(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn wait_screen(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let r = wait_for(limit, || {
            last = self.screen();
            pred(&last).then(|| last.clone())
        });
        r.unwrap_or_else(|| panic!("screen never matched; last screen:\n{last}"))
    }

    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}

/// A copy of the workload binary under a name of its own (its comm), so
/// `comm ==` filters cannot match workloads of other runs; removed on drop.
pub struct CopiedExe {
    pub path: std::path::PathBuf,
}

impl CopiedExe {
    pub fn new(name: &str) -> CopiedExe {
        let dir = std::env::temp_dir().join(unique("exe"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::copy(workload(), &path).unwrap();
        CopiedExe { path }
    }
}

impl Drop for CopiedExe {
    fn drop(&mut self) {
        if let Some(d) = self.path.parent() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A cgroup v2 directory of the test's own, removed when dropped. Putting a
/// workload in it lets a test filter the kernel side to exactly that
/// workload and its children (the cgroup id is the directory's inode).
pub struct TestCgroup {
    pub path: PathBuf,
}

impl TestCgroup {
    pub fn new(prefix: &str) -> TestCgroup {
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = systrace_tui::source::topology::cgroups::cgroup2_mount(&mi)
            .expect("a cgroup2 file system is mounted");
        let path = root.join(unique(prefix));
        std::fs::create_dir(&path).expect("creating a test cgroup");
        TestCgroup { path }
    }

    pub fn id(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&self.path).unwrap().ino()
    }

    pub fn add(&self, pid: u32) {
        std::fs::write(self.path.join("cgroup.procs"), pid.to_string())
            .expect("moving a process into the test cgroup");
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        rmdir_tree(&self.path);
    }
}

/// Removes a cgroup directory and every cgroup below it, children first.
/// Processes may take a moment to leave after exiting, so each removal is
/// retried for a few seconds.
pub fn rmdir_tree(p: &std::path::Path) {
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&e.path());
            }
        }
    }
    let _ = wait_for(Duration::from_secs(5), || std::fs::remove_dir(p).ok());
}

/// Kills and reaps a child when the test ends, however it ends.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Reaped {
    /// The exit status, if the child ends within `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        wait_for(limit, || self.0.try_wait().ok().flatten())
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: a signal to our own child, which is not reaped yet.
        unsafe { libc::kill(self.0.id() as i32, sig) };
    }
}

/// A scratch directory (world-readable, for unprivileged runs), removed
/// on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        let p = std::env::temp_dir().join(unique("st-scratch"));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        Scratch(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The tracer headless (`--no-tui --color never` plus `args`) to its end:
/// stdout, stderr, exit code.
pub fn headless<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (String, String, i32) {
    let out = Command::new(bin())
        .args(["--no-tui", "--color", "never"])
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// A headless replay of `path` with `extra` arguments.
pub fn replay(path: &std::path::Path, extra: &[&str]) -> (String, String, i32) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["--replay".as_ref(), path.as_os_str()];
    args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    headless(&args)
}

/// The exit code a shell wrote to `path` (`CMD; echo $? > path`, how the
/// TUI tests learn how the tracer ended), once it is there.
pub fn exit_code_in(path: &std::path::Path, limit: Duration) -> Option<String> {
    wait_for(limit, || {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    })
}

/// Reads the tracer's stderr until it says it is attached (its "tracing"
/// line) or the stream ends. Returns what was read and whether it attached.
pub fn await_attached(err: &mut impl std::io::BufRead) -> (String, bool) {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            return (seen, false);
        }
        seen.push_str(&line);
        if line.contains("tracing") {
            return (seen, true);
        }
    }
}

/// The tracer headless (`--no-tui --color never` plus `args`), attached,
/// with its stdout collected in the background.
pub struct Collected {
    pub child: Reaped,
    pub out: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Collected {
    pub fn start(args: &[&str]) -> Collected {
        use std::io::Read;
        let mut child = Command::new(bin())
            .args(["--no-tui", "--color", "never"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = out.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 1 << 16];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let child = Reaped(child);
        let (said, attached) = await_attached(&mut err);
        assert!(attached, "the tracer did not start: {said}");
        Collected {
            child,
            out,
            reader: Some(reader),
        }
    }

    /// Stops the tracer with SIGINT (it drains and flushes), waits for it
    /// and its output; returns all of the output.
    pub fn stop(mut self) -> String {
        self.child.signal(libc::SIGINT);
        let _ = self.child.0.wait();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let out = self.out.lock().unwrap().clone();
        out
    }
}
