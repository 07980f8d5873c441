//! Container id -> names, from the runtimes' own interfaces, in this order:
//! podman's storage files (plus `podman pod inspect` for a pod's name, once
//! per pod), the CRI over containerd's / CRI-O's sockets, OCI bundle
//! annotations in containerd's and CRI-O's state directories, docker's
//! config.v2.json, and as the last resort for a pod name the hostname the
//! container sees (`/proc/PID/root/etc/hostname`: runtimes set a pod's uts
//! hostname to the pod name).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::metadata::{
    docker_config_v2, from_annotations, info_from, oci_annotations, podman_containers_json,
    podman_pod_list, Names,
};
use super::path::PathMatch;
use crate::model::container::{ContainerInfo, Runtime};

/// Where the runtimes keep their files. Defaults are the packaged ones.
#[derive(Clone, Debug)]
pub struct Sources {
    pub cri_sockets: Vec<PathBuf>,
    /// containerd state directories (holding io.containerd.runtime.v2.task).
    pub containerd_state: Vec<PathBuf>,
    pub podman_graph: PathBuf,
    /// containers/storage run root (podman and CRI-O).
    pub storage_run: PathBuf,
    pub docker_root: PathBuf,
    /// Spawn `podman pod inspect` for a podman pod's name.
    pub podman_cli: bool,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            cri_sockets: super::cri::sockets(&[]),
            containerd_state: vec!["/run/containerd".into(), "/run/k3s/containerd".into()],
            podman_graph: "/var/lib/containers/storage".into(),
            storage_run: "/run/containers/storage".into(),
            docker_root: "/var/lib/docker".into(),
            podman_cli: true,
        }
    }
}

/// Where a local cluster's node keeps its CRI socket, inside its own root:
/// kind and minikube (containerd), k3d (k3s's containerd).
pub const NODE_SOCKETS: &[&str] = &[
    "run/containerd/containerd.sock",
    "run/k3s/containerd/containerd.sock",
];

/// The matching containerd state directories inside a node's root.
pub const NODE_STATE: &[&str] = &["run/containerd", "run/k3s/containerd"];

/// Of a node container's processes, the one whose root holds a node CRI
/// socket (the node's init, containerd, kubelet): the way into the node's
/// mount namespace. Pod processes (same cgroup on hybrid hosts) have their
/// own roots and are passed over. At most `limit` pids are looked at.
pub fn node_root_pid(pids: impl IntoIterator<Item = u32>, limit: usize) -> Option<u32> {
    pids.into_iter().take(limit).find(|pid| {
        NODE_SOCKETS
            .iter()
            .any(|s| std::path::Path::new(&format!("/proc/{pid}/root/{s}")).exists())
    })
}

/// How a command run with a time limit ended.
#[derive(Debug, PartialEq, Eq)]
enum Ran {
    /// It succeeded; its stdout, trimmed.
    Out(String),
    /// It could not start, or failed.
    Failed,
    /// It was killed at the limit.
    Hung,
}

/// Runs a command with a time limit.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Ran {
    let Ok(mut child) = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Ran::Failed;
    };
    let end = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                return match child.wait_with_output() {
                    Ok(out) if st.success() => {
                        Ran::Out(String::from_utf8_lossy(&out.stdout).trim().to_string())
                    }
                    _ => Ran::Failed,
                };
            }
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
            res => {
                let _ = child.kill();
                let _ = child.wait();
                return if res.is_ok() { Ran::Hung } else { Ran::Failed };
            }
        }
    }
}

/// How long a CRI socket that could not be reached or did not answer in
/// time, or a podman command that hung, is left alone. Without it a hung runtime costs its timeout
/// once per container, so startup with a selection on a busy node could
/// take minutes.
pub const CRI_BACKOFF: Duration = Duration::from_secs(30);

/// Per `podman` command.
pub const PODMAN_TIMEOUT: Duration = Duration::from_secs(5);

/// The resolver: owned by the topology's resolver thread.
pub struct Resolver {
    pub sources: Sources,
    rt: Option<tokio::runtime::Runtime>,
    /// podman pod id -> name (pods are few; asked once each).
    podman_pods: HashMap<String, Option<String>>,
    /// CRI sockets that failed, and until when they are skipped.
    cri_down: HashMap<PathBuf, Instant>,
    /// `podman` hung: not run again until then.
    podman_down: Option<Instant>,
    /// Node container id -> name, for pods inside local cluster nodes.
    nodes: HashMap<String, String>,
    /// The last `resolve` did not hear from a runtime that hangs (or is in
    /// its backoff after hanging).
    skipped: bool,
}

impl Resolver {
    pub fn new(sources: Sources) -> Resolver {
        Resolver {
            sources,
            rt: None,
            podman_pods: HashMap::new(),
            cri_down: HashMap::new(),
            podman_down: None,
            nodes: HashMap::new(),
            skipped: false,
        }
    }

    #[cfg(test)]
    fn cri(&mut self, id: &str) -> Option<Names> {
        let socks = self.sources.cri_sockets.clone();
        self.cri_on(&socks, id)
    }

    fn cri_on(&mut self, sockets: &[PathBuf], id: &str) -> Option<Names> {
        let now = Instant::now();
        self.cri_down.retain(|_, until| *until > now);
        let (socks, down): (Vec<PathBuf>, Vec<PathBuf>) = sockets
            .iter()
            .filter(|p| p.exists())
            .cloned()
            .partition(|p| !self.cri_down.contains_key(p));
        self.skipped |= !down.is_empty();
        if socks.is_empty() {
            return None;
        }
        if self.rt.is_none() {
            self.rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok();
        }
        let rt = self.rt.as_ref()?;
        for s in socks {
            match rt.block_on(super::cri::lookup(&s, id)) {
                Ok(Some(n)) => return Some(n),
                Ok(None) => {}
                Err(e) if e.is::<super::cri::Unreachable>() => {
                    self.cri_down.insert(s, Instant::now() + CRI_BACKOFF);
                    self.skipped = true;
                }
                Err(_) => {}
            }
        }
        None
    }

    fn bundle(&self, m: &PathMatch, state: &[PathBuf]) -> Option<Names> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        for st in state {
            let tasks = st.join("io.containerd.runtime.v2.task");
            match &m.namespace {
                Some(ns) => candidates.push(tasks.join(ns).join(&m.id)),
                None => {
                    if let Ok(rd) = std::fs::read_dir(&tasks) {
                        candidates.extend(rd.flatten().map(|e| e.path().join(&m.id)));
                    }
                }
            }
        }
        // CRI-O (and podman's run root) keep the spec next to the container.
        candidates.push(
            self.sources
                .storage_run
                .join("overlay-containers")
                .join(&m.id)
                .join("userdata"),
        );
        candidates.iter().find_map(|dir| {
            let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
            Some(from_annotations(&oci_annotations(&text)?))
        })
    }

    fn podman(&mut self, m: &PathMatch) -> Names {
        let mut n = std::fs::read_to_string(
            self.sources
                .podman_graph
                .join("overlay-containers/containers.json"),
        )
        .ok()
        .and_then(|j| podman_containers_json(&j, &m.id))
        .unwrap_or_default();
        let spec = self
            .sources
            .podman_graph
            .join("overlay-containers")
            .join(&m.id)
            .join("userdata/config.json");
        if let Some(a) = std::fs::read_to_string(spec)
            .ok()
            .and_then(|t| oci_annotations(&t))
        {
            n.sandbox = from_annotations(&a).sandbox;
        }
        if let Some(pod) = &m.pod_id {
            // podman names a pod's infra container `<pod id:12>-infra`.
            let infra = format!("{}-infra", &pod[..pod.len().min(12)]);
            n.sandbox |= n.container.as_deref() == Some(infra.as_str());
            n.pod = match self.podman_pods.get(pod) {
                Some(name) => name.clone(),
                None => self.podman_pod_name(pod),
            };
            // podman cannot be asked (the tracer has dropped the privileges
            // it needs, so for a pod made while tracing it never can): the
            // hostname podman wrote for the container when it made it is
            // its pod's name (unless the pod was given another hostname).
            // Unlike the container's own /etc/hostname it is there before
            // the container's process has entered the pod.
            if n.pod.is_none() {
                n.pod = read_hostname(
                    self.sources
                        .storage_run
                        .join("overlay-containers")
                        .join(&m.id)
                        .join("userdata/hostname"),
                );
            }
        }
        n
    }

    /// Learns the name of every podman pod there is, with one `podman pod
    /// ps`. Called at startup, while the tracer still has its privileges:
    /// once they are dropped, podman takes itself for a rootless user and
    /// every `podman pod inspect` fails, so a container that joins an
    /// existing pod later would otherwise get no pod name (or only the
    /// hostname fallback, which cannot see a process that has not yet
    /// entered its pod).
    pub fn learn_podman_pods(&mut self) {
        if !self.sources.podman_cli || self.podman_down.is_some() {
            return;
        }
        let ran = run_bounded(
            Command::new("podman").args([
                "pod",
                "ps",
                "--no-trunc",
                "--format",
                "{{.ID}}\t{{.Name}}",
            ]),
            PODMAN_TIMEOUT,
        );
        match ran {
            Ran::Out(s) => {
                for (id, name) in podman_pod_list(&s) {
                    self.podman_pods.insert(id, Some(name));
                }
            }
            Ran::Failed => {}
            Ran::Hung => self.podman_down = Some(Instant::now() + CRI_BACKOFF),
        }
    }

    /// A podman pod's name from `podman pod inspect`, remembered unless
    /// podman hung (it may answer later).
    fn podman_pod_name(&mut self, pod: &str) -> Option<String> {
        if !self.sources.podman_cli {
            return None;
        }
        if self.podman_down.is_some_and(|until| Instant::now() < until) {
            self.skipped = true;
            return None;
        }
        let ran = run_bounded(
            Command::new("podman").args(["pod", "inspect", "--format", "{{.Name}}", pod]),
            PODMAN_TIMEOUT,
        );
        let name = match ran {
            Ran::Out(s) => Some(s).filter(|s| !s.is_empty()),
            Ran::Failed => None,
            Ran::Hung => {
                self.podman_down = Some(Instant::now() + CRI_BACKOFF);
                self.skipped = true;
                return None;
            }
        };
        self.podman_pods.insert(pod.to_string(), name.clone());
        name
    }

    fn docker(&self, id: &str) -> Option<Names> {
        let p = self
            .sources
            .docker_root
            .join("containers")
            .join(id)
            .join("config.v2.json");
        docker_config_v2(&std::fs::read_to_string(p).ok()?)
    }

    /// Everything that can be found about a container. `pid` is a process
    /// in its cgroup, for the hostname fallback.
    pub fn resolve(&mut self, m: &PathMatch, pid: Option<u32>) -> ContainerInfo {
        self.resolve_in(m, pid, None)
    }

    /// As `resolve`, for a container that may run inside a node container
    /// (`m.node`): `node_pid` is a process of that node whose root holds
    /// the node's CRI socket and state (`node_root_pid`). Such a pod is
    /// asked about only there: the host's runtimes do not know it.
    pub fn resolve_in(
        &mut self,
        m: &PathMatch,
        pid: Option<u32>,
        node_pid: Option<u32>,
    ) -> ContainerInfo {
        self.skipped = false;
        let Some(node) = &m.node else {
            return self.resolve_here(m, pid, None);
        };
        let node_name = self.node_name(node);
        let skipped = self.skipped;
        let mut c = self.resolve_here(m, pid, node_pid);
        self.skipped |= skipped;
        c.node = Some(node_name);
        c
    }

    /// The node container's name (its short id while unknown), asked once
    /// per node while found.
    fn node_name(&mut self, node: &super::path::NodeMatch) -> String {
        if let Some(n) = self.nodes.get(&node.id) {
            return n.clone();
        }
        let short = node.id[..node.id.len().min(12)].to_string();
        let Some(nm) = super::path::parse(&node.cgroup) else {
            return short;
        };
        let c = self.resolve_here(&nm, None, None);
        match c.name {
            Some(n) => {
                self.nodes.insert(node.id.clone(), n.clone());
                n
            }
            None => short,
        }
    }

    fn resolve_here(
        &mut self,
        m: &PathMatch,
        pid: Option<u32>,
        node_pid: Option<u32>,
    ) -> ContainerInfo {
        let in_pod = m.pod_uid.is_some() || m.pod_id.is_some();
        let mut n = Names::default();
        let mut runtime = m.runtime;
        match m.runtime {
            Runtime::Podman => n.fill(self.podman(m)),
            Runtime::Docker => {
                if let Some(d) = self.docker(&m.id) {
                    n.fill(d);
                }
            }
            Runtime::ContainerdCri | Runtime::CriO | Runtime::Containerd => {
                let (sockets, state): (Vec<PathBuf>, Vec<PathBuf>) = match (&m.node, node_pid) {
                    (Some(_), Some(p)) => (
                        NODE_SOCKETS
                            .iter()
                            .map(|s| PathBuf::from(format!("/proc/{p}/root/{s}")))
                            .collect(),
                        NODE_STATE
                            .iter()
                            .map(|s| PathBuf::from(format!("/proc/{p}/root/{s}")))
                            .collect(),
                    ),
                    (Some(_), None) => (Vec::new(), Vec::new()),
                    (None, _) => (
                        self.sources.cri_sockets.clone(),
                        self.sources.containerd_state.clone(),
                    ),
                };
                if let Some(c) = self.cri_on(&sockets, &m.id) {
                    if c.runtime_name
                        .as_deref()
                        .is_some_and(|r| r.contains("cri-o"))
                    {
                        runtime = Runtime::CriO;
                    }
                    n.fill(c);
                }
                if !n.complete(in_pod) {
                    if let Some(b) = self.bundle(m, &state) {
                        n.fill(b);
                    }
                }
            }
        }
        if in_pod && n.pod.is_none() {
            n.pod = pid.and_then(hostname_of);
        }
        info_from(m, runtime, n)
    }
}

impl Resolver {
    /// Whether the last `resolve` could not ask a runtime that is in its
    /// backoff: a name it left open may come once the runtime answers
    /// again, so that lookup should not count as a failed attempt.
    pub fn skipped_a_runtime(&self) -> bool {
        self.skipped
    }
}

/// The hostname a process sees: for a pod, the pod name. None when it is
/// the node's own name: a process sharing the host's files, or a
/// hostNetwork pod (kubelet gives those the node's name), is not named
/// by it.
pub fn hostname_of(pid: u32) -> Option<String> {
    let h = read_hostname(format!("/proc/{pid}/root/etc/hostname"))?;
    let node = [
        "/etc/hostname",
        "/proc/1/root/etc/hostname",
        "/proc/sys/kernel/hostname",
    ];
    let is_node = node
        .iter()
        .any(|p| read_hostname(p).as_deref() == Some(h.as_str()));
    (!is_node).then_some(h)
}

fn read_hostname(path: impl AsRef<std::path::Path>) -> Option<String> {
    let h = std::fs::read_to_string(path).ok()?;
    let h = h.trim();
    (!h.is_empty()).then(|| h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nodes_own_hostname_names_no_pod() {
        // This process shares the host's files: its hostname is the node's.
        assert_eq!(hostname_of(std::process::id()), None);
    }

    /// A CRI socket that accepts and never answers is asked once, then left
    /// alone: its timeout is not paid again for every container.
    #[test]
    fn a_hanging_cri_socket_is_asked_once_per_backoff() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("hung.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let n = accepted.clone();
        // Detached: it holds the connections open (unanswered) until the
        // test process ends.
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for c in listener.incoming() {
                n.fetch_add(1, Ordering::SeqCst);
                held.push(c);
            }
        });
        let mut r = Resolver::new(Sources {
            cri_sockets: vec![sock.clone()],
            ..Default::default()
        });
        assert_eq!(r.cri(&"a".repeat(64)), None);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        let t = Instant::now();
        for c in ["b", "c", "d"] {
            assert_eq!(r.cri(&c.repeat(64)), None);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "asked again");
        let m = super::super::path::parse(&format!(
            "/kubepods/besteffort/pod{}/{}",
            "1".repeat(32),
            "f".repeat(64)
        ))
        .unwrap();
        let _ = r.resolve(&m, None);
        assert!(r.skipped_a_runtime(), "the lookup left out the hung socket");
        assert!(
            t.elapsed() < super::super::cri::TIMEOUT,
            "{:?}",
            t.elapsed()
        );
        // Once the backoff is over it is asked again (and hangs again).
        r.cri_down.values_mut().for_each(|u| *u = Instant::now());
        let _ = r.resolve(&m, None);
        assert!(r.skipped_a_runtime());
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // A lookup that reaches no hung runtime is a real attempt.
        let docker = super::super::path::parse(&format!("/docker/{}", "d".repeat(64))).unwrap();
        let _ = r.resolve(&docker, None);
        assert!(!r.skipped_a_runtime());
    }

    #[test]
    fn a_hanging_command_is_killed_at_its_limit() {
        let t = Instant::now();
        let out = run_bounded(Command::new("sleep").arg("30"), Duration::from_millis(200));
        assert_eq!(out, Ran::Hung);
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(
            run_bounded(Command::new("echo").arg("hi"), Duration::from_secs(5)),
            Ran::Out("hi".into())
        );
        assert_eq!(
            run_bounded(&mut Command::new("false"), Duration::from_secs(5)),
            Ran::Failed
        );
        assert_eq!(
            run_bounded(
                &mut Command::new("/nonexistent/podman"),
                Duration::from_secs(5)
            ),
            Ran::Failed
        );
    }
}
