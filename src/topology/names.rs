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

use serde::Deserialize;

use super::path::PathMatch;
use crate::model::container::{ContainerInfo, PodInfo, Runtime};
use crate::model::escape;

/// What one source knows; sources fill in what earlier ones left open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub container: Option<String>,
    pub image: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub pod_uid: Option<String>,
    pub sandbox_id: Option<String>,
    pub sandbox: bool,
    /// The runtime as the CRI names itself ("containerd", "cri-o").
    pub runtime_name: Option<String>,
    /// A docker compose service (its project goes into `pod`).
    pub service: Option<String>,
}

impl Names {
    /// Takes the fields `other` knows and `self` does not.
    pub fn fill(&mut self, other: Names) {
        fn f(a: &mut Option<String>, b: Option<String>) {
            if a.is_none() {
                *a = b;
            }
        }
        f(&mut self.container, other.container);
        f(&mut self.image, other.image);
        f(&mut self.pod, other.pod);
        f(&mut self.namespace, other.namespace);
        f(&mut self.pod_uid, other.pod_uid);
        f(&mut self.sandbox_id, other.sandbox_id);
        f(&mut self.runtime_name, other.runtime_name);
        f(&mut self.service, other.service);
        self.sandbox |= other.sandbox;
    }

    fn complete(&self, want_pod: bool) -> bool {
        self.container.is_some() && (!want_pod || self.pod.is_some())
    }
}

fn get(m: &HashMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| m.get(*k))
        .filter(|v| !v.is_empty())
        .cloned()
}

/// Names from OCI config.json annotations, as containerd's CRI plugin
/// (`io.kubernetes.cri.*`), CRI-O (`io.kubernetes.*`, `io.kubernetes.cri-o.*`)
/// and podman (`io.kubernetes.cri-o.ContainerType`) write them.
pub fn from_annotations(a: &HashMap<String, String>) -> Names {
    let kind = get(
        a,
        &[
            "io.kubernetes.cri.container-type",
            "io.kubernetes.cri-o.ContainerType",
        ],
    );
    let sandbox = kind.as_deref() == Some("sandbox");
    Names {
        container: get(
            a,
            &[
                "io.kubernetes.cri.container-name",
                "io.kubernetes.container.name",
            ],
        )
        .or_else(|| sandbox.then(|| "POD".to_string())),
        image: get(
            a,
            &[
                "io.kubernetes.cri.image-name",
                "io.kubernetes.cri-o.ImageName",
            ],
        ),
        pod: get(
            a,
            &["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"],
        ),
        namespace: get(
            a,
            &[
                "io.kubernetes.cri.sandbox-namespace",
                "io.kubernetes.pod.namespace",
            ],
        ),
        pod_uid: get(
            a,
            &["io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"],
        ),
        sandbox_id: get(
            a,
            &[
                "io.kubernetes.cri.sandbox-id",
                "io.kubernetes.cri-o.SandboxID",
            ],
        ),
        sandbox,
        runtime_name: None,
        service: None,
    }
}

#[derive(Deserialize)]
struct OciSpec {
    #[serde(default)]
    annotations: HashMap<String, String>,
}

/// Annotations of an OCI bundle's config.json text.
pub fn oci_annotations(json: &str) -> Option<HashMap<String, String>> {
    serde_json::from_str::<OciSpec>(json)
        .ok()
        .map(|s| s.annotations)
}

#[derive(Deserialize)]
struct PodmanContainer {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    metadata: String,
}

#[derive(Deserialize, Default)]
struct PodmanMetadata {
    #[serde(rename = "image-name", default)]
    image_name: Option<String>,
}

/// Name and image of container `id` in podman's (containers/storage)
/// containers.json.
pub fn podman_containers_json(json: &str, id: &str) -> Option<Names> {
    let list: Vec<PodmanContainer> = serde_json::from_str(json).ok()?;
    let c = list.into_iter().find(|c| c.id == id)?;
    let md: PodmanMetadata = serde_json::from_str(&c.metadata).unwrap_or_default();
    Some(Names {
        container: c.names.into_iter().next(),
        image: md.image_name,
        ..Default::default()
    })
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Config", default)]
    config: Option<DockerInner>,
}

#[derive(Deserialize)]
struct DockerInner {
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "Labels", default)]
    labels: Option<HashMap<String, String>>,
}

/// Names from docker's /var/lib/docker/containers/<id>/config.v2.json
/// (Kubernetes labels too, for cri-dockerd). A docker compose project is
/// the container's pod (so `--pod` selects a project), its service kept
/// beside it, from the labels compose sets (v1 and v2 alike).
pub fn docker_config_v2(json: &str) -> Option<Names> {
    let c: DockerConfig = serde_json::from_str(json).ok()?;
    let mut n = Names {
        container: Some(c.name.trim_start_matches('/').to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    if let Some(inner) = c.config {
        n.image = Some(inner.image).filter(|s| !s.is_empty());
        if let Some(l) = inner.labels {
            let k = from_annotations(&l);
            n.pod = k.pod;
            n.namespace = k.namespace;
            n.pod_uid = k.pod_uid;
            if n.pod.is_none() {
                n.pod = get(&l, &["com.docker.compose.project"]);
                n.service = n
                    .pod
                    .is_some()
                    .then(|| get(&l, &["com.docker.compose.service"]))
                    .flatten();
            }
        }
    }
    Some(n)
}

/// `podman pod ps --no-trunc --format '{{.ID}}\t{{.Name}}'` output: pod
/// id -> name. Lines that are not a 64-hex id and a name are skipped.
pub fn podman_pod_list(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (id, name) = l.trim().split_once('\t')?;
            let ok = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
            let name = name.trim();
            (ok && !name.is_empty()).then(|| (id.to_string(), name.to_string()))
        })
        .collect()
}

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
    let h = read_hostname(&format!("/proc/{pid}/root/etc/hostname"))?;
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

fn read_hostname(path: &str) -> Option<String> {
    let h = std::fs::read_to_string(path).ok()?;
    let h = h.trim();
    (!h.is_empty()).then(|| h.to_string())
}

/// Builds the container record; every name is escaped here, once.
pub fn info_from(m: &PathMatch, runtime: Runtime, n: Names) -> ContainerInfo {
    let esc = |s: Option<String>| s.map(|s| escape::plain_str(&s, 253));
    let mut c = ContainerInfo::new(&m.id, runtime);
    c.name = esc(n.container);
    c.image = esc(n.image);
    c.sandbox = n.sandbox;
    c.service = esc(n.service);
    let pod = PodInfo {
        name: esc(n.pod),
        namespace: esc(n.namespace),
        uid: esc(n.pod_uid.or_else(|| m.pod_uid.clone())),
        id: esc(n.sandbox_id.or_else(|| m.pod_id.clone())),
    };
    if pod != PodInfo::default() {
        c.pod = Some(pod);
    }
    c.resolved = true;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_cri_annotations() {
        let json = r#"{"ociVersion":"1.0.2","annotations":{
            "io.kubernetes.cri.container-type":"container",
            "io.kubernetes.cri.container-name":"app",
            "io.kubernetes.cri.image-name":"docker.io/library/busybox:latest",
            "io.kubernetes.cri.sandbox-name":"checkout-7d9f",
            "io.kubernetes.cri.sandbox-namespace":"shop",
            "io.kubernetes.cri.sandbox-uid":"u-1",
            "io.kubernetes.cri.sandbox-id":"abc"}}"#;
        let n = from_annotations(&oci_annotations(json).unwrap());
        assert_eq!(n.container.as_deref(), Some("app"));
        assert_eq!(n.pod.as_deref(), Some("checkout-7d9f"));
        assert_eq!(n.namespace.as_deref(), Some("shop"));
        assert_eq!(n.pod_uid.as_deref(), Some("u-1"));
        assert_eq!(n.image.as_deref(), Some("docker.io/library/busybox:latest"));
        assert!(!n.sandbox);
        let sb = r#"{"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-name":"p"}}"#;
        let n = from_annotations(&oci_annotations(sb).unwrap());
        assert!(n.sandbox);
        assert_eq!(n.container.as_deref(), Some("POD"));
    }

    #[test]
    fn crio_annotations() {
        let json = r#"{"annotations":{"io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"default",
            "io.kubernetes.container.name":"nginx","io.kubernetes.cri-o.ContainerType":"container"}}"#;
        let n = from_annotations(&oci_annotations(json).unwrap());
        assert_eq!(
            (
                n.pod.as_deref(),
                n.namespace.as_deref(),
                n.container.as_deref()
            ),
            (Some("web-0"), Some("default"), Some("nginx"))
        );
    }

    #[test]
    fn podman_storage_and_docker_config() {
        let json = r#"[{"id":"aa","names":["dde5-infra"],"metadata":"{\"image-name\":\"localhost/podman-pause:4.3.1-0\"}"},
                      {"id":"bb","names":["web"],"metadata":"{\"image-name\":\"localhost/local/busybox:latest\",\"name\":\"web\"}"}]"#;
        let n = podman_containers_json(json, "bb").unwrap();
        assert_eq!(n.container.as_deref(), Some("web"));
        assert_eq!(n.image.as_deref(), Some("localhost/local/busybox:latest"));
        assert!(podman_containers_json(json, "cc").is_none());
        let d = r#"{"Name":"/redis","Config":{"Image":"redis:7","Labels":{"io.kubernetes.pod.name":"r-0"}}}"#;
        let n = docker_config_v2(d).unwrap();
        assert_eq!(n.container.as_deref(), Some("redis"));
        assert_eq!(n.image.as_deref(), Some("redis:7"));
        assert_eq!(n.pod.as_deref(), Some("r-0"));
    }

    #[test]
    fn podman_pod_list_reads_ids_and_names() {
        let id = "0".repeat(63) + "a";
        let text = format!("{id}\tshop-frontend-7c9\nnot-an-id\tx\n{id}\t\n\n");
        assert_eq!(
            podman_pod_list(&text),
            vec![(id.clone(), "shop-frontend-7c9".to_string())]
        );
    }

    #[test]
    fn names_are_escaped_once_when_built() {
        let m = super::super::path::parse(&format!("/docker/{}", "a".repeat(64))).unwrap();
        let c = info_from(
            &m,
            Runtime::Docker,
            Names {
                container: Some("evil\x1b[2J".into()),
                ..Default::default()
            },
        );
        assert_eq!(c.name.as_deref(), Some("evil\\x1b[2J"));
        assert!(c.pod.is_none());
    }

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
