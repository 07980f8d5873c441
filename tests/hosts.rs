//! Root-only: unusual hosts. The real binary runs in cgroup layouts the
//! test makes from scratch in a private mount namespace of its own
//! (v2-only, hybrid, v1-only), with no container runtime installed, and
//! with CRI sockets that accept and never answer. Containers are cgroups
//! the test makes in the real cgroup v2 tree, named the way runtimes name
//! them, with a process of the test moved in.
//!
//! The namespaces die with their processes; cgroups, processes and sockets
//! are removed by Drop guards, also when an assertion fails.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    bin, exit_code_in, in_cgroup, require_root, unique, wait_for, with_hostname, CopiedExe, Reaped,
    TestCgroup, Tmux,
};
use systrace_tui::source::topology::cri::TIMEOUT;
use systrace_tui::source::topology::names::PODMAN_TIMEOUT;

/// How the cgroup file systems look to the tracer.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// As this machine has them.
    Host,
    /// cgroup2 at /sys/fs/cgroup, nothing else.
    V2Only,
    /// cgroup2 at /sys/fs/cgroup/unified next to a v1 hierarchy.
    Hybrid,
    /// A v1 hierarchy only: no cgroup2 anywhere.
    V1Only,
}

/// Shell that rebuilds /sys/fs/cgroup in the (private) mount namespace.
/// A named v1 hierarchy stands for the v1 controllers: controllers bound
/// to cgroup2 on a v2-only host cannot be mounted as v1. A kernel without
/// v1 support cannot have v1 hierarchies at all; the tracer never reads
/// them, so the layout it sees is the same.
fn layout_script(l: Layout) -> String {
    // Every cgroup2 mount, and /sys/fs/cgroup with all below it, go first.
    const CLEAR: &str = r#"
grep ' - cgroup2 ' /proc/self/mountinfo | awk '{print $5}' | while read -r m; do umount -l "$m"; done
umount -R /sys/fs/cgroup 2>/dev/null || umount -R -l /sys/fs/cgroup 2>/dev/null || true
"#;
    const TMPFS: &str = "mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup\n";
    const V1: &str = r#"
mkdir /sys/fs/cgroup/systrace-test
mount -t cgroup -o none,name=systrace-test cgroup /sys/fs/cgroup/systrace-test || echo "no cgroup v1 support in this kernel" >&2
"#;
    let check = |n: u8| {
        format!(
            "[ \"$(grep -c ' - cgroup2 ' /proc/self/mountinfo)\" = {n} ] || {{ echo 'layout not made' >&2; exit 97; }}\n"
        )
    };
    match l {
        Layout::Host => String::new(),
        Layout::V2Only => [
            CLEAR,
            "mount -t cgroup2 cgroup2 /sys/fs/cgroup\n",
            &check(1),
        ]
        .concat(),
        Layout::Hybrid => [
            CLEAR,
            TMPFS,
            V1,
            "mkdir /sys/fs/cgroup/unified\nmount -t cgroup2 cgroup2 /sys/fs/cgroup/unified\n",
            &check(1),
        ]
        .concat(),
        Layout::V1Only => [CLEAR, TMPFS, V1, &check(0)].concat(),
    }
}

/// Shell that makes every container runtime look uninstalled: empty state
/// directories and sockets, and the runtimes' binaries unrunnable.
const NO_RUNTIME: &str = r#"
for d in /run/containerd /run/k3s /run/crio /run/containers /run/docker /var/lib/containers /var/lib/docker; do
  if [ -d "$d" ]; then mount -t tmpfs tmpfs "$d"; fi
done
for b in podman docker nerdctl crictl ctr containerd crio runc crun conmon; do
  if p=$(command -v "$b"); then mount --bind /dev/null "$p"; fi
done
"#;

/// The tracer with `args`, in a private mount namespace with `layout` and
/// then `setup` (shell) applied.
fn tracer(layout: Layout, setup: &str, args: &[&str]) -> Command {
    let mut script = String::from("set -e\n");
    script.push_str(&layout_script(layout));
    script.push_str(setup);
    script.push_str("exec \"$@\"\n");
    let mut c = Command::new("unshare");
    c.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "sh",
    ])
    .arg(bin())
    .args(args);
    c
}

/// A headless run: stdout lines, stderr, exit code, wall time.
struct Run {
    lines: Vec<String>,
    stderr: String,
    code: Option<i32>,
    took: Duration,
}

/// Runs a headless tracer to its end (bounded by `limit`: a run that does
/// not end is killed and reported with no exit code).
fn run_headless(mut cmd: Command, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = Reaped(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare is installed (util-linux)"),
    );
    let out = child.0.stdout.take().unwrap();
    let mut err = child.0.stderr.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l2 = lines.clone();
    let outs = std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            match l {
                Ok(l) => l2.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = wait_for(limit, || child.0.try_wait().ok().flatten());
    let took = start.elapsed();
    drop(child);
    let _ = outs.join();
    let stderr = errs.join().unwrap();
    let lines = std::mem::take(&mut *lines.lock().unwrap());
    Run {
        lines,
        stderr,
        code: status.and_then(|s| s.code()),
        took,
    }
}

/// A parent cgroup of the test's own in the real cgroup v2 tree, with
/// container cgroups under it; removed (children first) on drop.
struct Cgroups(TestCgroup);

impl Cgroups {
    fn new() -> Cgroups {
        Cgroups(TestCgroup::new("hosts"))
    }

    /// Makes `rel` (and its parents) under the test's parent.
    fn make(&self, rel: &str) -> PathBuf {
        let p = self.0.path.join(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// A kubelet-style (containerd CRI, systemd driver) container cgroup.
    fn kube_container(&self, id: &str) -> PathBuf {
        let uid = pod_uid().replace('-', "_");
        self.make(&format!(
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid}.slice/cri-containerd-{id}.scope"
        ))
    }
}

/// A pod uid no other run makes.
fn pod_uid() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    format!(
        "{:08x}-1111-4222-8333-{:012x}",
        std::process::id(),
        (t ^ N.fetch_add(1, Ordering::SeqCst) as u64) & 0xffff_ffff_ffff
    )
}

/// A container id (64 hex digits) no other run makes.
fn container_id() -> String {
    let u = pod_uid().replace('-', "");
    // The varying digits first: labels show the first 12.
    let r: String = u.chars().rev().collect();
    format!("{r}{u}")
}

/// A process of the test in a container cgroup: a workload opening
/// `marker` every 20 ms. With `hostname`, it gets a mount namespace of its
/// own where /etc/hostname says that name, as a pod's containers have.
struct Member {
    _child: Reaped,
    _dir: tempfile::TempDir,
    marker: String,
}

impl Member {
    fn start(cgroup: &Path, exe: &Path, hostname: Option<&str>) -> Member {
        let dir = tempfile::tempdir().unwrap();
        // Short: the TUI's argument column must show all of it.
        let marker = format!("/tmp/hm-{}", &pod_uid()[24..]);
        // Into the cgroup first, so every syscall of the workload is there.
        let mut c = in_cgroup(cgroup);
        if let Some(h) = hostname {
            let hf = dir.path().join("hostname");
            std::fs::write(&hf, format!("{h}\n")).unwrap();
            with_hostname(&mut c, &hf);
        }
        c.arg(exe).args(["loop-open", &marker, "20"]);
        let child = Reaped(c.stdin(Stdio::null()).spawn().unwrap());
        let pid = child.0.id();
        // Ready once it is in the cgroup and sees its hostname.
        let ready = wait_for(Duration::from_secs(10), || {
            let procs = std::fs::read_to_string(cgroup.join("cgroup.procs")).ok()?;
            let inside = procs.lines().any(|l| l.trim() == pid.to_string());
            let seen = std::fs::read_to_string(format!("/proc/{pid}/root/etc/hostname"))
                .ok()
                .map(|s| s.trim().to_string());
            let named = hostname.is_none_or(|h| seen.as_deref() == Some(h));
            let running = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| exe.file_name().is_some_and(|n| c.trim() == n));
            (inside && named && running).then_some(())
        });
        assert!(ready.is_some(), "the member process never got ready");
        Member {
            _child: child,
            _dir: dir,
            marker,
        }
    }
}

/// One kubelet-style pod container with a process in it whose hostname is
/// the pod's name. Fields drop in order: the process before its cgroups.
struct OnePod {
    m: Member,
    _cgs: Cgroups,
    exe: CopiedExe,
    id: String,
    pod: String,
}

impl OnePod {
    fn start(tag: &str) -> OnePod {
        let exe = own_exe(tag);
        let cgs = Cgroups::new();
        let id = container_id();
        let pod = unique("web").replace('-', "x");
        let m = Member::start(&cgs.kube_container(&id), &exe.path, Some(&pod));
        OnePod {
            m,
            _cgs: cgs,
            exe,
            id,
            pod,
        }
    }
}

/// The label headless lines put first (`host`, `pod/container`, ...).
fn label(line: &str) -> &str {
    line.split(' ').next().unwrap_or("")
}

/// A member's process was traced (at least 10 of its openat calls every
/// 20 ms came out) and every line of it carries `want` as its label.
fn assert_labelled(r: &Run, m: &Member, want: &str) {
    let mine: Vec<&String> = r.lines.iter().filter(|l| l.contains(&m.marker)).collect();
    assert!(
        mine.len() >= 10,
        "{} lines of {want}; stderr: {}",
        mine.len(),
        r.stderr
    );
    let wrong: Vec<_> = mine.iter().filter(|l| label(l) != want).collect();
    assert!(
        wrong.is_empty(),
        "not labelled {want}: {:?}",
        &wrong[..wrong.len().min(3)]
    );
}

fn assert_no_panic(r: &Run) {
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// A headless run of `secs` seconds (uncoloured) with `select` options.
fn timed_run(layout: Layout, setup: &str, select: &[&str], secs: u32) -> Run {
    let secs = secs.to_string();
    let mut args = vec!["--no-tui", "--color", "never", "--duration", &secs];
    args.extend_from_slice(select);
    run_headless(tracer(layout, setup, &args), Duration::from_secs(90))
}

/// A headless run of `secs` seconds that shows only `exe`'s processes.
fn own_comm_run(layout: Layout, setup: &str, exe: &CopiedExe, secs: u32) -> Run {
    let comm = format!("^{}$", exe.path.file_name().unwrap().to_string_lossy());
    timed_run(layout, setup, &["--comm", &comm], secs)
}

/// A workload copy under a comm of its own, so `--comm` sees this test only.
fn own_exe(tag: &str) -> CopiedExe {
    CopiedExe::new(&format!("{tag}{}", std::process::id() % 100_000))
}

#[test]
fn pods_resolve_and_are_selected_in_the_kernel_on_v2_only_and_hybrid_layouts() {
    if !require_root("pods_resolve_and_are_selected_in_the_kernel_on_v2_only_and_hybrid_layouts") {
        return;
    }
    for layout in [Layout::V2Only, Layout::Hybrid] {
        let p = OnePod::start("hv2");
        let (m, id, pod) = (&p.m, &p.id, &p.pod);
        let sel = format!("^{pod}$");
        let r = timed_run(layout, "", &["--pod", &sel], 3);
        assert_no_panic(&r);
        assert_eq!(r.code, Some(0), "{layout:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("not shown") && !r.stderr.contains("layout not made"),
            "{layout:?}: {}",
            r.stderr
        );
        let want = format!("{pod}/{}", &id[..12]);
        assert_labelled(&r, m, &want);
        // Selected in the kernel: nothing else on this busy machine gets
        // through, and every line carries the pod's label.
        let others: Vec<_> = r.lines.iter().filter(|l| label(l) != want).collect();
        assert!(
            others.is_empty(),
            "{layout:?}: lines not of pod {want}: {:?}",
            &others[..others.len().min(5)]
        );
    }
}

#[test]
fn v1_only_host_traces_everything_as_host_and_refuses_container_filters() {
    if !require_root("v1_only_host_traces_everything_as_host_and_refuses_container_filters") {
        return;
    }
    let p = OnePod::start("hv1");
    let r = own_comm_run(Layout::V1Only, "", &p.exe, 2);
    assert_no_panic(&r);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("systrace-tui: containers are not shown")
                && l.contains("v1-only")),
        "{}",
        r.stderr
    );
    assert_labelled(&r, &p.m, "host");
    // Container filters cannot work here: one line that says why, exit 1,
    // before anything is loaded.
    for flag in [
        &["--pod", "x"][..],
        &["--container", "x"],
        &["--namespace", "x"],
        &["--host"],
    ] {
        let mut args = vec!["--no-tui", "--duration", "30"];
        args.extend_from_slice(flag);
        let r = run_headless(tracer(Layout::V1Only, "", &args), Duration::from_secs(20));
        assert_no_panic(&r);
        assert_eq!(r.code, Some(1), "{flag:?}: {}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{flag:?}: {}", r.stderr);
        assert!(
            lines[0].starts_with("systrace-tui: ")
                && lines[0].contains(flag[0])
                && lines[0].contains("cgroup v2")
                && lines[0].contains("v1-only"),
            "{flag:?}: {}",
            lines[0]
        );
        assert!(r.lines.is_empty(), "{flag:?}: {:?}", r.lines);
    }
}

#[test]
fn with_no_runtime_installed_containers_are_shown_by_id() {
    if !require_root("with_no_runtime_installed_containers_are_shown_by_id") {
        return;
    }
    let exe = own_exe("hnr");
    let cgs = Cgroups::new();
    let (docker, podman, pod, cri) = (
        container_id(),
        container_id(),
        container_id(),
        container_id(),
    );
    let members = [
        (
            &docker,
            Member::start(
                &cgs.make(&format!("system.slice/docker-{docker}.scope")),
                &exe.path,
                None,
            ),
        ),
        (
            &podman,
            Member::start(
                &cgs.make(&format!("libpod_parent/{pod}/libpod-{podman}")),
                &exe.path,
                None,
            ),
        ),
        // In a pod, but sharing the host's files: the node's hostname must
        // not be taken for the pod's name.
        (
            &cri,
            Member::start(&cgs.kube_container(&cri), &exe.path, None),
        ),
    ];
    let r = own_comm_run(Layout::Host, NO_RUNTIME, &exe, 3);
    assert_no_panic(&r);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for (id, m) in &members {
        assert_labelled(&r, m, &id[..12]);
    }
}

/// A CRI socket that accepts connections and never answers. Counts the
/// connections made and those the client still holds open (a lookup
/// waiting on it).
struct HungCri {
    _dir: tempfile::TempDir,
    path: PathBuf,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HungCri {
    fn start() -> HungCri {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cri.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let (accepted, open, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (a, o, s) = (accepted.clone(), open.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                a.fetch_add(1, Ordering::SeqCst);
                o.fetch_add(1, Ordering::SeqCst);
                let o = o.clone();
                // Read (and drop) whatever the client sends, answer nothing,
                // until it gives up and closes.
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut conn, &mut std::io::sink());
                    o.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        HungCri {
            _dir: dir,
            path,
            accepted,
            open,
            stop,
            thread: Some(thread),
        }
    }

    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

impl Drop for HungCri {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn hanging_cri_sockets_are_asked_once_and_the_headless_run_ends_on_time() {
    if !require_root("hanging_cri_sockets_are_asked_once_and_the_headless_run_ends_on_time") {
        return;
    }
    let exe = own_exe("hcri");
    let socks = [HungCri::start(), HungCri::start()];
    let cgs = Cgroups::new();
    let prefix = unique("shop").replace('-', "x");
    let members: Vec<(String, String, Member)> = (0..6)
        .map(|i| {
            let id = container_id();
            let pod = format!("{prefix}-{i}");
            let m = Member::start(&cgs.kube_container(&id), &exe.path, Some(&pod));
            (id, pod, m)
        })
        .collect();
    let sel = format!("^{prefix}-");
    let duration = 3;
    let mut select = vec!["--pod", &sel];
    for s in &socks {
        select.extend(["--cri-socket", s.path()]);
    }
    let r = timed_run(Layout::Host, "", &select, duration);
    assert_no_panic(&r);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Each hung socket cost one timeout, not one per container: startup
    // with a selection looks every container up before tracing.
    for s in &socks {
        assert_eq!(s.accepted.load(Ordering::SeqCst), 1, "{}", s.path());
    }
    let bound =
        Duration::from_secs(duration.into()) + TIMEOUT * 2 * socks.len() as u32 + TIMEOUT * 2;
    assert!(r.took < bound, "took {:?} (bound {bound:?})", r.took);
    // The names still come, from the fallback after the hung runtime.
    for (id, pod, m) in &members {
        assert_labelled(&r, m, &format!("{pod}/{}", &id[..12]));
    }
    println!(
        "headless run with 2 hung CRI sockets and 6 selected pods: {:?}",
        r.took
    );
}

#[test]
fn tui_answers_keys_while_cri_sockets_hang() {
    if !require_root("tui_answers_keys_while_cri_sockets_hang") {
        return;
    }
    let exe = own_exe("htui");
    let socks: Vec<HungCri> = (0..4).map(|_| HungCri::start()).collect();
    let cgs = Cgroups::new();
    let id = container_id();
    let m = Member::start(&cgs.kube_container(&id), &exe.path, None);
    let status_dir = tempfile::tempdir().unwrap();
    let status = status_dir.path().join("status");
    let comm = exe.path.file_name().unwrap().to_string_lossy().into_owned();
    let cri: String = socks
        .iter()
        .map(|s| format!(" --cri-socket {}", s.path()))
        .collect();
    let cmd = format!(
        "{}{cri} --comm '^{comm}$'; echo $? > {}",
        bin().display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    let stuck = || {
        socks
            .iter()
            .map(|s| s.open.load(Ordering::SeqCst))
            .sum::<usize>()
            > 0
    };
    // The name lookup is waiting on a hung runtime...
    let asked = wait_for(Duration::from_secs(20), || stuck().then_some(()));
    assert!(
        asked.is_some(),
        "the tracer never asked the CRI sockets:\n{}",
        tmux.screen()
    );
    // ...while events keep coming and keys are answered.
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains(&m.marker));
    tmux.send(&["Space"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("PAUSED"));
    let asked: usize = socks
        .iter()
        .map(|s| s.accepted.load(Ordering::SeqCst))
        .sum();
    assert!(
        stuck(),
        "the lookups ended before the UI answered ({asked} sockets asked): the test proves nothing"
    );
    // And it quits at once, lookups still pending.
    let pending: usize = socks.iter().map(|s| s.open.load(Ordering::SeqCst)).sum();
    let t = Instant::now();
    tmux.send(&["q"]);
    let code = exit_code_in(&status, Duration::from_secs(10));
    assert_eq!(code.as_deref(), Some("0"));
    println!(
        "quit with {pending} hung lookup(s) open, {asked} of 4 sockets asked: exit status after {:?}",
        t.elapsed()
    );
}

/// A `podman` that hangs the way one waiting on a storage lock does: it
/// blocks on a lock this guard holds, so it ends when the guard (or the
/// test process) goes, and counts how often it was run.
struct HungPodman {
    dir: tempfile::TempDir,
    _lock: std::fs::File,
}

impl HungPodman {
    fn new() -> HungPodman {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::io::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let lock = std::fs::File::create(dir.path().join("lock")).unwrap();
        // SAFETY: a valid open fd; the lock is released when it closes.
        assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
        let script = dir.path().join("podman");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho run >> {d}/runs\nexec flock {d}/lock true\n",
                d = dir.path().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        HungPodman { dir, _lock: lock }
    }

    /// Shell that puts it in place of the installed podman.
    fn setup(&self) -> String {
        format!(
            "mount --bind {} \"$(command -v podman)\"\n",
            self.dir.path().join("podman").display()
        )
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("runs"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

#[test]
fn a_hung_podman_costs_one_timeout_not_one_per_pod() {
    if !require_root("a_hung_podman_costs_one_timeout_not_one_per_pod") {
        return;
    }
    let podman = HungPodman::new();
    let exe = own_exe("hpm");
    let cgs = Cgroups::new();
    let prefix = unique("cart").replace('-', "x");
    let members: Vec<(String, String, Member)> = (0..4)
        .map(|i| {
            let (pod_id, id) = (container_id(), container_id());
            let pod = format!("{prefix}-{i}");
            let cg = cgs.make(&format!("libpod_parent/{pod_id}/libpod-{id}"));
            (id, pod.clone(), Member::start(&cg, &exe.path, Some(&pod)))
        })
        .collect();
    let sel = format!("^{prefix}-");
    let duration = 3;
    let r = timed_run(Layout::Host, &podman.setup(), &["--pod", &sel], duration);
    assert_no_panic(&r);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Startup with a selection looks every pod up: the hung podman was run
    // once, then left alone.
    assert_eq!(podman.runs(), 1);
    let bound = Duration::from_secs(duration.into()) + PODMAN_TIMEOUT + Duration::from_secs(6);
    assert!(r.took < bound, "took {:?} (bound {bound:?})", r.took);
    for (id, pod, m) in &members {
        assert_labelled(&r, m, &format!("{pod}/{}", &id[..12]));
    }
    println!(
        "headless run with a hung podman and 4 selected pods: {:?}",
        r.took
    );
}
