//! Who made a call: the part of an event that is the same for every call a
//! thread makes under one identity (the kernel's `st_ident`, one per thread
//! and generation). Events hold it behind an `Arc`, so a retained session
//! pays for it once per identity rather than once per event; the capture
//! join (`raw::Identities`) builds one per identity record, and every other
//! source (replay, remote nodes, crafted events) goes through [`intern`].

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use super::event::Namespaces;
use super::raw::{WireIdent, COMM_LEN};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Identity {
    pub cgroup_id: u64,
    /// Thread-group id in the host pid namespace (what users call the pid).
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    pub gid: u32,
    /// The pid as seen inside the task's own pid namespace.
    pub container_pid: u32,
    pub session: u32,
    pub ns: Namespaces,
    pub comm: [u8; COMM_LEN],
}

impl Identity {
    pub fn from_wire(id: &WireIdent) -> Identity {
        Identity {
            cgroup_id: id.cgroup_id,
            pid: id.pid,
            tid: id.tid,
            uid: id.uid,
            gid: id.gid,
            container_pid: id.ns_pid,
            session: id.session,
            ns: Namespaces {
                pid: id.pid_ns,
                mnt: id.mnt_ns,
                uts: id.uts_ns,
                ipc: id.ipc_ns,
                cgroup: id.cgroup_ns,
                net: id.net_ns,
            },
            comm: id.comm,
        }
    }
}

/// Identities handed out and still (possibly) held by events. Entries only
/// the set itself holds are swept when it has doubled since the last sweep,
/// so it stays proportional to the identities alive, also in a stream that
/// never ends (a remote node).
#[derive(Default)]
pub struct Interner {
    set: HashSet<Arc<Identity>>,
    /// The identity handed out last: a thread's calls come in runs.
    last: Option<Arc<Identity>>,
    sweep_at: usize,
}

const FIRST_SWEEP: usize = 4096;

impl Interner {
    pub fn get(&mut self, id: Identity) -> Arc<Identity> {
        if let Some(last) = &self.last {
            if **last == id {
                return last.clone();
            }
        }
        let shared = match self.set.get(&id) {
            Some(a) => a.clone(),
            None => {
                if self.set.len() >= self.sweep_at.max(FIRST_SWEEP) {
                    self.set.retain(|a| Arc::strong_count(a) > 1);
                    self.sweep_at = 2 * self.set.len();
                }
                let a = Arc::new(id);
                self.set.insert(a.clone());
                a
            }
        };
        self.last = Some(shared.clone());
        shared
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

thread_local! {
    static INTERNER: RefCell<Interner> = RefCell::new(Interner::default());
}

/// The shared copy of `id` (one per distinct identity on this thread: a
/// source decodes on one thread, so its events share).
pub fn intern(id: Identity) -> Arc<Identity> {
    INTERNER.with(|i| i.borrow_mut().get(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(tid: u32) -> Identity {
        Identity {
            pid: 7,
            tid,
            comm: *b"sh\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            ..Default::default()
        }
    }

    #[test]
    fn equal_identities_share_one_allocation() {
        let mut i = Interner::default();
        let a = i.get(id(1));
        let b = i.get(id(2));
        let c = i.get(id(1));
        assert!(Arc::ptr_eq(&a, &c));
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn identities_no_event_holds_are_swept() {
        let mut i = Interner::default();
        let kept = i.get(id(0));
        for t in 1..FIRST_SWEEP as u32 {
            drop(i.get(id(t)));
        }
        // The next new identity sweeps: `kept`, the one handed out last
        // (still cached) and the new one stay.
        let new = i.get(id(u32::MAX));
        assert_eq!(i.len(), 3);
        assert!(Arc::ptr_eq(&kept, &i.get(id(0))));
        assert!(Arc::ptr_eq(&new, &i.get(id(u32::MAX))));
    }
}
