//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The binary copied into `dir`, where `nobody` can run it.
pub fn binary_for_nobody(dir: &Scratch) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.path("systrace-tui");
    std::fs::copy(bin(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

/// `exe` run as `nobody`, without groups or capabilities.
pub fn as_nobody(exe: &std::path::Path) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
    ])
    .arg(exe);
    c
}

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

/// Example `name`, built in the test binary's profile (`cargo test --test X`
/// does not rebuild examples; a no-op when it is current): its path.
pub fn build_example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let mut args = vec!["build", "--example", name];
    if !cfg!(debug_assertions) {
        args.push("--release");
    }
    let st = Command::new(env!("CARGO"))
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cargo build --example {name}: {e}"));
    assert!(st.success());
    let p = dir.join("examples").join(name);
    assert!(p.exists(), "{name} example not built at {}", p.display());
    p
}

/// The workload example, built once per test binary.
pub fn workload() -> PathBuf {
    static P: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    P.get_or_init(|| build_example("workload")).clone()
}

/// A `sh` that moves itself into `cgroup` and then runs the arguments that
/// follow (appended by the caller): every syscall of what it runs is there.
pub fn in_cgroup(cgroup: &std::path::Path) -> Command {
    let mut c = Command::new("sh");
    c.args([
        "-c",
        "echo $$ > \"$1/cgroup.procs\" && shift && exec \"$@\"",
        "sh",
    ])
    .arg(cgroup);
    c
}

/// Appends to `c` the arguments that run what follows in a private mount
/// namespace where /etc/hostname reads from `file` (a pod's name there).
pub fn with_hostname<'a>(c: &'a mut Command, file: &std::path::Path) -> &'a mut Command {
    c.args([
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind \"$1\" /etc/hostname && shift && exec \"$@\"",
        "sh",
    ])
    .arg(file)
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
    _dir: Scratch,
}

impl CopiedExe {
    pub fn new(name: &str) -> CopiedExe {
        let dir = Scratch::new();
        let path = dir.path(name);
        std::fs::copy(workload(), &path).unwrap();
        CopiedExe { path, _dir: dir }
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

    /// Stops the child with `sig`, and with SIGKILL if it has not ended
    /// within `grace`; reaped either way.
    pub fn stop(&mut self, sig: i32, grace: Duration) {
        if self.0.try_wait().ok().flatten().is_none() {
            self.signal(sig);
            if self.wait(grace).is_none() {
                let _ = self.0.kill();
            }
        }
        let _ = self.0.wait();
    }
}

/// A scratch directory (world-readable and -searchable, for unprivileged
/// runs and programs run as another user), removed on drop.
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new() -> Scratch {
        let d = tempfile::Builder::new()
            .prefix("st-scratch")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(
            d.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        Scratch(d)
    }

    pub fn dir(&self) -> &std::path::Path {
        self.0.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
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

/// `headless` that must succeed: its stdout.
pub fn headless_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let (out, err, code) = headless(args);
    assert_eq!(code, 0, "{err}");
    out
}

/// The tracer headless (`--no-tui --color never` plus `args`), stdout and
/// stderr piped, once it said it is attached (or its stderr ended).
pub struct Started {
    /// Its stdout is still there to take.
    pub child: Reaped,
    /// The rest of its stderr.
    pub err: std::io::BufReader<std::process::ChildStderr>,
    /// What it said up to then.
    pub said: String,
    pub attached: bool,
}

impl Started {
    pub fn new(args: &[&str]) -> Started {
        let mut child = Reaped(
            Command::new(bin())
                .args(["--no-tui", "--color", "never"])
                .args(args)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut err = std::io::BufReader::new(child.0.stderr.take().unwrap());
        let (said, attached) = await_attached(&mut err);
        Started {
            child,
            err,
            said,
            attached,
        }
    }

    /// As `new`, failing the test unless it attached.
    pub fn attached(args: &[&str]) -> Started {
        let s = Started::new(args);
        assert!(s.attached, "the tracer did not attach: {}", s.said);
        s
    }
}

/// The tracer headless and attached, its output lines arriving as it
/// prints them (stderr is drained, so it never blocks on a full pipe).
pub struct Lines {
    _child: Reaped,
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Lines {
    pub fn start(args: &[&str]) -> Lines {
        use std::io::BufRead;
        let Started {
            mut child, mut err, ..
        } = Started::attached(args);
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        let out = std::io::BufReader::new(child.0.stdout.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Lines {
            _child: child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `pred` or `limit` passes.
    pub fn until(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let end = Instant::now() + limit;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = pred(&l);
                    self.seen.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }

    /// The last lines read, for a failure message.
    pub fn tail(&self) -> String {
        let from = self.seen.len().saturating_sub(20);
        self.seen[from..].join("\n")
    }
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
        let Started {
            mut child,
            said,
            attached,
            ..
        } = Started::new(args);
        assert!(attached, "the tracer did not start: {said}");
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stdout = child.0.stdout.take().unwrap();
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

/// `args` followed by a TLS client's: the CA it trusts and, with `id`
/// (certificate, key), who it is.
pub fn tls_client(args: &[&str], ca: &str, id: Option<(&str, &str)>) -> Vec<String> {
    let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    v.extend(["--tls-ca".into(), ca.into()]);
    if let Some((cert, key)) = id {
        v.extend([
            "--tls-cert".into(),
            cert.into(),
            "--tls-key".into(),
            key.into(),
        ]);
    }
    v
}
