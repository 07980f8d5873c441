//! What arrives: events, lost counts and containers going into the store,
//! the stream's rows, the statistics and the container pane, and the rate
//! the header shows.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::app::App;
use super::refilter::{group_label, ViewTest};
use super::tree::NodeKey;
use crate::model::container::{ContainerAddEvent, ContainerDelEvent, ContainerInfo};
use crate::model::event::{Event, TraceEvent};

/// Events per second over the last full second.
pub(super) struct Rate {
    window_start: Instant,
    count: u64,
    per_sec: f64,
}

impl Rate {
    pub(super) fn new() -> Rate {
        Rate {
            window_start: Instant::now(),
            count: 0,
            per_sec: 0.0,
        }
    }

    pub(super) fn add(&mut self, n: u64) {
        self.count += n;
        let el = self.window_start.elapsed();
        if el >= Duration::from_secs(1) {
            self.per_sec = self.count as f64 / el.as_secs_f64();
            self.count = 0;
            self.window_start = Instant::now();
        }
    }
}

impl App {
    /// Whether an event belongs in the stream's rows.
    pub fn visible(&self, ev: &TraceEvent) -> bool {
        self.view_test().accepts(ev)
    }

    pub(super) fn view_test(&self) -> ViewTest<'_> {
        ViewTest::new(
            self.filter.as_ref(),
            self.errors_only,
            &self.tree,
            &self.labels,
        )
    }

    /// Container pane and column are shown once there are containers.
    pub fn shows_containers(&self) -> bool {
        !self.labels.is_empty() || self.tree.has_nodes()
    }

    /// Whether every retained event is shown (no filter of any kind).
    pub(super) fn unfiltered(&self) -> bool {
        self.filter.is_none() && !self.errors_only && *self.tree.selected() == NodeKey::All
    }

    /// The group an event is counted under in the statistics.
    pub fn group_of(&self, ev: &TraceEvent) -> Cow<'static, str> {
        group_label(&self.labels, ev)
    }

    pub fn ingest(&mut self, ev: Event) {
        match ev {
            Event::Syscall(e) => {
                self.total += 1;
                self.tree.count(e.id.cgroup_id);
                self.first_ns.get_or_insert(e.start_ns);
                let show = self.visible(&e);
                if show {
                    let g = self.group_of(&e);
                    self.stats.record(&e, &g);
                }
                let seq = self.store.end_seq();
                self.store.push(e);
                self.list.rows.evict_before(self.store.first_seq());
                if show {
                    self.list.rows.push(seq);
                }
            }
            Event::Lost(l) => self.lost = l,
            Event::ContainerAdd(a) => {
                self.gone.remove(&a.cgroup_id);
                self.containers.add(&a);
                self.labels.add(&a);
                // Names can arrive after a container's first events. Many
                // arrive at once at start-up: the event loop does the work.
                if !self.unfiltered() {
                    self.start_refilter();
                }
            }
            Event::ContainerDel(d) => {
                // The last names known are the best ones.
                let c = self.labels.get(d.cgroup_id).unwrap_or(&d.container).clone();
                self.labels.add(&ContainerAddEvent {
                    cgroup_id: d.cgroup_id,
                    container: c.clone(),
                });
                self.gone.insert(d.cgroup_id, (c, self.store.end_seq()));
                self.containers.del(&d);
            }
            // The tree shows a node's state from `model::node`.
            Event::Node(n) => self.tree.saw_node(n.node),
        }
    }

    pub fn ingest_batch(&mut self, mut batch: Vec<Event>) {
        let n = batch.len() as u64;
        for ev in batch.drain(..) {
            self.ingest(ev);
        }
        self.rate.add(n);
        if let Some(r) = &self.recycler {
            r.give(batch);
        }
    }

    /// Call once per frame: keeps rates fresh when nothing arrives.
    pub fn tick(&mut self) {
        self.rate.add(0);
        self.tree.tick(&self.containers, &self.labels);
        let first = self.store.first_seq();
        let (labels, live) = (&mut self.labels, &self.containers);
        self.gone.retain(|&cg, (c, end)| {
            let keep = *end > first;
            if !keep && live.get(cg).is_none() {
                labels.del(&ContainerDelEvent {
                    cgroup_id: cg,
                    container: c.clone(),
                });
            }
            keep
        });
    }

    /// The container of a cgroup, also when it is gone but some of its
    /// events may still be retained.
    pub fn container_of(&self, cgroup_id: u64) -> Option<&Arc<ContainerInfo>> {
        self.labels.get(cgroup_id)
    }

    pub fn events_per_sec(&self) -> f64 {
        self.rate.per_sec
    }
}
