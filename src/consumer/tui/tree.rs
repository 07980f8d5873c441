//! The left pane: host, Kubernetes namespaces -> pods -> containers, podman
//! pods -> containers, then other containers; each row with its events per
//! second and a sparkline of the last seconds. The selected node narrows the
//! stream (`accepts`). With events from more than one cluster node
//! (`--node`), each node is a row with that tree under it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::text;
use super::theme::Theme;
use crate::model::container::{ContainerInfo, ContainerMap, HOST};

/// A node of the tree.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKey {
    All,
    Host,
    Namespace(String),
    /// A pod: Kubernetes (with its namespace) or podman (none).
    Pod {
        namespace: Option<String>,
        name: String,
    },
    /// A docker compose service, in its project (the pod).
    Service {
        pod: String,
        name: String,
    },
    /// A local cluster's node container (kind, minikube, k3d), by name:
    /// a row of its own when there are several.
    Cluster(String),
    /// A container, by runtime id.
    Container(String),
    /// A cluster node (`model::node` number), with several of them.
    Node(u16),
    /// A row of the tree under node `.0`.
    On(u16, Box<NodeKey>),
}

/// The node an event or container of this cgroup id belongs to (the
/// remote source puts the node's number in the top 16 bits).
fn node_of(cgroup_id: u64) -> u16 {
    (cgroup_id >> 48) as u16
}

/// One drawn row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeRow {
    pub depth: u16,
    pub key: NodeKey,
    pub label: String,
}

/// Seconds of history per node.
const HISTORY: usize = 30;

#[derive(Clone, Debug, Default)]
struct NodeStats {
    /// Events per completed second, oldest first.
    history: VecDeque<u64>,
    total: u64,
}

pub struct Tree {
    /// Events per cgroup since the last roll: one hash update per event.
    pending: HashMap<u64, u64>,
    stats: HashMap<NodeKey, NodeStats>,
    window: Instant,
    selected: NodeKey,
    pub focused: bool,
    /// The cluster nodes seen (events, containers, or their state).
    nodes: BTreeSet<u16>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            pending: HashMap::new(),
            stats: HashMap::new(),
            window: Instant::now(),
            selected: NodeKey::All,
            focused: false,
            nodes: BTreeSet::new(),
        }
    }
}

/// The rows an event of cgroup `cg` in container `c` (None: host) counts
/// towards; under its cluster node with several nodes.
fn ancestry(cg: u64, c: Option<&ContainerInfo>, multi: bool) -> Vec<NodeKey> {
    let inner = ancestry_one(c);
    if !multi {
        return inner;
    }
    let n = node_of(cg);
    let mut v = vec![NodeKey::All, NodeKey::Node(n)];
    v.extend(
        inner
            .into_iter()
            .skip(1)
            .map(|k| NodeKey::On(n, Box::new(k))),
    );
    v
}

/// The rows of one machine's tree an event of container `c` counts towards.
fn ancestry_one(c: Option<&ContainerInfo>) -> Vec<NodeKey> {
    let mut v = vec![NodeKey::All];
    let Some(c) = c else {
        v.push(NodeKey::Host);
        return v;
    };
    if let Some(n) = &c.node {
        v.push(NodeKey::Cluster(n.clone()));
    }
    if let Some(ns) = c.namespace() {
        v.push(NodeKey::Namespace(ns.to_string()));
    }
    if let Some(p) = c.pod_name() {
        v.push(NodeKey::Pod {
            namespace: c.namespace().map(str::to_string),
            name: p.to_string(),
        });
        if let Some(svc) = &c.service {
            v.push(NodeKey::Service {
                pod: p.to_string(),
                name: svc.clone(),
            });
        }
    }
    v.push(NodeKey::Container(c.id.clone()));
    v
}

/// The local clusters' node names among the containers, sorted.
fn clusters(containers: &ContainerMap) -> BTreeSet<String> {
    containers
        .iter()
        .filter_map(|(_, c)| c.node.clone())
        .collect()
}

impl Tree {
    /// Counts one event. Called for every event, so it only bumps a counter.
    pub fn count(&mut self, cgroup_id: u64) {
        *self.pending.entry(cgroup_id).or_default() += 1;
    }

    /// Once a second: moves the counts into per-node history. `names`
    /// also holds the containers that are gone while their events are
    /// retained: those counted this second still belong to them.
    pub fn tick(&mut self, containers: &ContainerMap, names: &ContainerMap) {
        if self.window.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.window = Instant::now();
        self.roll_named(containers, names);
    }

    /// A cluster node is known (its events may not have come yet).
    pub fn saw_node(&mut self, n: u16) {
        if n != 0 {
            self.nodes.insert(n);
        }
    }

    /// Events come from cluster nodes: the pane shows them even when no
    /// container is known.
    pub fn has_nodes(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// More than one cluster node: the tree has a level for them.
    fn multi(&self) -> bool {
        self.nodes.len() > 1
    }

    /// Closes the current second (tests call this directly).
    pub fn roll(&mut self, containers: &ContainerMap) {
        self.roll_named(containers, containers);
    }

    /// Closes the current second: rows for the live `containers`, counts
    /// under the containers `names` knows.
    fn roll_named(&mut self, containers: &ContainerMap, names: &ContainerMap) {
        let seen: Vec<u16> = self
            .pending
            .keys()
            .map(|cg| node_of(*cg))
            .chain(containers.iter().map(|(cg, _)| node_of(cg)))
            .collect();
        for n in seen {
            self.saw_node(n);
        }
        let multi = self.multi();
        let mut sums: HashMap<NodeKey, u64> = HashMap::new();
        for (cg, n) in self.pending.drain() {
            for k in ancestry(cg, names.get(cg).map(|c| c.as_ref()), multi) {
                *sums.entry(k).or_default() += n;
            }
        }
        for k in sums.keys() {
            self.stats.entry(k.clone()).or_default();
        }
        for (k, st) in self.stats.iter_mut() {
            let n = sums.get(k).copied().unwrap_or(0);
            st.total += n;
            st.history.push_back(n);
            if st.history.len() > HISTORY {
                st.history.pop_front();
            }
        }
        // A node whose containers are gone has no row; once its sparkline
        // has gone flat it is dropped, so container churn costs no memory.
        let live: BTreeSet<NodeKey> = containers
            .iter()
            .flat_map(|(cg, c)| ancestry(cg, Some(c.as_ref()), multi))
            .collect();
        self.stats.retain(|k, st| {
            matches!(k, NodeKey::All | NodeKey::Host | NodeKey::Node(_))
                || matches!(k, NodeKey::On(_, b) if **b == NodeKey::Host)
                || live.contains(k)
                || st.history.iter().any(|&n| n > 0)
        });
    }

    /// Events in the last completed second.
    pub fn rate(&self, k: &NodeKey) -> u64 {
        self.stats
            .get(k)
            .and_then(|s| s.history.back().copied())
            .unwrap_or(0)
    }

    pub fn total(&self, k: &NodeKey) -> u64 {
        self.stats.get(k).map_or(0, |s| s.total)
    }

    pub fn selected(&self) -> &NodeKey {
        &self.selected
    }

    /// Does an event of this cgroup belong to the selected node?
    pub fn accepts(&self, cgroup_id: u64, containers: &ContainerMap) -> bool {
        match &self.selected {
            NodeKey::All => true,
            k => ancestry(
                cgroup_id,
                containers.get(cgroup_id).map(|c| c.as_ref()),
                self.multi(),
            )
            .contains(k),
        }
    }

    /// The rows in display order: all, host, namespaces with their pods and
    /// containers, podman pods and compose projects (with their services),
    /// then standalone containers. With several local clusters, each
    /// cluster's namespaces go under a row of its own; with one, it is named
    /// in the pane's title instead. Pod sandboxes (pause / infra) are
    /// counted in their pod but get no row.
    pub fn rows(&self, containers: &ContainerMap) -> Vec<TreeRow> {
        let mut nodes = self.nodes.clone();
        nodes.extend(
            containers
                .iter()
                .map(|(cg, _)| node_of(cg))
                .filter(|&n| n != 0),
        );
        if nodes.len() <= 1 {
            return Self::rows_one(containers);
        }
        let mut out = vec![TreeRow {
            depth: 0,
            key: NodeKey::All,
            label: "all".into(),
        }];
        for n in nodes {
            out.push(TreeRow {
                depth: 0,
                key: NodeKey::Node(n),
                label: node_label(n),
            });
            let mut sub = ContainerMap::default();
            for (cg, c) in containers.iter().filter(|(cg, _)| node_of(*cg) == n) {
                sub.add(&crate::model::container::ContainerAddEvent {
                    cgroup_id: cg,
                    container: c.clone(),
                });
            }
            out.extend(Self::rows_one(&sub).into_iter().skip(1).map(|r| TreeRow {
                depth: r.depth + 1,
                key: NodeKey::On(n, Box::new(r.key)),
                label: r.label,
            }));
        }
        out
    }

    /// One machine's rows.
    fn rows_one(containers: &ContainerMap) -> Vec<TreeRow> {
        let mut uniq: BTreeMap<String, &ContainerInfo> = BTreeMap::new();
        for (_, c) in containers.iter() {
            uniq.entry(c.id.clone()).or_insert(c);
        }
        let split = clusters(containers).len() > 1;
        // (cluster, namespace, pod): the cluster only when it gets a row.
        type PodKey = (Option<String>, Option<String>, String);
        let mut namespaces: BTreeSet<(Option<String>, String)> = BTreeSet::new();
        let mut pods: BTreeMap<PodKey, Vec<&ContainerInfo>> = BTreeMap::new();
        let mut solo: Vec<&ContainerInfo> = Vec::new();
        for c in uniq.values() {
            match c.pod_name() {
                Some(p) => {
                    let cl = c.node.clone().filter(|_| split);
                    let ns = c.namespace().map(str::to_string);
                    if let Some(n) = &ns {
                        namespaces.insert((cl.clone(), n.clone()));
                    }
                    let e = pods.entry((cl, ns, p.to_string())).or_default();
                    if !c.sandbox {
                        e.push(c);
                    }
                }
                None => solo.push(c),
            }
        }
        let by_name = |v: &mut Vec<&ContainerInfo>| {
            v.sort_by(|a, b| {
                (a.service.as_deref(), a.display_name())
                    .cmp(&(b.service.as_deref(), b.display_name()))
                    .then(a.id.cmp(&b.id))
            })
        };
        let row = |depth, key, label: &str| TreeRow {
            depth,
            key,
            label: label.to_string(),
        };
        let mut out = vec![row(0, NodeKey::All, "all"), row(0, NodeKey::Host, HOST)];
        let push_pod =
            |out: &mut Vec<TreeRow>, depth, key: &PodKey, cs: &mut Vec<&ContainerInfo>| {
                out.push(row(
                    depth,
                    NodeKey::Pod {
                        namespace: key.1.clone(),
                        name: key.2.clone(),
                    },
                    &key.2,
                ));
                by_name(cs);
                let mut service: Option<&str> = None;
                for c in cs.iter() {
                    let mut d = depth + 1;
                    if let Some(svc) = c.service.as_deref() {
                        if service != Some(svc) {
                            let key = NodeKey::Service {
                                pod: key.2.clone(),
                                name: svc.to_string(),
                            };
                            out.push(row(depth + 1, key, svc));
                            service = Some(svc);
                        }
                        d += 1;
                    }
                    out.push(row(d, NodeKey::Container(c.id.clone()), c.display_name()));
                }
            };
        let mut cls: Vec<Option<String>> = namespaces.iter().map(|(c, _)| c.clone()).collect();
        cls.dedup();
        for cl in cls {
            let base = if let Some(name) = &cl {
                out.push(row(0, NodeKey::Cluster(name.clone()), name));
                1
            } else {
                0
            };
            for (_, ns) in namespaces.iter().filter(|(c, _)| *c == cl) {
                out.push(row(base, NodeKey::Namespace(ns.clone()), ns));
                for (k, cs) in pods
                    .iter_mut()
                    .filter(|(k, _)| k.0 == cl && k.1.as_ref() == Some(ns))
                {
                    push_pod(&mut out, base + 1, k, cs);
                }
            }
        }
        for (k, cs) in pods.iter_mut().filter(|(k, _)| k.1.is_none()) {
            push_pod(&mut out, 0, k, cs);
        }
        by_name(&mut solo);
        for c in solo {
            out.push(row(0, NodeKey::Container(c.id.clone()), c.display_name()));
        }
        out
    }

    /// Moves the selection by `delta` rows; true when it changed.
    pub fn move_by(&mut self, delta: i64, containers: &ContainerMap) -> bool {
        let rows = self.rows(containers);
        let i = rows
            .iter()
            .position(|r| r.key == self.selected)
            .unwrap_or(0) as i64;
        let j = (i + delta).clamp(0, rows.len() as i64 - 1) as usize;
        let new = rows[j].key.clone();
        let changed = new != self.selected;
        self.selected = new;
        changed
    }

    /// Selects a node directly (tests, and a node that went away).
    pub fn select(&mut self, k: NodeKey) {
        self.selected = k;
    }

    /// What the selected node narrows the stream to, for the header; None
    /// when it shows everything.
    pub fn describe(&self, containers: &ContainerMap) -> Option<String> {
        describe_key(&self.selected, containers)
    }

    /// The pane width that shows every label whole, with the rate and a
    /// full sparkline.
    pub fn width_wanted(&self, containers: &ContainerMap) -> u16 {
        let label = self
            .rows(containers)
            .iter()
            .map(|r| 2 * r.depth as usize + text::width(&r.label))
            .max()
            .unwrap_or(0);
        (label + 1 + RATE_W + 1 + SPARK_W + 2).min(u16::MAX as usize) as u16
    }

    pub fn render(&self, f: &mut Frame, area: Rect, containers: &ContainerMap, t: &Theme) {
        let rows = self.rows(containers);
        let inner_w = area.width.saturating_sub(2) as usize;
        let rate_w = RATE_W;
        let label_want = rows
            .iter()
            .map(|r| 2 * r.depth as usize + text::width(&r.label))
            .max()
            .unwrap_or(0);
        // The sparkline gives way to the names, down to a few cells.
        let spark_w = inner_w
            .saturating_sub(label_want + rate_w + 2)
            .clamp(4.min(inner_w / 3), SPARK_W.min(inner_w / 3));
        let label_w = inner_w.saturating_sub(spark_w + rate_w + 2);
        let height = area.height.saturating_sub(2) as usize;
        let sel = rows
            .iter()
            .position(|r| r.key == self.selected)
            .unwrap_or(0);
        // Keep the selected row in view.
        let first = sel.saturating_sub(height.saturating_sub(1));
        let empty = VecDeque::new();
        let lines: Vec<Line> = rows
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, r)| {
                let indent = "  ".repeat(r.depth as usize);
                let label = format!("{indent}{}", r.label);
                let label = text::fit(&label, label_w);
                let pad = label_w.saturating_sub(text::width(&label));
                let hist = self.stats.get(&r.key).map_or(&empty, |s| &s.history);
                let text = format!(
                    "{label}{:pad$} {:>rate_w$} {}",
                    "",
                    human(self.rate(&r.key)),
                    text::sparkline(hist.iter().copied(), spark_w)
                );
                let style = if i == sel {
                    t.selected()
                } else if matches!(
                    r.key,
                    NodeKey::Namespace(_) | NodeKey::Cluster(_) | NodeKey::All | NodeKey::Node(_)
                ) {
                    t.header()
                } else {
                    Style::default()
                };
                Line::from(Span::styled(text, style))
            })
            .collect();
        let border = if self.focused { t.warn() } else { t.dim() };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(border)
            .title(
                match clusters(containers).into_iter().collect::<Vec<_>>()[..] {
                    // One local cluster: named here, its namespaces at the top.
                    [ref one] => format!(" containers (cluster {one})  ev/s "),
                    _ => " containers  ev/s ".to_string(),
                },
            );
        f.render_widget(Paragraph::new(lines).block(block), area);
    }
}

/// A row's key in words, for the header; None for everything.
fn describe_key(key: &NodeKey, containers: &ContainerMap) -> Option<String> {
    Some(match key {
        NodeKey::All => return None,
        NodeKey::Node(n) => format!("node {}", node_name(*n)),
        NodeKey::On(n, k) => format!(
            "node {}, {}",
            node_name(*n),
            describe_key(k, containers).unwrap_or_default()
        ),
        NodeKey::Host => HOST.to_string(),
        NodeKey::Namespace(ns) => format!("namespace {ns}"),
        NodeKey::Pod {
            namespace: Some(ns),
            name,
        } => format!("pod {ns}/{name}"),
        NodeKey::Pod {
            namespace: None,
            name,
        } => format!("pod {name}"),
        NodeKey::Service { pod, name } => format!("service {pod}/{name}"),
        NodeKey::Cluster(name) => format!("cluster {name}"),
        NodeKey::Container(id) => match containers.iter().find(|(_, c)| &c.id == id) {
            Some((_, c)) => format!("container {}", c.label()),
            None => format!("container {}", &id[..id.len().min(12)]),
        },
    })
}

fn node_name(n: u16) -> String {
    crate::model::node::name(n).map_or_else(
        || "(this machine)".to_string(),
        |s| crate::model::escape::plain(s.as_bytes(), 64),
    )
}

/// A node's row: its name, and since when it is down if it is.
fn node_label(n: u16) -> String {
    let name = node_name(n);
    match crate::model::node::state(n) {
        Some(s) if !s.up => {
            let at = chrono::DateTime::from_timestamp_nanos(s.since_unix_ns)
                .with_timezone(&chrono::Local)
                .format("%H:%M:%S");
            format!("{name} (down since {at})")
        }
        _ => name,
    }
}

/// Cells of a row's rate and of its sparkline, at most.
const RATE_W: usize = 7;
const SPARK_W: usize = 10;

/// 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.2M".
fn human(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::container::{ContainerAddEvent, ContainerDelEvent, PodInfo, Runtime};

    fn add(
        m: &mut ContainerMap,
        cg: u64,
        id: char,
        name: &str,
        pod: Option<(&str, Option<&str>)>,
        sandbox: bool,
    ) {
        let mut c = ContainerInfo::new(&id.to_string().repeat(64), Runtime::ContainerdCri);
        c.name = Some(name.into());
        c.sandbox = sandbox;
        c.pod = pod.map(|(p, ns)| PodInfo {
            name: Some(p.into()),
            namespace: ns.map(str::to_string),
            ..Default::default()
        });
        m.add(&ContainerAddEvent {
            cgroup_id: cg,
            container: Arc::new(c),
        });
    }

    fn sample() -> ContainerMap {
        let mut m = ContainerMap::default();
        add(
            &mut m,
            10,
            'a',
            "app",
            Some(("checkout-1", Some("shop"))),
            false,
        );
        add(
            &mut m,
            11,
            'b',
            "POD",
            Some(("checkout-1", Some("shop"))),
            true,
        );
        add(
            &mut m,
            12,
            'c',
            "sidecar",
            Some(("checkout-1", Some("shop"))),
            false,
        );
        add(&mut m, 20, 'd', "web", Some(("blog", None)), false);
        add(&mut m, 30, 'e', "redis", None, false);
        m
    }

    #[test]
    fn rows_nest_namespaces_pods_and_containers_and_hide_sandboxes() {
        let m = sample();
        let t = Tree::default();
        let rows: Vec<(u16, String)> = t.rows(&m).into_iter().map(|r| (r.depth, r.label)).collect();
        let want: Vec<(u16, String)> = [
            (0, "all"),
            (0, "host"),
            (0, "shop"),
            (1, "checkout-1"),
            (2, "app"),
            (2, "sidecar"),
            (0, "blog"),
            (1, "web"),
            (0, "redis"),
        ]
        .into_iter()
        .map(|(d, l)| (d, l.to_string()))
        .collect();
        assert_eq!(rows, want);
    }

    #[test]
    fn counts_roll_up_and_the_selection_narrows() {
        let m = sample();
        let mut t = Tree::default();
        for _ in 0..5 {
            t.count(10); // app
        }
        t.count(11); // pause
        t.count(30); // redis
        t.count(99); // host
        t.count(99);
        t.roll(&m);
        let pod = NodeKey::Pod {
            namespace: Some("shop".into()),
            name: "checkout-1".into(),
        };
        assert_eq!(t.rate(&NodeKey::All), 9);
        assert_eq!(t.rate(&NodeKey::Host), 2);
        assert_eq!(t.rate(&NodeKey::Namespace("shop".into())), 6);
        assert_eq!(t.rate(&pod), 6);
        assert_eq!(t.rate(&NodeKey::Container("a".repeat(64))), 5);
        t.roll(&m);
        assert_eq!(t.rate(&pod), 0, "a quiet second");
        assert_eq!(t.total(&pod), 6);

        assert!(t.accepts(99, &m));
        // all -> host -> shop -> checkout-1
        assert!(t.move_by(3, &m));
        assert_eq!(t.selected(), &pod);
        assert!(t.accepts(10, &m) && t.accepts(11, &m) && t.accepts(12, &m));
        assert!(!t.accepts(20, &m) && !t.accepts(99, &m));
        assert!(t.move_by(-2, &m));
        assert_eq!(t.selected(), &NodeKey::Host);
        assert!(t.accepts(99, &m) && !t.accepts(10, &m));
        assert!(!t.move_by(-5, &m) || t.selected() == &NodeKey::All);
        assert_eq!(t.selected(), &NodeKey::All);
    }

    /// A short-lived container's events counted in the second its cgroup
    /// went away are counted under its pod, not host.
    #[test]
    fn events_of_a_container_gone_this_second_count_in_its_pod() {
        let names = sample();
        let mut live = sample();
        let gone = live.get(30).unwrap().clone();
        live.del(&ContainerDelEvent {
            cgroup_id: 30,
            container: gone,
        });
        let mut t = Tree::default();
        t.count(30); // redis, gone
        t.count(10); // app
        t.roll_named(&live, &names);
        assert_eq!(t.rate(&NodeKey::Host), 0);
        assert_eq!(t.rate(&NodeKey::Container("e".repeat(64))), 1);
        assert_eq!(t.rate(&NodeKey::All), 2);
    }

    #[test]
    fn nodes_of_gone_containers_are_dropped_once_quiet() {
        let mut m = sample();
        let mut t = Tree::default();
        t.count(30); // redis
        t.count(20); // blog/web
        t.count(99); // host
        t.roll(&m);
        let redis = NodeKey::Container("e".repeat(64));
        let web = NodeKey::Container("d".repeat(64));
        let blog = NodeKey::Pod {
            namespace: None,
            name: "blog".into(),
        };
        let gone = m.get(30).unwrap().clone();
        m.del(&ContainerDelEvent {
            cgroup_id: 30,
            container: gone,
        });
        // Still drawn as a flat sparkline while its last events are in view.
        for _ in 1..HISTORY {
            t.roll(&m);
        }
        assert_eq!(t.total(&redis), 1);
        t.roll(&m);
        assert!(
            !t.stats.contains_key(&redis),
            "a gone, quiet container is dropped"
        );
        // Live containers, their pods, and host keep their node however quiet.
        assert_eq!(t.total(&web), 1);
        assert_eq!(t.total(&blog), 1);
        assert_eq!(t.total(&NodeKey::Host), 1);
        assert_eq!(t.total(&NodeKey::All), 3);
    }

    #[test]
    fn the_pane_groups_and_its_selection_narrows_the_stream() {
        use crate::consumer::tui::keys::Action;
        use crate::consumer::tui::testutil::{app_with, event, screen};
        use crate::model::event::Event;

        let mut app = app_with(vec![]);
        let m = sample();
        let adds: Vec<Event> = m
            .iter()
            .map(|(cg, c)| {
                Event::ContainerAdd(ContainerAddEvent {
                    cgroup_id: cg,
                    container: c.clone(),
                })
            })
            .collect();
        let mut in_pod = event("openat", "cat", 10, -2, Some("/in-pod"));
        in_pod.id_mut().cgroup_id = 10;
        let mut on_host = event("openat", "sh", 11, -2, Some("/on-host"));
        on_host.id_mut().cgroup_id = 99;
        app.ingest_batch(adds);
        app.ingest_batch(vec![Event::Syscall(in_pod), Event::Syscall(on_host)]);
        let s = screen(&mut app, 200, 14);
        assert!(s.contains("containers"), "{s}");
        for want in [
            "shop",
            "  checkout-1",
            "    app",
            "    sidecar",
            "blog",
            "redis",
        ] {
            assert!(s.contains(want), "{want:?} in\n{s}");
        }
        let line = s.lines().find(|l| l.contains("/in-pod")).unwrap();
        assert!(line.contains("shop/checkout-1/app"), "{line}");
        let line = s.lines().find(|l| l.contains("/on-host")).unwrap();
        assert!(line.contains(" host "), "{line}");

        // Tab to the pane, down to the pod: only its events remain.
        app.on_action(Action::SwitchPane);
        for _ in 0..3 {
            app.on_action(Action::Down);
        }
        let s = screen(&mut app, 200, 14);
        assert!(s.contains("/in-pod") && !s.contains("/on-host"), "{s}");
        // Up to host: the other way round.
        app.on_action(Action::Up);
        app.on_action(Action::Up);
        let s = screen(&mut app, 200, 14);
        assert!(!s.contains("/in-pod") && s.contains("/on-host"), "{s}");
        // Back to the stream: j/k move events again, the narrowing stays.
        app.on_action(Action::SwitchPane);
        assert!(!app.tree.focused);
        assert_eq!(app.tree.selected(), &NodeKey::Host);
    }

    #[test]
    fn local_clusters_and_compose_projects_group() {
        let mut m = ContainerMap::default();
        let put = |m: &mut ContainerMap, cg: u64, id: &str, f: &dyn Fn(&mut ContainerInfo)| {
            let mut c = ContainerInfo::new(&id.repeat(64), Runtime::ContainerdCri);
            f(&mut c);
            m.add(&ContainerAddEvent {
                cgroup_id: cg,
                container: Arc::new(c),
            });
        };
        let pod = |c: &mut ContainerInfo, node: &str, ns: &str, p: &str, name: &str| {
            c.node = Some(node.into());
            c.name = Some(name.into());
            c.pod = Some(PodInfo {
                name: Some(p.into()),
                namespace: Some(ns.into()),
                ..Default::default()
            });
        };
        put(&mut m, 1, "a", &|c| {
            pod(c, "kind-a", "shop", "web-0", "app")
        });
        put(&mut m, 2, "b", &|c| {
            c.name = Some("shop_api_1".into());
            c.service = Some("api".into());
            c.pod = Some(PodInfo {
                name: Some("shop".into()),
                ..Default::default()
            });
        });
        let t = Tree::default();
        let rows = |m: &ContainerMap| -> Vec<String> {
            t.rows(m)
                .iter()
                .map(|r| format!("{}{}", "  ".repeat(r.depth as usize), r.label))
                .collect()
        };
        // One cluster: no row of its own (the pane's title names it).
        assert_eq!(
            rows(&m),
            [
                "all",
                "host",
                "shop",
                "  web-0",
                "    app",
                "shop",
                "  api",
                "    shop_api_1"
            ]
        );
        put(&mut m, 3, "c", &|c| {
            pod(c, "kind-b", "shop", "web-0", "app")
        });
        assert_eq!(
            rows(&m),
            [
                "all",
                "host",
                "kind-a",
                "  shop",
                "    web-0",
                "      app",
                "kind-b",
                "  shop",
                "    web-0",
                "      app",
                "shop",
                "  api",
                "    shop_api_1"
            ]
        );
        let mut t = Tree::default();
        t.count(2);
        t.count(3);
        t.roll(&m);
        let svc = NodeKey::Service {
            pod: "shop".into(),
            name: "api".into(),
        };
        assert_eq!(t.total(&svc), 1);
        assert_eq!(t.total(&NodeKey::Cluster("kind-b".into())), 1);
        assert_eq!(t.total(&NodeKey::Cluster("kind-a".into())), 0);
    }

    #[test]
    fn sparkline_scales_to_the_maximum() {
        let v: VecDeque<u64> = [0, 1, 2, 4, 8].into_iter().collect();
        let s = text::sparkline(v.iter().copied(), 6);
        assert_eq!(s.chars().count(), 6);
        assert!(s.starts_with("  "), "{s:?}");
        assert!(s.ends_with('█'), "{s:?}");
        assert_eq!(human(12_345), "12.3k");
    }
}

#[cfg(test)]
mod node_tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::container::{ContainerAddEvent, PodInfo, Runtime};

    #[test]
    fn several_cluster_nodes_get_a_level_of_their_own() {
        let a = crate::model::node::intern("tree-node-a").unwrap();
        let b = crate::model::node::intern("tree-node-b").unwrap();
        let on = |n: u16, cg: u64| ((n as u64) << 48) | cg;
        let mut m = ContainerMap::default();
        let mut c = ContainerInfo::new(&"f".repeat(64), Runtime::ContainerdCri);
        c.name = Some("app".into());
        c.pod = Some(PodInfo {
            name: Some("web-1".into()),
            namespace: Some("shop".into()),
            ..Default::default()
        });
        m.add(&ContainerAddEvent {
            cgroup_id: on(b, 10),
            container: Arc::new(c),
        });
        let mut t = Tree::default();
        // One node: the tree of one machine.
        t.saw_node(a);
        assert_eq!(t.rows(&ContainerMap::default())[1].key, NodeKey::Host);
        t.saw_node(b);
        let rows: Vec<(u16, String)> = t.rows(&m).into_iter().map(|r| (r.depth, r.label)).collect();
        let want: Vec<(u16, String)> = [
            (0, "all"),
            (0, "tree-node-a"),
            (1, "host"),
            (0, "tree-node-b"),
            (1, "host"),
            (1, "shop"),
            (2, "web-1"),
            (3, "app"),
        ]
        .into_iter()
        .map(|(d, l)| (d, l.to_string()))
        .collect();
        assert_eq!(rows, want);
        // Counts roll up per node; a node's row narrows to its events.
        t.count(on(a, 1));
        t.count(on(b, 10));
        t.count(on(b, 10));
        t.roll(&m);
        assert_eq!(t.rate(&NodeKey::Node(a)), 1);
        assert_eq!(t.rate(&NodeKey::Node(b)), 2);
        assert_eq!(
            t.rate(&NodeKey::On(b, Box::new(NodeKey::Namespace("shop".into())))),
            2
        );
        t.select(NodeKey::Node(a));
        assert!(t.accepts(on(a, 1), &m));
        assert!(!t.accepts(on(b, 10), &m));
        assert_eq!(t.describe(&m).as_deref(), Some("node tree-node-a"));
        // A node that went down says since when.
        crate::model::node::set_state(
            a,
            crate::model::node::NodeState {
                up: false,
                since_unix_ns: 0,
                detail: "gone".into(),
            },
        );
        assert!(t.rows(&m)[1].label.starts_with("tree-node-a (down since "));
    }
}
