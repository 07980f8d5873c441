//! What happens to every batch between a source (live capture or a replayed
//! file) and a consumer (TUI, headless lines, export), written once for all
//! of them: container names applied, fd paths followed, the user's filter.

pub mod fdpaths;

use std::sync::{Arc, Mutex};

use anyhow::Result;
use regex::bytes::Regex;

use crate::model::container::ContainerMap;
use crate::model::event::{Event, TraceEvent};
use crate::model::filter::{Filter, FilterContext};
use crate::model::flow::usage;
use crate::model::identity::Identity;
use crate::model::selection::Selection;
use crate::stage::fdpaths::FdPaths;

/// The user's filters: `--pid`, `--comm`, `--filter` and the container
/// flags. Live, the kernel has already applied what it can of them; a
/// replay has no kernel, so every part is checked here.
#[derive(Clone, Default)]
pub struct UserFilter {
    pub comm: Option<Regex>,
    pub expr: Option<Filter>,
    pub pids: Vec<u32>,
    /// `--pod`, `--namespace`, `--container`, `--host`.
    pub selection: Option<Selection>,
}

impl UserFilter {
    pub fn new(
        pids: &[u32],
        comm: Option<&str>,
        filter: Option<&str>,
        selection: Option<Selection>,
    ) -> Result<UserFilter> {
        let comm = comm
            .map(|r| {
                Regex::new(r).map_err(|e| {
                    usage(format!(
                        "invalid --comm regex {r:?}: {}",
                        crate::model::filter::regex_problem(&e)
                    ))
                })
            })
            .transpose()?;
        let expr = filter
            .map(|f| Filter::parse(f).map_err(|e| usage(format!("invalid --filter: {e}"))))
            .transpose()?;
        Ok(UserFilter {
            comm,
            expr,
            pids: pids.to_vec(),
            selection,
        })
    }

    pub fn matches(&self, ev: &TraceEvent, containers: &ContainerMap) -> bool {
        self.matches_thread(ev, containers) && self.matches_call(ev, containers)
    }

    /// The tests that depend on the thread alone (its identity): pid,
    /// command and container.
    fn matches_thread(&self, ev: &TraceEvent, containers: &ContainerMap) -> bool {
        (self.pids.is_empty() || self.pids.contains(&ev.id.pid))
            && self
                .comm
                .as_ref()
                .is_none_or(|r| r.is_match(ev.comm_bytes()))
            && self
                .selection
                .as_ref()
                .is_none_or(|s| s.matches(containers.get(ev.id.cgroup_id).map(|c| c.as_ref())))
    }

    fn matches_call(&self, ev: &TraceEvent, containers: &ContainerMap) -> bool {
        self.expr
            .as_ref()
            .is_none_or(|f| f.matches(ev, containers as &dyn FilterContext))
    }
}

/// `matches_thread` of recently seen identities. A thread's events share
/// one `Arc<Identity>`, so a --comm regex runs once per thread, not once
/// per event (at a million events a second it was a third of the
/// pipeline's time). Each entry holds its identity alive, so an address
/// cannot be reused for another identity while it is cached.
struct ThreadVerdicts {
    slots: Vec<Option<(Arc<Identity>, bool)>>,
}

const VERDICT_SLOTS: usize = 64;

impl ThreadVerdicts {
    fn new() -> ThreadVerdicts {
        ThreadVerdicts {
            slots: vec![None; VERDICT_SLOTS],
        }
    }

    fn get(&mut self, id: &Arc<Identity>, decide: impl FnOnce() -> bool) -> bool {
        // Fibonacci hashing of the address: the top 6 bits.
        let h = (Arc::as_ptr(id) as usize as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        let slot = &mut self.slots[h as usize % VERDICT_SLOTS];
        match slot {
            Some((seen, ok)) if Arc::ptr_eq(seen, id) => *ok,
            _ => {
                let ok = decide();
                *slot = Some((id.clone(), ok));
                ok
            }
        }
    }

    /// The containers changed: a verdict on one may have too.
    fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
    }
}

/// The stages, in their order: container map, filter, fd paths.
pub struct Stages {
    pub filter: UserFilter,
    /// The containers as the stream has announced them so far.
    pub containers: ContainerMap,
    /// `-y`: learns from every event (the filter may drop an `openat` whose
    /// fd a shown `read` uses), annotates the shown ones.
    pub fd_paths: Option<FdPaths>,
    /// Every container announced, shared with what labels the kernel's
    /// counts (the top view, the summary, the metrics). Containers that
    /// are gone stay: their calls were counted under their names.
    pub labels: Option<Arc<Mutex<ContainerMap>>>,
    /// With a container selection: the cgroups whose container was passed
    /// on. Containers the selection leaves out are not announced (their
    /// names would reach the pane and a `-w` file), nor their removal.
    announced: std::collections::HashSet<u64>,
    verdicts: ThreadVerdicts,
}

impl Stages {
    pub fn new(filter: UserFilter, fd_paths: bool) -> Stages {
        Stages {
            filter,
            containers: ContainerMap::default(),
            fd_paths: fd_paths.then(FdPaths::new),
            labels: None,
            announced: std::collections::HashSet::new(),
            verdicts: ThreadVerdicts::new(),
        }
    }

    /// Keeps the syscalls that pass the filter, and every other event.
    pub fn apply(&mut self, batch: &mut Vec<Event>) {
        batch.retain_mut(|e| match e {
            Event::Syscall(t) => {
                let (filter, containers) = (&self.filter, &self.containers);
                let keep = self
                    .verdicts
                    .get(&t.id, || filter.matches_thread(t, containers))
                    && filter.matches_call(t, containers);
                if let Some(fp) = self.fd_paths.as_mut() {
                    if keep {
                        fp.process(t);
                    } else {
                        fp.learn(t);
                    }
                }
                keep
            }
            Event::ContainerAdd(a) => {
                self.containers.add(a);
                self.verdicts.clear();
                if let Some(l) = &self.labels {
                    l.lock().unwrap_or_else(|e| e.into_inner()).add(a);
                }
                let Some(sel) = &self.filter.selection else {
                    return true;
                };
                // Not looked up yet: it may be selected once it is.
                let keep = !a.container.resolved || sel.matches(Some(&a.container));
                if keep {
                    self.announced.insert(a.cgroup_id);
                }
                keep || self.announced.contains(&a.cgroup_id)
            }
            Event::ContainerDel(d) => {
                self.containers.del(d);
                self.verdicts.clear();
                self.filter.selection.is_none() || self.announced.remove(&d.cgroup_id)
            }
            Event::Lost(_) | Event::Node(_) => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::container::{ContainerAddEvent, ContainerInfo, PodInfo, Runtime};
    use crate::session::reader::tests::sample_event;
    use std::sync::Arc;

    fn add(cgroup_id: u64, c: ContainerInfo) -> Event {
        Event::ContainerAdd(ContainerAddEvent {
            cgroup_id,
            container: Arc::new(c),
        })
    }

    fn syscall(i: u32, cgroup_id: u64) -> Event {
        let mut e = sample_event(i);
        e.id_mut().cgroup_id = cgroup_id;
        Event::Syscall(e)
    }

    fn in_pod(id: &str, pod: Option<&str>) -> ContainerInfo {
        let mut c = ContainerInfo::new(id, Runtime::Podman);
        c.name = pod.map(|_| "app".to_string());
        c.pod = pod.map(|p| PodInfo {
            name: Some(p.into()),
            ..Default::default()
        });
        c
    }

    fn kept(s: &mut Stages, mut batch: Vec<Event>) -> Vec<u64> {
        s.apply(&mut batch);
        batch
            .iter()
            .filter_map(|e| match e {
                Event::Syscall(t) => Some(t.id.cgroup_id),
                _ => None,
            })
            .collect()
    }

    /// With --pod, the containers of other pods are not announced: their
    /// names reach neither the container pane nor a `-w` file.
    #[test]
    fn unselected_containers_are_not_announced() {
        let sel = Selection::new(Some("^pay"), None, None, false).unwrap();
        let mut s = Stages::new(UserFilter::new(&[], None, None, sel).unwrap(), false);
        let mut pay = in_pod(&"a".repeat(64), Some("payments"));
        pay.resolved = true;
        let mut other = in_pod(&"b".repeat(64), Some("other"));
        other.resolved = true;
        let pending = in_pod(&"c".repeat(64), None);
        let gone = |cgroup_id: u64, c: &ContainerInfo| {
            Event::ContainerDel(crate::model::container::ContainerDelEvent {
                cgroup_id,
                container: Arc::new(c.clone()),
            })
        };
        let mut batch = vec![
            add(10, pay.clone()),
            add(11, other.clone()),
            add(12, pending),
            syscall(1, 11),
            gone(10, &pay),
            gone(11, &other),
        ];
        s.apply(&mut batch);
        let seen: Vec<(char, u64)> = batch
            .iter()
            .filter_map(|e| match e {
                Event::ContainerAdd(a) => Some(('+', a.cgroup_id)),
                Event::ContainerDel(d) => Some(('-', d.cgroup_id)),
                _ => None,
            })
            .collect();
        assert_eq!(seen, vec![('+', 10), ('+', 12), ('-', 10)]);
    }

    #[test]
    fn container_flags_filter_in_user_space() {
        let sel = Selection::new(Some("^pay"), None, None, false).unwrap();
        let f = UserFilter::new(&[], None, None, sel).unwrap();
        let mut s = Stages::new(f, false);
        let batch = vec![
            add(10, in_pod(&"a".repeat(64), Some("payments"))),
            add(20, in_pod(&"b".repeat(64), Some("web"))),
            syscall(1, 10),
            syscall(2, 20),
            syscall(3, 1),
        ];
        assert_eq!(kept(&mut s, batch), vec![10]);
    }

    /// The verdict kept per thread follows what it depends on: the same
    /// identity is let through once its container is announced, and not
    /// after the container is gone; --comm still decides per thread.
    #[test]
    fn a_threads_verdict_follows_its_container() {
        let sel = Selection::new(Some("^pay"), None, None, false).unwrap();
        let f = UserFilter::new(&[], Some("^cat$"), None, sel).unwrap();
        let mut s = Stages::new(f, false);
        // One identity shared by every event, as a thread's events share it.
        let Event::Syscall(first) = syscall(1, 10) else {
            unreachable!()
        };
        let same = |i: u64| {
            let mut e = first.clone();
            e.start_ns = i;
            Event::Syscall(e)
        };
        assert_eq!(kept(&mut s, vec![same(1)]), Vec::<u64>::new());
        let c = Arc::new(in_pod(&"a".repeat(64), Some("payments")));
        let announce = || {
            Event::ContainerAdd(ContainerAddEvent {
                cgroup_id: 10,
                container: c.clone(),
            })
        };
        assert_eq!(
            kept(&mut s, vec![announce(), same(2), same(3)]),
            vec![10, 10]
        );
        let gone = Event::ContainerDel(crate::model::container::ContainerDelEvent {
            cgroup_id: 10,
            container: c.clone(),
        });
        assert_eq!(kept(&mut s, vec![gone, same(4)]), Vec::<u64>::new());
        // Another command in the same container: not kept by --comm.
        let mut other = first.clone();
        other.id_mut().comm = [0; crate::model::raw::COMM_LEN];
        other.id_mut().comm[..5].copy_from_slice(b"other");
        assert_eq!(
            kept(&mut s, vec![announce(), same(5), Event::Syscall(other)]),
            vec![10]
        );
    }
}
