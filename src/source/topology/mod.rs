//! Which container and pod each event comes from.
//!
//! cgroup id (from the kernel) -> cgroup v2 path (`cgroups`, a cache
//! rebuilt by a walk on an unknown id and once per `rescan_every`) ->
//! runtime + container id (`path`, pure) -> names (`names`, on a resolver
//! thread, never on the event path).
//!
//! The pipeline thread sits between the capture and the consumer: it
//! passes event batches through, inserts a `ContainerAdd` before the first
//! event of a cgroup it has not seen (the name may still be missing: a
//! second `ContainerAdd` carries it when the resolver answers) and a
//! `ContainerDel` when a container's cgroup directory is gone. With a
//! pod/namespace/container/host selection it keeps the in-kernel cgroup set
//! up to date.
//!
//! With a selection, a container that starts and exits between two walks
//! (`podman run --rm --pod P ... cat`) must still be kept: the kernel lets
//! through every cgroup made since the last walk (`cgroups_after`) and every
//! container not yet looked up, and the batches from the first one holding
//! events of a container whose lookup is pending are held back (at most
//! `HOLD_LIMIT`, in order) until the names arrive, so the selection sees
//! its names, not its bare id. The names come from the runtimes' files,
//! which exist while the container does.
//!
//! Pods inside a local cluster's node container (kind, minikube, k3d) are
//! found by their cgroup path under the node's, and named through the
//! node's own CRI socket (`/proc/<node pid>/root/...`). On a hybrid host the
//! runtime inside the node makes v1 cgroups only, so its pods share the
//! node's cgroup2 id: the kernel cannot tell them apart. There the topology
//! gives each such pod container a virtual cgroup id (top bit set, never a
//! kernel id), announces it with a `ContainerAdd` like any other, and
//! relabels the node's events per process from the v1 path in
//! /proc/PID/cgroup (read once per process, again after an execve).
//! Consumers see ordinary cgroup ids; the kernel filter keeps the whole
//! node when one of its pods is selected, and the stages' selection drops
//! the rest of the node's events.

pub mod cgroups;
pub mod cri;
pub mod metadata;
pub mod names;
pub mod path;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};

use crate::model::container::{ContainerAddEvent, ContainerDelEvent, ContainerInfo};
use crate::model::event::Event;
use crate::model::event::TraceEvent;
use crate::model::flow::{FilterTarget, KernelFilter};
use crate::model::selection::Selection;
use cgroups::{CgroupTree, V1Hierarchy};
use names::{Resolver, Sources};
use path::PathMatch;

/// The bit that marks a virtual cgroup id (a pod container that shares its
/// node's cgroup2 id). Kernel cgroup ids never have it.
pub const VIRTUAL: u64 = 1 << 63;

/// At most this many v1 directories are looked at under one node container
/// per walk, and this many of its processes for its CRI socket.
const NESTED_LIMIT: usize = 4096;

/// Pods with v1 cgroups only, inside node containers (hybrid hosts).
struct Nested {
    v1: V1Hierarchy,
    /// cgroup2 id of a node container holding such pods -> the node's id.
    nodes: HashMap<u64, String>,
    /// v1 path of a pod container -> its virtual id.
    by_path: HashMap<String, u64>,
    /// Mount namespace -> virtual id of the pod container that has it (each
    /// container has its own): what labels a process that has already
    /// exited when its events are labelled (a shell loop's `cat`).
    mnts: HashMap<u32, u64>,
    /// The node containers' own mount namespaces (their containerd, shims,
    /// kubelet): never a pod's.
    own: HashSet<u32>,
    /// pid -> virtual id of its pod container (None: the node's own), for
    /// a process whose mount namespace says nothing.
    pids: HashMap<u32, Option<u64>>,
    next: u64,
}

/// The inode of a process's mount namespace, as the kernel side reports it.
fn mnt_ns(pid: u32) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(format!("/proc/{pid}/ns/mnt")).ok()?;
    u32::try_from(md.ino()).ok()
}

impl Nested {
    /// The virtual id for a v1 container path, and whether it is new.
    fn id_for(&mut self, rel: &str) -> (u64, bool) {
        if let Some(v) = self.by_path.get(rel) {
            return (*v, false);
        }
        self.next += 1;
        let v = VIRTUAL | self.next;
        self.by_path.insert(rel.to_string(), v);
        (v, true)
    }
}

#[derive(Clone, Debug)]
pub struct TopologyOptions {
    pub sources: Sources,
    pub selection: Option<Selection>,
    /// Walk the cgroup tree this often to notice containers that went away
    /// (and, with a selection, new ones: their events never reach us).
    pub rescan_every: Duration,
}

impl Default for TopologyOptions {
    fn default() -> Self {
        TopologyOptions {
            sources: Sources::default(),
            selection: None,
            rescan_every: Duration::from_millis(500),
        }
    }
}

/// Fewest time between two walks triggered by unknown ids.
const MIN_RESCAN_GAP: Duration = Duration::from_millis(20);
/// Longest time batches are held back for a pending lookup (with a
/// selection), and most batches held.
const HOLD_LIMIT: Duration = Duration::from_secs(1);
const HOLD_BATCHES: usize = 64;

/// Name lookups retried at later walks while a container has no name
/// (its runtime may not have written its metadata yet).
const RESOLVE_ATTEMPTS: u32 = 3;

/// Whether a lookup found every name a container can have: its own, and
/// for a container in a pod the pod's. A container that joins a pod while
/// tracing is looked up as its first process appears, which may still be
/// outside the pod's root and uts namespace (the hostname fallback sees the
/// node's name then): its pod name can come at a later try.
pub fn names_complete(c: &ContainerInfo) -> bool {
    c.name.is_some() && (c.pod.is_none() || c.pod_name().is_some())
}

struct Request {
    m: PathMatch,
    pid: Option<u32>,
    /// For a pod in a node container: a node process whose root holds the
    /// node's CRI socket.
    node_pid: Option<u32>,
}

pub struct Topology {
    tree: CgroupTree,
    opts: TopologyOptions,
    /// Container cgroups only; every other id in `tree` is the host.
    containers: HashMap<u64, (PathMatch, Arc<ContainerInfo>)>,
    /// Best info per container id (several cgroups can share one).
    by_id: HashMap<String, Arc<ContainerInfo>>,
    attempts: HashMap<String, u32>,
    pending: HashSet<String>,
    /// Ids seen in events that no walk found (already removed).
    vanished: HashSet<u64>,
    last_rescan: Instant,
    base_filter: KernelFilter,
    applied: Option<(Vec<u64>, u64)>,
    /// Containers whose lookup was pending when a batch held their events.
    waits: HashSet<String>,
    resolver: Option<Resolver>,
    /// Some on hybrid hosts (a v1 hierarchy is mounted).
    nested: Option<Nested>,
}

impl Topology {
    /// Finds the cgroup tree and the containers in it. With a selection,
    /// names are looked up now (bounded by the runtimes' timeouts), so the
    /// first kernel filter is already right.
    pub fn new(opts: TopologyOptions, base_filter: KernelFilter) -> Result<Topology> {
        let mut tree = CgroupTree::discover()?;
        tree.rescan()?;
        let nested = std::fs::read_to_string("/proc/self/mountinfo")
            .ok()
            .and_then(|mi| cgroups::v1_hierarchy(&mi))
            .map(|v1| Nested {
                v1,
                nodes: HashMap::new(),
                by_path: HashMap::new(),
                mnts: HashMap::new(),
                own: HashSet::new(),
                pids: HashMap::new(),
                next: 0,
            });
        let mut t = Topology {
            nested,
            tree,
            resolver: Some(Resolver::new(opts.sources.clone())),
            opts,
            containers: HashMap::new(),
            by_id: HashMap::new(),
            attempts: HashMap::new(),
            pending: HashSet::new(),
            vanished: HashSet::new(),
            last_rescan: Instant::now(),
            base_filter,
            applied: None,
            waits: HashSet::new(),
        };
        let mut sink = Vec::new();
        t.absorb_tree(&mut sink, None);
        // With a selection, a podman pod not started yet (no cgroup) may
        // be the one selected: its name is learnt now, while podman answers.
        if t.opts.selection.is_some() || t.containers.values().any(|(m, _)| m.pod_id.is_some()) {
            t.resolver
                .as_mut()
                .expect("not spawned")
                .learn_podman_pods();
        }
        if t.opts.selection.is_some() {
            let reqs: Vec<(PathMatch, Option<u32>, Option<u32>)> = t
                .containers
                .values()
                .map(|(m, _)| (m.clone(), t.pid_in(m), t.node_pid(m)))
                .collect();
            let mut seen = HashSet::new();
            for (m, pid, node_pid) in reqs {
                if seen.insert(m.id.clone()) {
                    let r = t.resolver.as_mut().expect("not spawned");
                    let info = r.resolve_in(&m, pid, node_pid);
                    let retry = r.skipped_a_runtime() && !names_complete(&info);
                    if !retry {
                        *t.attempts.entry(m.id.clone()).or_default() += 1;
                    }
                    t.apply_info(Arc::new(info), &mut sink);
                }
            }
        }
        Ok(t)
    }

    /// The kernel filter to start capture with.
    pub fn kernel_filter(&self) -> KernelFilter {
        let mut f = self.base_filter.clone();
        if self.opts.selection.is_some() {
            f.cgroups = Some(self.selected_cgroups());
            f.cgroups_after = self.newest_cgroup();
        }
        f
    }

    /// The largest cgroup id of the last walk: cgroups made after it have
    /// larger ids.
    fn newest_cgroup(&self) -> u64 {
        self.tree
            .paths()
            .keys()
            .copied()
            .filter(|id| id & VIRTUAL == 0)
            .max()
            .unwrap_or(0)
    }

    /// Container info for a cgroup id, as the topology knows it now.
    pub fn container(&self, cgroup_id: u64) -> Option<&Arc<ContainerInfo>> {
        self.containers.get(&cgroup_id).map(|(_, c)| c)
    }

    fn selected_cgroups(&self) -> Vec<u64> {
        let Some(sel) = &self.opts.selection else {
            return Vec::new();
        };
        let mut v: Vec<u64> = self
            .tree
            .paths()
            .keys()
            .copied()
            .filter(|id| match self.container(*id) {
                // Not looked up yet: it may be selected once it is.
                Some(c) if !c.resolved => true,
                c => sel.matches(c.map(|c| c.as_ref())),
            })
            .collect();
        // A node whose v1-only pods are selected: the kernel can only keep
        // the whole node; the stages drop the rest per event.
        if let Some(n) = &self.nested {
            for (cg, node) in &n.nodes {
                let wanted = self.containers.iter().any(|(id, (m, c))| {
                    id & VIRTUAL != 0
                        && m.node.as_ref().is_some_and(|x| &x.id == node)
                        && sel.matches(Some(c))
                });
                if wanted {
                    v.push(*cg);
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// A process in a container's cgroup (its v1 one for a virtual id).
    fn pid_in(&self, m: &PathMatch) -> Option<u32> {
        self.tree.first_pid(&m.container_cgroup).or_else(|| {
            let n = self.nested.as_ref()?;
            let dir = n.v1.mount.join(m.container_cgroup.trim_start_matches('/'));
            cgroups::procs(&dir).into_iter().next()
        })
    }

    /// For a pod inside a node container: a node process whose root holds
    /// the node's CRI socket.
    fn node_pid(&self, m: &PathMatch) -> Option<u32> {
        let node = m.node.as_ref()?;
        let dir = self.tree.dir(&node.cgroup);
        let mut dirs = vec![dir.clone()];
        dirs.extend(
            cgroups::subdirs(&dir, "", NESTED_LIMIT)
                .iter()
                .map(|r| dir.join(r.trim_start_matches('/'))),
        );
        names::node_root_pid(dirs.iter().flat_map(|d| cgroups::procs(d)), NESTED_LIMIT)
    }

    /// Brings `containers` in line with the tree after a walk: adds for new
    /// container cgroups, dels for vanished ones.
    fn absorb_tree(&mut self, out: &mut Vec<Event>, req: Option<&Sender<Request>>) {
        let gone: Vec<u64> = self
            .containers
            .keys()
            .copied()
            .filter(|id| id & VIRTUAL == 0 && self.tree.get(*id).is_none())
            .collect();
        for id in gone {
            if let Some((_, c)) = self.containers.remove(&id) {
                out.push(Event::ContainerDel(ContainerDelEvent {
                    cgroup_id: id,
                    container: c,
                }));
            }
        }
        let live: HashSet<&str> = self
            .containers
            .values()
            .map(|(m, _)| m.id.as_str())
            .collect();
        let mut live: HashSet<String> = live.into_iter().map(str::to_string).collect();
        let mut new = Vec::new();
        for (id, p) in self.tree.paths() {
            if self.containers.contains_key(id) {
                continue;
            }
            if let Some(m) = path::parse(p) {
                new.push((*id, m));
            }
        }
        for (id, m) in new {
            live.insert(m.id.clone());
            self.announce(id, m, out, req);
        }
        self.absorb_nested(out, req, &mut live);
        // Forget containers none of whose cgroups are left.
        self.by_id.retain(|k, _| live.contains(k));
        self.attempts.retain(|k, _| live.contains(k));
    }

    /// Finds the pod containers with v1 cgroups only under each container
    /// (the node containers of a hybrid host), announces new ones under a
    /// virtual id and removes the ones gone.
    fn absorb_nested(
        &mut self,
        out: &mut Vec<Event>,
        req: Option<&Sender<Request>>,
        live: &mut HashSet<String>,
    ) {
        let Some(n) = self.nested.as_mut() else {
            return;
        };
        let mut cands: Vec<(String, String)> = self
            .containers
            .iter()
            .filter(|(id, (m, _))| *id & VIRTUAL == 0 && m.node.is_none())
            .map(|(_, (m, _))| (m.id.clone(), m.container_cgroup.clone()))
            .collect();
        cands.sort();
        cands.dedup();
        let mut v2_paths: Option<HashSet<&str>> = None;
        let mut found: Vec<PathMatch> = Vec::new();
        for (node, cg) in &cands {
            let base = n.v1.mount.join(cg.trim_start_matches('/'));
            for rel in cgroups::subdirs(&base, cg, NESTED_LIMIT) {
                let Some(pm) = path::parse(&rel) else {
                    continue;
                };
                if pm.container_cgroup != rel || pm.node.as_ref().is_none_or(|x| &x.id != node) {
                    continue;
                }
                // A pod with a cgroup2 directory of its own is an ordinary
                // container (v2 hosts, or a node whose runtime uses v2).
                let v2 = v2_paths.get_or_insert_with(|| {
                    self.tree.paths().values().map(String::as_str).collect()
                });
                if !v2.contains(rel.as_str()) {
                    found.push(pm);
                }
            }
        }
        let holders: HashSet<&str> = found
            .iter()
            .filter_map(|m| m.node.as_ref().map(|x| x.id.as_str()))
            .collect();
        n.nodes = self
            .containers
            .iter()
            .filter(|(id, (m, _))| *id & VIRTUAL == 0 && holders.contains(m.id.as_str()))
            .map(|(id, (m, _))| (*id, m.id.clone()))
            .collect();
        let now: HashSet<&str> = found.iter().map(|m| m.container_cgroup.as_str()).collect();
        let gone: Vec<(String, u64)> = n
            .by_path
            .iter()
            .filter(|(p, _)| !now.contains(p.as_str()))
            .map(|(p, v)| (p.clone(), *v))
            .collect();
        for (p, v) in gone {
            n.by_path.remove(&p);
            if let Some((_, c)) = self.containers.remove(&v) {
                out.push(Event::ContainerDel(ContainerDelEvent {
                    cgroup_id: v,
                    container: c,
                }));
            }
        }
        let live_virtual: HashSet<u64> = n.by_path.values().copied().collect();
        n.pids.retain(|pid, v| {
            v.is_none_or(|v| live_virtual.contains(&v))
                && std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
        n.mnts.retain(|_, v| live_virtual.contains(v));
        let mut virtuals = Vec::new();
        for m in found {
            live.insert(m.id.clone());
            virtuals.push((self.add_virtual(m.clone(), out, req), m));
        }
        // Mount namespaces: the nodes' own, and each pod container's (from
        // a process in it), so even processes that are gone by the time
        // their events are labelled get their container.
        let mut own = HashSet::new();
        let mut mnts = Vec::new();
        for (v, m) in &virtuals {
            if let Some(ns) = self.node_pid(m).and_then(mnt_ns) {
                own.insert(ns);
            }
            if let Some(ns) = self.pid_in(m).and_then(mnt_ns) {
                mnts.push((ns, *v));
            }
        }
        let n = self.nested.as_mut().expect("hybrid host");
        n.own = own;
        for (ns, v) in mnts {
            if !n.own.contains(&ns) {
                n.mnts.insert(ns, v);
            }
        }
    }

    /// The virtual id of a v1-only pod container, announced (and its names
    /// asked for) the first time.
    fn add_virtual(
        &mut self,
        m: PathMatch,
        out: &mut Vec<Event>,
        req: Option<&Sender<Request>>,
    ) -> u64 {
        let n = self.nested.as_mut().expect("hybrid host");
        let (v, new) = n.id_for(&m.container_cgroup);
        if new {
            self.announce(v, m, out, req);
        }
        v
    }

    /// Relabels an event of a node container holding v1-only pods with the
    /// virtual id of its process's pod container, if it is in one: by its
    /// mount namespace when that is known, else from the process's v1 path
    /// (read once per process and kept, again after an execve: a
    /// container's first process joins its cgroups before it execs). A
    /// process gone before that stays the node's.
    fn refine(&mut self, e: &mut TraceEvent, out: &mut Vec<Event>, req: &Sender<Request>) {
        let n = self.nested.as_mut().expect("hybrid host");
        let Some(node) = n.nodes.get(&e.id.cgroup_id) else {
            return;
        };
        let v = if n.own.contains(&e.id.ns.mnt) {
            None
        } else if let Some(v) = n.mnts.get(&e.id.ns.mnt) {
            Some(*v)
        } else {
            let exec = e.ret == 0
                && e.syscall()
                    .is_some_and(|s| s.name == "execve" || s.name == "execveat");
            if exec {
                n.pids.remove(&e.id.pid);
            }
            match n.pids.get(&e.id.pid) {
                Some(v) => *v,
                None => {
                    let Ok(text) = std::fs::read_to_string(format!("/proc/{}/cgroup", e.id.pid))
                    else {
                        return;
                    };
                    let pm = cgroups::v1_path(&text, &n.v1.controllers)
                        .and_then(path::parse)
                        .filter(|m| m.node.as_ref().is_some_and(|x| &x.id == node));
                    let known = pm
                        .as_ref()
                        .and_then(|m| n.by_path.get(&m.container_cgroup).copied());
                    let v = match (pm, known) {
                        (_, Some(v)) => Some(v),
                        (Some(m), None) => Some(self.add_virtual(m, out, Some(req))),
                        (None, None) => None,
                    };
                    let n = self.nested.as_mut().expect("hybrid host");
                    n.pids.insert(e.id.pid, v);
                    if let Some(v) = v {
                        n.mnts.insert(e.id.ns.mnt, v);
                    }
                    v
                }
            }
        };
        if let Some(v) = v {
            e.relabel_cgroup(v);
        }
    }

    /// A container cgroup seen for the first time: its best-known info
    /// (names are asked for if missing) goes out as a `ContainerAdd`.
    fn announce(
        &mut self,
        cgroup_id: u64,
        m: PathMatch,
        out: &mut Vec<Event>,
        req: Option<&Sender<Request>>,
    ) {
        let info = self
            .by_id
            .get(&m.id)
            .cloned()
            .unwrap_or_else(|| Arc::new(ContainerInfo::new(&m.id, m.runtime)));
        self.request(&m, &info, req);
        out.push(Event::ContainerAdd(ContainerAddEvent {
            cgroup_id,
            container: info.clone(),
        }));
        self.containers.insert(cgroup_id, (m, info));
    }

    /// Asks the resolver for names unless they are known or being looked up.
    fn request(&mut self, m: &PathMatch, info: &ContainerInfo, req: Option<&Sender<Request>>) {
        let Some(req) = req else { return };
        let tries = self.attempts.get(&m.id).copied().unwrap_or(0);
        let named = info.resolved && names_complete(info);
        if named || tries >= RESOLVE_ATTEMPTS || self.pending.contains(&m.id) {
            return;
        }
        self.pending.insert(m.id.clone());
        *self.attempts.entry(m.id.clone()).or_default() += 1;
        let pid = self.pid_in(m);
        let node_pid = self.node_pid(m);
        let _ = req.send(Request {
            m: m.clone(),
            pid,
            node_pid,
        });
    }

    /// Names arrived: every cgroup of that container gets them. A lookup
    /// that found nothing new (a retry) sends nothing.
    fn apply_info(&mut self, info: Arc<ContainerInfo>, out: &mut Vec<Event>) {
        self.pending.remove(&info.id);
        self.by_id.insert(info.id.clone(), info.clone());
        for (cg, (_, c)) in self.containers.iter_mut() {
            if c.id == info.id && **c != *info {
                *c = info.clone();
                out.push(Event::ContainerAdd(ContainerAddEvent {
                    cgroup_id: *cg,
                    container: info.clone(),
                }));
            }
        }
    }

    fn rescan(&mut self, out: &mut Vec<Event>, req: &Sender<Request>) {
        self.last_rescan = Instant::now();
        if self.tree.rescan().is_err() {
            return;
        }
        if self.vanished.len() > 65536 {
            self.vanished.clear();
        }
        self.absorb_tree(out, Some(req));
        // Containers still missing a name get another try.
        let retry: Vec<(PathMatch, Arc<ContainerInfo>)> = self
            .containers
            .values()
            .filter(|(_, c)| !names_complete(c))
            .map(|(m, c)| (m.clone(), c.clone()))
            .collect();
        for (m, c) in retry {
            self.request(&m, &c, Some(req));
        }
    }

    fn refilter(&mut self, filter: &Option<Box<dyn FilterTarget>>) {
        let Some(h) = filter else { return };
        if self.opts.selection.is_none() {
            return;
        }
        let now = (self.selected_cgroups(), self.newest_cgroup());
        if self.applied.as_ref() != Some(&now) {
            let mut f = self.base_filter.clone();
            f.cgroups = Some(now.0.clone());
            f.cgroups_after = now.1;
            h.set(f);
            self.applied = Some(now);
        }
    }

    /// Starts the pipeline and resolver threads. `input` is the capture's
    /// event channel; the returned channel carries the same events plus
    /// container adds and dels. `filter` (with a selection) is how the
    /// kernel's cgroup set is kept current.
    pub fn spawn(
        mut self,
        input: Receiver<Vec<Event>>,
        filter: Option<Box<dyn FilterTarget>>,
    ) -> Result<(Receiver<Vec<Event>>, JoinHandle<()>)> {
        let (out_tx, out_rx) = bounded::<Vec<Event>>(512);
        let (req_tx, req_rx) = unbounded::<Request>();
        let (res_tx, res_rx) = unbounded::<(ContainerInfo, bool)>();
        let mut resolver = self.resolver.take().expect("spawned once");
        std::thread::Builder::new()
            .name("topology-names".into())
            .spawn(move || {
                while let Ok(r) = req_rx.recv() {
                    let info = resolver.resolve_in(&r.m, r.pid, r.node_pid);
                    // A name left open because a runtime was in its backoff
                    // is asked again at a later walk.
                    let retry = resolver.skipped_a_runtime() && !names_complete(&info);
                    if res_tx.send((info, retry)).is_err() {
                        break;
                    }
                }
            })?;
        // What is known at start goes first, so consumers can label the
        // very first events.
        let first: Vec<Event> = self
            .containers
            .iter()
            .map(|(id, (_, c))| {
                Event::ContainerAdd(ContainerAddEvent {
                    cgroup_id: *id,
                    container: c.clone(),
                })
            })
            .collect();
        let pending: Vec<(PathMatch, Arc<ContainerInfo>)> = self
            .containers
            .values()
            .map(|(m, c)| (m.clone(), c.clone()))
            .collect();
        for (m, c) in pending {
            self.request(&m, &c, Some(&req_tx));
        }
        self.applied = filter
            .as_ref()
            .and(Some((self.selected_cgroups(), self.newest_cgroup())));
        let handle = std::thread::Builder::new()
            .name("topology".into())
            .spawn(move || {
                if !first.is_empty() && out_tx.send(first).is_err() {
                    return;
                }
                self.run(input, out_tx, req_tx, res_rx, filter);
            })?;
        Ok((out_rx, handle))
    }

    fn run(
        &mut self,
        input: Receiver<Vec<Event>>,
        out: Sender<Vec<Event>>,
        req: Sender<Request>,
        results: Receiver<(ContainerInfo, bool)>,
        filter: Option<Box<dyn FilterTarget>>,
    ) {
        // Batches held back for pending lookups, and since when.
        let mut held: VecDeque<Vec<Event>> = VecDeque::new();
        let mut held_since = Instant::now();
        loop {
            let mut wait = self
                .opts
                .rescan_every
                .saturating_sub(self.last_rescan.elapsed());
            if !held.is_empty() {
                wait = wait.min(HOLD_LIMIT.saturating_sub(held_since.elapsed()));
            }
            let mut batch = select! {
                recv(input) -> b => match b {
                    Ok(b) => self.label_batch(b, &req),
                    Err(_) => break,
                },
                recv(results) -> r => match r {
                    Ok((info, retry)) => {
                        if retry {
                            if let Some(n) = self.attempts.get_mut(&info.id) {
                                *n = n.saturating_sub(1);
                            }
                        }
                        let mut v = Vec::new();
                        self.apply_info(Arc::new(info), &mut v);
                        v
                    }
                    Err(_) => break,
                },
                default(wait) => Vec::new(),
            };
            if self.last_rescan.elapsed() >= self.opts.rescan_every {
                let mut v = Vec::new();
                self.rescan(&mut v, &req);
                batch.extend(v);
            }
            self.refilter(&filter);
            if !self.waits.is_empty() || !held.is_empty() {
                if held.is_empty() {
                    held_since = Instant::now();
                }
                if !batch.is_empty() {
                    held.push_back(batch);
                }
                let answered = self.waits.iter().all(|id| !self.pending.contains(id));
                if answered || held_since.elapsed() >= HOLD_LIMIT || held.len() >= HOLD_BATCHES {
                    self.waits.clear();
                    if !self.release(&mut held, &out) {
                        break;
                    }
                }
                continue;
            }
            if !batch.is_empty() && out.send(batch).is_err() {
                break;
            }
        }
        // The capture ended: what was held still goes out.
        let _ = self.release(&mut held, &out);
    }

    /// Sends the held batches, their container adds brought up to what is
    /// known now (the names that were waited for). False: nobody listens.
    fn release(&self, held: &mut VecDeque<Vec<Event>>, out: &Sender<Vec<Event>>) -> bool {
        while let Some(mut b) = held.pop_front() {
            for ev in b.iter_mut() {
                if let Event::ContainerAdd(a) = ev {
                    if let Some(c) = self.by_id.get(&a.container.id) {
                        a.container = c.clone();
                    }
                }
            }
            if out.send(b).is_err() {
                return false;
            }
        }
        true
    }

    /// Passes a batch through, with a `ContainerAdd` before the first
    /// event of each container cgroup not seen before.
    /// Announces containers seen for the first time before their first
    /// event. The batch passes through untouched unless that happens (rare):
    /// copying every event here cost more than the rest of the stage.
    fn label_batch(&mut self, mut batch: Vec<Event>, req: &Sender<Request>) -> Vec<Event> {
        let mut inserts: Vec<(usize, Vec<Event>)> = Vec::new();
        // Runs of events from one cgroup are the norm: check each run once.
        let mut last = None;
        // Whether the current run is a node container's whose v1-only pods
        // need each event relabelled by process.
        let mut refine = false;
        for (i, ev) in batch.iter_mut().enumerate() {
            let Event::Syscall(e) = ev else {
                continue;
            };
            let id = e.id.cgroup_id;
            if last != Some(id) {
                last = Some(id);
                if self.tree.get(id).is_none()
                    && !self.vanished.contains(&id)
                    && self.last_rescan.elapsed() >= MIN_RESCAN_GAP
                {
                    let mut added = Vec::new();
                    self.rescan(&mut added, req);
                    if self.tree.get(id).is_none() {
                        self.vanished.insert(id);
                    }
                    if !added.is_empty() {
                        inserts.push((i, added));
                    }
                }
                refine = self
                    .nested
                    .as_ref()
                    .is_some_and(|n| n.nodes.contains_key(&id));
                // A selection decides on names: hold this batch back until
                // the lookup of its container answers.
                if self.opts.selection.is_some() {
                    if let Some((_, c)) = self.containers.get(&id) {
                        if self.pending.contains(&c.id) && !self.waits.contains(&c.id) {
                            self.waits.insert(c.id.clone());
                        }
                    }
                }
            }
            if refine {
                let mut added = Vec::new();
                self.refine(e, &mut added, req);
                if !added.is_empty() {
                    inserts.push((i, added));
                }
            }
        }
        if inserts.is_empty() {
            return batch;
        }
        let extra: usize = inserts.iter().map(|(_, a)| a.len()).sum();
        let mut out = Vec::with_capacity(batch.len() + extra);
        let mut inserts = inserts.into_iter().peekable();
        for (i, ev) in batch.drain(..).enumerate() {
            while let Some((_, added)) = inserts.next_if(|(at, _)| *at == i) {
                out.extend(added);
            }
            out.push(ev);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::container::{PodInfo, Runtime};

    fn ctr(pod: Option<(&str, Option<&str>)>, name: Option<&str>) -> ContainerInfo {
        let mut c = ContainerInfo::new(&"a".repeat(64), Runtime::Podman);
        c.name = name.map(str::to_string);
        c.pod = pod.map(|(p, ns)| PodInfo {
            name: Some(p.into()),
            namespace: ns.map(str::to_string),
            ..Default::default()
        });
        c
    }

    #[test]
    fn a_container_in_a_pod_is_looked_up_again_until_the_pod_has_a_name() {
        // Named, in a pod whose name is still missing: not done.
        let mut c = ctr(None, Some("late"));
        c.pod = Some(PodInfo {
            id: Some("b".repeat(64)),
            ..Default::default()
        });
        assert!(!names_complete(&c));
        c.pod.as_mut().unwrap().name = Some("shop-frontend-7c9".into());
        assert!(names_complete(&c));
        assert!(names_complete(&ctr(None, Some("solo"))));
        assert!(!names_complete(&ctr(Some(("p", None)), None)));
    }

    #[test]
    fn selection_needs_every_given_regex_and_host_is_separate() {
        assert!(Selection::new(None, None, None, false).unwrap().is_none());
        let s = Selection::new(Some("^checkout-"), Some("^shop$"), None, false)
            .unwrap()
            .unwrap();
        assert!(s.matches(Some(&ctr(Some(("checkout-1", Some("shop"))), Some("app")))));
        assert!(!s.matches(Some(&ctr(Some(("checkout-1", Some("dev"))), Some("app")))));
        assert!(!s.matches(Some(&ctr(Some(("checkout-1", None)), Some("app")))));
        assert!(!s.matches(Some(&ctr(None, Some("app")))));
        assert!(!s.matches(None), "host processes are not in a pod");
        let h = Selection::new(None, None, None, true).unwrap().unwrap();
        assert!(h.matches(None));
        assert!(!h.matches(Some(&ctr(None, Some("app")))));
        let both = Selection::new(None, None, Some("^app$"), true)
            .unwrap()
            .unwrap();
        assert!(both.matches(None) && both.matches(Some(&ctr(None, Some("app")))));
        assert!(Selection::new(Some("("), None, None, false).is_err());
    }

    #[test]
    fn a_filter_expression_narrows_the_selection_or_makes_one() {
        use crate::model::filter::Filter;
        use crate::model::syscalls::Arch;
        let pred = |text: &str| {
            Filter::parse(text)
                .unwrap()
                .pushdown(Arch::X86_64, 1024)
                .containers
        };
        let web = ctr(Some(("web-1", Some("shop"))), Some("app"));
        let db = ctr(Some(("db-0", Some("shop"))), Some("db"));
        let redis = ctr(None, Some("redis"));

        assert!(Selection::with_filter(None, pred("pid == 1")).is_none());
        let s = Selection::with_filter(None, pred("pod ~ '^web-' and syscall == read")).unwrap();
        assert!(s.matches(Some(&web)) && !s.matches(Some(&db)));
        assert!(!s.matches(Some(&redis)) && !s.matches(None));

        // On top of the flags: both must hold.
        let flags = Selection::new(None, Some("^shop$"), None, false).unwrap();
        let s = Selection::with_filter(flags, pred("container in (db, redis)")).unwrap();
        assert!(s.matches(Some(&db)));
        assert!(!s.matches(Some(&web)) && !s.matches(Some(&redis)));
        // --host with a container test selects nothing the filter would keep.
        let host = Selection::new(None, None, None, true).unwrap();
        let s = Selection::with_filter(host, pred("container == redis")).unwrap();
        assert!(!s.matches(None) && !s.matches(Some(&redis)));
    }
}
