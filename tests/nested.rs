//! Root-only: pods inside a local cluster's node container (kind, minikube,
//! k3d), for real. A kind-like node (tests/runtimes/node.rs) runs containerd
//! inside a privileged podman container; pods are made through the node's
//! own CRI socket, with names the tracer has never seen, and checked from
//! the host: their names (through the socket in the node's root), their
//! grouping under the node, and `--pod` in the kernel.

mod common;
mod runtimes;

use std::time::Duration;

use runtimes::node::{Flavour, Layout, Node};
use runtimes::{opener, Traced};
use systrace_tui::model::container::Runtime;
use systrace_tui::model::selection::Selection;
use systrace_tui::source::topology::{TopologyOptions, VIRTUAL};

fn pods_in_a_node(test: &str, flavour: Flavour, layout: Layout) {
    if !common::require_root(test) {
        return;
    }
    let u = format!("{:x}{}", std::process::id(), layout as u8);
    let mut node = Node::start(&format!("kindnode-{u}"), flavour, layout);
    let (ma, mb) = (format!("/n-orders-{u}"), format!("/n-ledger-{u}"));
    let (pod_a, pod_b) = (format!("orders-5d8f-{u}"), format!("ledger-0-{u}"));
    let (ns_a, ns_b) = (format!("shop-{u}"), format!("books-{u}"));
    // Pod B is there before tracing starts, pod A comes while it runs.
    node.pod(&pod_b, &ns_b, "worker", &opener(&mb));

    let re_a = format!("^{pod_a}$");
    let sel = Selection::new(Some(&re_a), None, None, false)
        .unwrap()
        .unwrap();
    let mut t = Traced::start(TopologyOptions {
        selection: Some(sel.clone()),
        ..Default::default()
    });
    let id_a = node.pod(&pod_a, &ns_a, "app", &opener(&ma));
    let labelled = |t: &Traced, marker: &str, pod: &str| {
        t.opening(marker)
            .iter()
            .any(|(_, e)| t.now(e).is_some_and(|c| c.pod_name() == Some(pod)))
    };
    assert!(
        t.pump_until(Duration::from_secs(30), |t| labelled(t, &ma, &pod_a)),
        "pod A's events, labelled: {:?}\n{}",
        t.adds,
        node.log()
    );
    t.pump_until(Duration::from_secs(2), |_| false);

    let c = t.now(&t.opening(&ma)[0].1).unwrap();
    assert_eq!(c.id, id_a);
    assert_eq!(c.runtime, Runtime::ContainerdCri);
    assert_eq!(c.name.as_deref(), Some("app"));
    assert_eq!(c.label(), format!("{ns_a}/{pod_a}/app"));
    assert_eq!(
        c.node.as_deref(),
        Some(node.name.as_str()),
        "grouped under its node"
    );
    for (_, e) in t.seen_old() {
        let c = t.now(e).unwrap_or_else(|| {
            panic!(
                "a host event passed the kernel filter: {}[{}]",
                e.comm(),
                e.id.pid
            )
        });
        let of_node = c.node.as_deref() == Some(node.name.as_str())
            || c.name.as_deref() == Some(node.name.as_str());
        assert!(of_node, "an event from outside the node: {c:?}");
    }
    // What the stages keep under --pod: pod A's events and nothing else.
    let kept: Vec<_> = t
        .seen
        .iter()
        .filter(|(_, e)| sel.matches(t.now(e).as_deref()))
        .collect();
    assert!(kept.iter().any(|(_, e)| e.path() == Some(ma.as_bytes())));
    for (_, e) in &kept {
        assert_eq!(t.now(e).unwrap().pod_name(), Some(pod_a.as_str()));
    }
    match layout {
        Layout::V2 => {
            // Pods with cgroup2 directories of their own: the kernel keeps
            // pod A's cgroups only.
            assert!(t.opening(&mb).is_empty(), "pod B's events are absent");
            // Of the cgroups that were there, only pod A's.
            for (_, e) in t.seen_old() {
                assert!(
                    sel.matches(t.now(e).as_deref()),
                    "an unselected event of a cgroup older than the trace: {:?}",
                    t.now(e)
                );
            }
            assert!(c.pod.is_some() && t.opening(&ma)[0].1.id.cgroup_id & VIRTUAL == 0);
        }
        Layout::Hybrid => {
            // Pods share the node's cgroup2 id: the kernel keeps the node,
            // each event is told apart by its process's v1 path. Pod B and
            // the node's own processes are labelled as what they are.
            assert!(t.opening(&ma)[0].1.id.cgroup_id & VIRTUAL != 0);
            assert!(
                t.pump_until(Duration::from_secs(10), |t| labelled(t, &mb, &pod_b)),
                "pod B's events, labelled as pod B"
            );
            for (_, e) in t.opening(&mb) {
                assert_eq!(t.now(e).unwrap().label(), format!("{ns_b}/{pod_b}/worker"));
            }
            let own = t.seen.iter().find(|(_, e)| e.comm() == "containerd");
            let own = t.now(&own.expect("the node's containerd").1).unwrap();
            assert_eq!(own.name.as_deref(), Some(node.name.as_str()));
            assert!(
                own.pod.is_none(),
                "the node's own process is no pod: {own:?}"
            );
        }
    }
    drop(t);

    // The command line, as a user runs it, for the pod that was there
    // before: only its lines, labelled with its namespace and pod.
    let text = common::headless_ok(&["--duration", "3", "--pod", &format!("^{pod_b}$")]);
    let label = format!("{ns_b}/{pod_b}/");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{label}worker ")) && l.contains(&mb)),
        "{text}"
    );
    assert!(text.lines().all(|l| l.starts_with(&label)), "{text}");
    assert!(!text.contains(&ma));
}

#[test]
fn kind_node_on_this_hybrid_host() {
    pods_in_a_node(
        "kind_node_on_this_hybrid_host",
        Flavour::Kind,
        Layout::Hybrid,
    );
}

#[test]
fn k3d_node_with_a_cgroup2_only_view() {
    pods_in_a_node(
        "k3d_node_with_a_cgroup2_only_view",
        Flavour::K3s,
        Layout::V2,
    );
}
