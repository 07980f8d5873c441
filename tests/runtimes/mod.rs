//! Real container runtimes for the topology tests: images made locally from
//! busybox-static (no registry), podman with the settings this kind of
//! machine needs, and guards that remove what a test created even when it
//! fails.
#![allow(dead_code)]

pub mod containerd;
pub mod docker;
pub mod node;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use systrace_tui::model::container::{ContainerInfo, ContainerMap};
use systrace_tui::model::event::{Event, TraceEvent};
use systrace_tui::model::selection::Selection;
use systrace_tui::source::kernel::reader::{Capture, CaptureOptions};
use systrace_tui::source::topology::cgroups::CgroupTree;
use systrace_tui::source::topology::names::Sources;
use systrace_tui::source::topology::{Topology, TopologyOptions, VIRTUAL};

/// A directory with busybox-static and its applet links: a whole image.
pub fn busybox_rootfs(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed (scripts/deps.sh test)");
    std::fs::copy(busybox, bin.join("busybox")).unwrap();
    let list = Command::new(busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
        if applet != "busybox" {
            let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
        }
    }
    root
}

/// A daemon of the test's own (dockerd, containerd), its output in `log`;
/// killed on drop unless stopped before.
pub fn spawn_daemon(cmd: &mut Command, log: &Path) -> common::Reaped {
    let log = std::fs::File::create(log).unwrap();
    common::Reaped(
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?} (scripts/deps.sh test installs it): {e}")),
    )
}

/// Kills every process whose command line names `needle` (a daemon's
/// shims and helpers, which outlive it).
pub fn kill_by_cmdline(needle: &str) {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).contains(needle) {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Unmounts whatever is mounted below `dir` (rootfs, shm), deepest first.
pub fn unmount_under(dir: &Path) {
    let d = dir.to_string_lossy().into_owned();
    let mut mnts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .filter(|m| m.starts_with(&d))
        .collect();
    mnts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in mnts {
        let _ = Command::new("umount").args(["-l", &m]).status();
    }
}

/// `CLIENT import` of the directory `root` as `image`, with `CMD cmd` and
/// `ENV PATH=path` (podman and docker take the same words).
pub fn import_rootfs(mut client: Command, root: &Path, cmd: &str, path: &str, image: &str) {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let st = client
        .args([
            "import",
            "--change",
            &format!("CMD {cmd}"),
            "--change",
            &format!("ENV PATH={path}"),
            "-",
            image,
        ])
        .stdin(tar.stdout.take().unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(tar.wait().unwrap().success(), "tar of the rootfs");
    assert!(st.success(), "{client:?}");
}

/// A shell loop that opens a missing file (a marker the test looks for).
pub fn opener(marker: &str) -> String {
    format!("while :; do cat {marker} 2>/dev/null; sleep 0.1; done")
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// podman as root with its own containers.conf: runc (crun refuses hybrid
/// cgroups), ulimits no higher than ours, no network. Everything made
/// through it is removed on drop.
pub struct Podman {
    pub dir: tempfile::TempDir,
    conf: PathBuf,
    pub image: String,
    pods: Vec<String>,
    pod_ids: Vec<String>,
    containers: Vec<String>,
}

impl Podman {
    pub fn new(tag: &str) -> Podman {
        Podman::with_cmd(tag, "[\"/bin/sh\"]")
    }

    /// An image whose default command is `cmd` (JSON array).
    pub fn with_cmd(tag: &str, cmd: &str) -> Podman {
        Podman::from_rootfs(tag, cmd, "/bin", busybox_rootfs)
    }

    /// An image of the directory `make` builds (given a scratch directory),
    /// with `cmd` as its default command and `path` as its PATH.
    pub fn from_rootfs(
        tag: &str,
        cmd: &str,
        path: &str,
        make: impl FnOnce(&Path) -> PathBuf,
    ) -> Podman {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("containers.conf");
        std::fs::write(
            &conf,
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
             [engine]\nruntime = \"runc\"\n",
        )
        .unwrap();
        let p = Podman {
            image: format!("localhost/systrace-test/{tag}:latest"),
            dir,
            conf,
            pods: Vec::new(),
            pod_ids: Vec::new(),
            containers: Vec::new(),
        };
        let root = make(p.dir.path());
        import_rootfs(p.cmd(), &root, cmd, path, &p.image);
        p
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &self.conf);
        c
    }

    pub fn pod(&mut self, name: &str) {
        self.pods.push(name.to_string());
        let out = run(self
            .cmd()
            .args(["pod", "create", "--network", "none", "--name", name]));
        self.pod_ids
            .push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }

    /// Removes a container made by hand through `cmd()` on drop.
    pub fn adopt(&mut self, name: &str) {
        self.containers.push(name.to_string());
    }

    /// Starts a detached container running `script` with /bin/sh.
    pub fn run(&mut self, name: &str, pod: Option<&str>, script: &str) -> String {
        self.containers.push(name.to_string());
        let mut c = self.cmd();
        c.args(["run", "-d", "--network", "none", "--name", name]);
        if let Some(p) = pod {
            c.args(["--pod", p]);
        }
        c.args([&self.image, "/bin/sh", "-c", script]);
        let out = run(&mut c);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.cmd().args(["rm", "-f", "-t", "0", c]).output();
        }
        for p in &self.pods {
            let _ = self.cmd().args(["pod", "rm", "-f", "-t", "0", p]).output();
        }
        let _ = self.cmd().args(["rmi", "-f", &self.image]).output();
        // podman 4.3 leaves a removed pod's (empty) directory in the cgroup
        // v2 tree of a hybrid host.
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        if let Some(root) = systrace_tui::source::topology::cgroups::cgroup2_mount(&mi) {
            for id in self.pod_ids.iter().filter(|i| !i.is_empty()) {
                let _ = std::fs::remove_dir(root.join("libpod_parent").join(id));
            }
        }
    }
}

/// The largest cgroup2 id now: cgroups made later have larger ones.
pub fn newest_cgroup() -> u64 {
    let mut tree = CgroupTree::discover().expect("a cgroup2 mount");
    tree.rescan().expect("walking the cgroup2 tree");
    tree.paths()
        .keys()
        .copied()
        .max()
        .expect("the root at least")
}

/// A running capture plus topology pipeline, as the binary wires them.
pub struct Traced {
    /// The newest cgroup when tracing started (see `seen_old`).
    pub newest_before: u64,
    pub capture: Capture,
    pub events: crossbeam_channel::Receiver<Vec<Event>>,
    pub containers: ContainerMap,
    /// Each event with the container it had when it arrived (None: host).
    pub seen: Vec<(Option<Arc<ContainerInfo>>, TraceEvent)>,
    pub adds: Vec<Arc<ContainerInfo>>,
    pub dels: Vec<Arc<ContainerInfo>>,
}

impl Traced {
    /// Traced with the names from `sources`, only `selection` if given.
    pub fn with(sources: &Sources, selection: Option<Selection>) -> Traced {
        Traced::start(TopologyOptions {
            sources: sources.clone(),
            selection,
            ..Default::default()
        })
    }

    pub fn start(opts: TopologyOptions) -> Traced {
        let newest_before = newest_cgroup();
        let topo = Topology::new(opts, Default::default()).expect("topology");
        let capture = Capture::start(CaptureOptions {
            filter: topo.kernel_filter(),
            // The containers are started by this process (through podman).
            load: systrace_tui::source::kernel::loader::LoadOptions {
                exclude_descendants: false,
                ..Default::default()
            },
            ..Default::default()
        })
        .expect("load and attach");
        let (events, _h) = topo
            .spawn(
                capture.events.clone(),
                Some(Box::new(capture.filter_handle())),
            )
            .unwrap();
        Traced {
            newest_before,
            capture,
            events,
            containers: ContainerMap::default(),
            seen: Vec::new(),
            adds: Vec::new(),
            dels: Vec::new(),
        }
    }

    /// Takes events until `done` holds or `limit` passes. Events from
    /// containers are kept with the container they were labelled with
    /// when they arrived; host events are counted in `host`.
    pub fn pump_until(&mut self, limit: Duration, mut done: impl FnMut(&Traced) -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if done(self) {
                return true;
            }
            let Ok(batch) = self.events.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            for ev in batch {
                match ev {
                    Event::Syscall(e) => {
                        let c = self.containers.get(e.id.cgroup_id).cloned();
                        self.seen.push((c, e));
                    }
                    Event::ContainerAdd(a) => {
                        self.containers.add(&a);
                        self.adds.push(a.container);
                    }
                    Event::ContainerDel(d) => {
                        self.containers.del(&d);
                        self.dels.push(d.container);
                    }
                    Event::Lost(_) | Event::Node(_) => {}
                }
            }
        }
        done(self)
    }

    /// Whether a cgroup was made while tracing. Under a selection the
    /// kernel lets those through until a walk has named them (a container
    /// that starts and exits at once must not be lost), and the stages drop
    /// the ones not selected; cgroups that were already there pass only if
    /// selected. Virtual ids (pods told apart by their v1 path) are their
    /// node's, which was there.
    pub fn made_while_tracing(&self, cgroup_id: u64) -> bool {
        cgroup_id & VIRTUAL == 0 && cgroup_id > self.newest_before
    }

    /// The events of cgroups that were there when tracing started: what the
    /// kernel's selection alone decides.
    pub fn seen_old(&self) -> impl Iterator<Item = &(Option<Arc<ContainerInfo>>, TraceEvent)> {
        self.seen
            .iter()
            .filter(|(_, e)| !self.made_while_tracing(e.id.cgroup_id))
    }

    /// Events whose first captured path is `path`.
    pub fn opening(&self, path: &str) -> Vec<&(Option<Arc<ContainerInfo>>, TraceEvent)> {
        self.seen
            .iter()
            .filter(|(_, e)| e.path() == Some(path.as_bytes()))
            .collect()
    }

    /// The container a cgroup id has now (names may have arrived since).
    pub fn now(&self, e: &TraceEvent) -> Option<Arc<ContainerInfo>> {
        self.containers.get(e.id.cgroup_id).cloned()
    }
}
