//! Node names in cluster mode. Every event carries a small node number
//! (`TraceEvent::node`) instead of its name, so a retained session does not
//! hold a string per event; 0 is the machine itself (live capture, or a
//! session recorded without nodes). Numbers are handed out once per name
//! for the life of the process and never reused.

use std::sync::{Arc, OnceLock, RwLock};

/// The number of the local machine (no node name).
pub const LOCAL: u16 = 0;

fn table() -> &'static RwLock<Vec<Arc<str>>> {
    static NAMES: OnceLock<RwLock<Vec<Arc<str>>>> = OnceLock::new();
    NAMES.get_or_init(|| RwLock::new(vec![Arc::from("")]))
}

/// The number of node `name`, given on first use. `None` once 65,535
/// names are taken (a client of that many nodes is not a use case).
pub fn intern(name: &str) -> Option<u16> {
    if name.is_empty() {
        return Some(LOCAL);
    }
    if let Some(i) = lookup(name) {
        return Some(i);
    }
    let mut t = table().write().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = t.iter().position(|n| &**n == name) {
        return Some(i as u16);
    }
    let i = u16::try_from(t.len()).ok()?;
    t.push(Arc::from(name));
    Some(i)
}

/// The number of a name already seen.
pub fn lookup(name: &str) -> Option<u16> {
    let t = table().read().unwrap_or_else(|e| e.into_inner());
    t.iter().position(|n| &**n == name).map(|i| i as u16)
}

/// The name of node `id`; `None` for the local machine and unknown numbers.
pub fn name(id: u16) -> Option<Arc<str>> {
    if id == LOCAL {
        return None;
    }
    let t = table().read().unwrap_or_else(|e| e.into_inner());
    t.get(id as usize).cloned()
}

/// A remote node's connection as last reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeState {
    pub up: bool,
    /// Since when (Unix ns).
    pub since_unix_ns: i64,
    /// Why it is down, or what its last return missed.
    pub detail: String,
}

fn states() -> &'static RwLock<std::collections::HashMap<u16, NodeState>> {
    static STATES: OnceLock<RwLock<std::collections::HashMap<u16, NodeState>>> = OnceLock::new();
    STATES.get_or_init(Default::default)
}

pub fn set_state(id: u16, s: NodeState) {
    states()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, s);
}

/// The node's connection state; `None` for nodes no client watches (a
/// replay, or the local machine).
pub fn state(id: u16) -> Option<NodeState> {
    states()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
}

/// `node:label` for an event of a named node, the label alone otherwise.
pub fn with_node(id: u16, label: String) -> String {
    match name(id) {
        Some(n) => format!("{}:{label}", super::escape::plain(n.as_bytes(), 64)),
        None => label,
    }
}

/// One line about a node going down or coming back, with the time.
pub fn describe(ev: &super::event::NodeEvent) -> String {
    let who = name(ev.node).map_or_else(
        || ev.addr.clone(),
        |n| format!("{} ({})", super::escape::plain(n.as_bytes(), 64), ev.addr),
    );
    let at = chrono::DateTime::from_timestamp_nanos(ev.at_unix_ns)
        .with_timezone(&chrono::Local)
        .format("%H:%M:%S");
    let detail = super::escape::plain(ev.detail.as_bytes(), 200);
    match (ev.up, detail.is_empty()) {
        (true, true) => format!("node {who} up at {at}"),
        (true, false) => format!("node {who} up again at {at}; gap: {detail}"),
        (false, _) => format!("node {who} down at {at}: {detail}"),
    }
}

/// How many named nodes are known (more than one: the views group by node).
pub fn count() -> usize {
    table().read().unwrap_or_else(|e| e.into_inner()).len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_stable_numbers_and_local_is_zero() {
        assert_eq!(intern(""), Some(LOCAL));
        assert_eq!(name(LOCAL), None);
        let a = intern("node-test-a").unwrap();
        let b = intern("node-test-b").unwrap();
        assert_ne!(a, b);
        assert_ne!(a, LOCAL);
        assert_eq!(intern("node-test-a"), Some(a));
        assert_eq!(name(b).as_deref(), Some("node-test-b"));
        assert_eq!(lookup("node-test-never"), None);
    }
}
