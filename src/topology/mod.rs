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

pub mod cgroups;
pub mod cri;
pub mod names;
pub mod path;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};
use regex::Regex;

use crate::bpf::loader::KernelFilter;
use crate::bpf::reader::FilterHandle;
use crate::model::container::{ContainerAddEvent, ContainerDelEvent, ContainerInfo};
use crate::model::event::Event;
use crate::model::filter::{ContainerNames, ContainerPred};
use cgroups::CgroupTree;
use names::{Resolver, Sources};
use path::PathMatch;

/// Which processes to keep, by container. All regexes given must match; a
/// container without the named field (no pod, name not yet known) does
/// not. `host` adds the processes outside containers.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub pod: Option<Regex>,
    pub namespace: Option<Regex>,
    pub container: Option<Regex>,
    pub host: bool,
    /// The container part of `--filter` (`Filter::pushdown`), on top of the
    /// flags.
    pub filter: Option<ContainerPred>,
}

impl Selection {
    /// None when nothing is selected by container (everything passes).
    pub fn new(
        pod: Option<&str>,
        namespace: Option<&str>,
        container: Option<&str>,
        host: bool,
    ) -> Result<Option<Selection>> {
        let re = |r: Option<&str>, flag: &str| {
            r.map(|r| Regex::new(r).with_context(|| format!("invalid {flag} regex {r:?}")))
                .transpose()
        };
        let s = Selection {
            pod: re(pod, "--pod")?,
            namespace: re(namespace, "--namespace")?,
            container: re(container, "--container")?,
            host,
            filter: None,
        };
        Ok((s.host || s.by_container()).then_some(s))
    }

    /// Adds the container part of a `--filter` expression.
    pub fn with_filter(sel: Option<Selection>, pred: Option<ContainerPred>) -> Option<Selection> {
        match pred {
            None => sel,
            Some(p) => Some(Selection {
                filter: Some(p),
                ..sel.unwrap_or_default()
            }),
        }
    }

    fn by_container(&self) -> bool {
        self.pod.is_some() || self.namespace.is_some() || self.container.is_some()
    }

    /// `None`: a host process.
    pub fn matches(&self, c: Option<&ContainerInfo>) -> bool {
        let ok = |re: &Option<Regex>, v: Option<&str>| {
            re.as_ref()
                .is_none_or(|re| v.is_some_and(|v| re.is_match(v)))
        };
        let by_flags = !(self.host || self.by_container())
            || match c {
                None => self.host,
                Some(c) => {
                    self.by_container()
                        && ok(&self.pod, c.pod_name())
                        && ok(&self.namespace, c.namespace())
                        && ok(&self.container, c.name.as_deref())
                }
            };
        by_flags
            && self
                .filter
                .as_ref()
                .is_none_or(|p| p.matches(&ContainerNames::of(c)))
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
    applied: Option<Vec<u64>>,
    resolver: Option<Resolver>,
}

impl Topology {
    /// Finds the cgroup tree and the containers in it. With a selection,
    /// names are looked up now (bounded by the runtimes' timeouts), so the
    /// first kernel filter is already right.
    pub fn new(opts: TopologyOptions, base_filter: KernelFilter) -> Result<Topology> {
        let mut tree = CgroupTree::discover()?;
        tree.rescan()?;
        let mut t = Topology {
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
        };
        let mut sink = Vec::new();
        t.absorb_tree(&mut sink, None);
        if t.containers.values().any(|(m, _)| m.pod_id.is_some()) {
            t.resolver
                .as_mut()
                .expect("not spawned")
                .learn_podman_pods();
        }
        if t.opts.selection.is_some() {
            let reqs: Vec<(PathMatch, Option<u32>)> = t
                .containers
                .values()
                .map(|(m, _)| (m.clone(), t.tree.first_pid(&m.container_cgroup)))
                .collect();
            let mut seen = HashSet::new();
            for (m, pid) in reqs {
                if seen.insert(m.id.clone()) {
                    let r = t.resolver.as_mut().expect("not spawned");
                    let info = r.resolve(&m, pid);
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
        }
        f
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
            .filter(|id| sel.matches(self.container(*id).map(|c| c.as_ref())))
            .collect();
        v.sort_unstable();
        v
    }

    /// Brings `containers` in line with the tree after a walk: adds for new
    /// container cgroups, dels for vanished ones.
    fn absorb_tree(&mut self, out: &mut Vec<Event>, req: Option<&Sender<Request>>) {
        let gone: Vec<u64> = self
            .containers
            .keys()
            .copied()
            .filter(|id| self.tree.get(*id).is_none())
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
            let info = self
                .by_id
                .get(&m.id)
                .cloned()
                .unwrap_or_else(|| Arc::new(ContainerInfo::new(&m.id, m.runtime)));
            self.request(&m, &info, req);
            out.push(Event::ContainerAdd(ContainerAddEvent {
                cgroup_id: id,
                container: info.clone(),
            }));
            self.containers.insert(id, (m, info));
        }
        // Forget containers none of whose cgroups are left.
        self.by_id.retain(|k, _| live.contains(k));
        self.attempts.retain(|k, _| live.contains(k));
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
        let pid = self.tree.first_pid(&m.container_cgroup);
        let _ = req.send(Request { m: m.clone(), pid });
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

    fn refilter(&mut self, filter: &Option<FilterHandle>) {
        let Some(h) = filter else { return };
        if self.opts.selection.is_none() {
            return;
        }
        let ids = self.selected_cgroups();
        if self.applied.as_ref() != Some(&ids) {
            let mut f = self.base_filter.clone();
            f.cgroups = Some(ids.clone());
            h.set(f);
            self.applied = Some(ids);
        }
    }

    /// Starts the pipeline and resolver threads. `input` is the capture's
    /// event channel; the returned channel carries the same events plus
    /// container adds and dels. `filter` (with a selection) is how the
    /// kernel's cgroup set is kept current.
    pub fn spawn(
        mut self,
        input: Receiver<Vec<Event>>,
        filter: Option<FilterHandle>,
    ) -> Result<(Receiver<Vec<Event>>, JoinHandle<()>)> {
        let (out_tx, out_rx) = bounded::<Vec<Event>>(512);
        let (req_tx, req_rx) = unbounded::<Request>();
        let (res_tx, res_rx) = unbounded::<(ContainerInfo, bool)>();
        let mut resolver = self.resolver.take().expect("spawned once");
        std::thread::Builder::new()
            .name("topology-names".into())
            .spawn(move || {
                while let Ok(r) = req_rx.recv() {
                    let info = resolver.resolve(&r.m, r.pid);
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
        self.applied = filter.as_ref().and(Some(self.selected_cgroups()));
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
        filter: Option<FilterHandle>,
    ) {
        loop {
            let wait = self
                .opts
                .rescan_every
                .saturating_sub(self.last_rescan.elapsed());
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
            if !batch.is_empty() && out.send(batch).is_err() {
                break;
            }
        }
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
        for (i, ev) in batch.iter().enumerate() {
            let Event::Syscall(e) = ev else { continue };
            let id = e.cgroup_id;
            if last == Some(id) {
                continue;
            }
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
