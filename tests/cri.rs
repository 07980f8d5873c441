//! Root-only, real containerd with its CRI plugin, started by the test with
//! its own config, root, state and socket. Pods and containers are made
//! through the CRI, the way a kubelet makes them.

mod common;
mod runtimes;

use std::time::Duration;

use runtimes::containerd::Containerd;
use runtimes::{opener, Traced};
use systrace_tui::model::container::Runtime;
use systrace_tui::model::filter::Filter;
use systrace_tui::model::selection::Selection;
use systrace_tui::model::syscalls::Arch;
use systrace_tui::source::topology::names::{Resolver, Sources};
use systrace_tui::source::topology::{cgroups, path};

#[test]
fn cri_pods_resolve_and_filter_in_the_kernel() {
    if !common::require_root("cri_pods_resolve_and_filter_in_the_kernel") {
        return;
    }
    let u = format!("{:x}", std::process::id());
    let mut ctd = Containerd::start(&format!("cri-{u}"));
    let (ma, mb) = (format!("/m-checkout-{u}"), format!("/m-payments-{u}"));
    let pod_a = format!("checkout-6b7c9d-{u}");
    let pod_b = format!("payments-84f5c-{u}");
    let (ns_a, ns_b) = (format!("shop-{u}"), format!("bank-{u}"));
    let id_a = ctd.pod(&pod_a, &ns_a, "app", &opener(&ma));
    let id_b = ctd.pod(&pod_b, &ns_b, "worker", &opener(&mb));

    let sources = ctd.sources();
    let traced = |sel: Option<Selection>| Traced::with(&sources, sel);

    // --pod: only pod A's events arrive, and they carry its names.
    let re_a = format!("^{pod_a}$");
    let mut t = traced(Selection::new(Some(&re_a), None, None, false).unwrap());
    assert!(
        t.pump_until(Duration::from_secs(20), |t| !t.opening(&ma).is_empty()),
        "pod A's events: {}",
        ctd.log()
    );
    t.pump_until(Duration::from_secs(2), |_| false);
    assert!(t.opening(&mb).is_empty(), "pod B's events are absent");
    let c = t.now(&t.opening(&ma)[0].1).unwrap();
    assert_eq!(c.id, id_a);
    assert_eq!(c.runtime, Runtime::ContainerdCri);
    assert_eq!(c.name.as_deref(), Some("app"));
    assert_eq!(c.pod_name(), Some(pod_a.as_str()));
    assert_eq!(c.namespace(), Some(ns_a.as_str()));
    assert_eq!(c.label(), format!("{ns_a}/{pod_a}/app"));
    assert!(c.pod.as_ref().unwrap().uid.is_some());
    for (_, e) in t.seen_old() {
        let c = t.now(e).expect("no host events under --pod");
        assert_eq!(c.pod_name(), Some(pod_a.as_str()));
    }
    drop(t);

    // --namespace: now only pod B.
    let re_b = format!("^{ns_b}$");
    let mut t = traced(Selection::new(None, Some(&re_b), None, false).unwrap());
    assert!(t.pump_until(Duration::from_secs(20), |t| !t.opening(&mb).is_empty()));
    t.pump_until(Duration::from_secs(2), |_| false);
    assert!(t.opening(&ma).is_empty(), "pod A's events are absent");
    let c = t.now(&t.opening(&mb)[0].1).unwrap();
    assert_eq!(
        (c.id.as_str(), c.name.as_deref()),
        (id_b.as_str(), Some("worker"))
    );
    assert_eq!(c.label(), format!("{ns_b}/{pod_b}/worker"));
    drop(t);

    // --filter: its tests on pod and container names become the same
    // in-kernel set (here pod A, by an expression that also names a syscall).
    let expr = format!("pod == '{pod_a}' and container ~ '^app$' and syscall == openat");
    let pred = Filter::parse(&expr)
        .unwrap()
        .pushdown(Arch::native(), 1024)
        .containers;
    assert!(pred.is_some(), "{expr}: container tests pushed down");
    let mut t = traced(Selection::with_filter(None, pred));
    assert!(t.pump_until(Duration::from_secs(20), |t| !t.opening(&ma).is_empty()));
    t.pump_until(Duration::from_secs(2), |_| false);
    assert!(t.opening(&mb).is_empty(), "pod B's events are absent");
    for (_, e) in t.seen_old() {
        let c = t.now(e).expect("no host events under a pod filter");
        assert_eq!(c.pod_name(), Some(pod_a.as_str()));
    }
    drop(t);

    // The cgroup tree knows pod A's container by its id, in the kubelet's
    // cgroupfs layout.
    let mut tree = cgroups::CgroupTree::discover().unwrap();
    tree.rescan().unwrap();
    let v2 = tree
        .paths()
        .values()
        .find(|p| p.ends_with(&id_a))
        .expect("container cgroup in the v2 tree")
        .clone();
    assert!(v2.starts_with("/kubepods/besteffort/pod"), "{v2}");
    let m = path::parse(&v2).unwrap_or_else(|| panic!("not a container path: {v2}"));
    assert_eq!(m.id, id_a);
    // Without the CRI socket, the OCI bundle annotations give the same names.
    let mut r = Resolver::new(Sources {
        cri_sockets: vec![],
        containerd_state: vec![ctd.state()],
        podman_cli: false,
        ..Default::default()
    });
    let c = r.resolve(&m, None);
    assert_eq!(c.label(), format!("{ns_a}/{pod_a}/app"));
}

/// `--pod P` keeps the calls of a pod made while tracing whose container
/// opens its marker once and exits: its cgroups are new to the kernel
/// filter, and its events arrive already labelled with the pod.
#[test]
fn a_short_lived_container_of_a_new_pod_is_kept_by_its_selection() {
    if !common::require_root("a_short_lived_container_of_a_new_pod_is_kept_by_its_selection") {
        return;
    }
    let u = format!("{:x}", std::process::id());
    let mut ctd = Containerd::start(&format!("crishort-{u}"));
    let sources = ctd.sources();
    let (pod, ns, marker) = (
        format!("batch-4c5d-{u}"),
        format!("jobs-{u}"),
        format!("/m-once-{u}"),
    );
    let re = format!("^{pod}$");
    let mut t = Traced::with(
        &sources,
        Selection::new(Some(&re), None, None, false).unwrap(),
    );
    let id = ctd.pod(
        &pod,
        &ns,
        "once",
        &format!("cat {marker} 2>/dev/null; exit 0"),
    );
    assert!(
        t.pump_until(Duration::from_secs(20), |t| !t.opening(&marker).is_empty()),
        "the short container's open: {}",
        ctd.log()
    );
    let (at_arrival, _) = t.opening(&marker)[0];
    let c = at_arrival
        .as_ref()
        .expect("labelled as a container on arrival");
    assert_eq!(c.id, id);
    assert_eq!(c.name.as_deref(), Some("once"));
    assert_eq!(c.pod_name(), Some(pod.as_str()), "{c:?}");
}
