//! Root-only, real podman: a pod named like a Kubernetes pod with two
//! containers, a container outside it, and a second pod.

mod common;
mod runtimes;

use std::time::Duration;

use runtimes::{opener, Podman, Traced};
use systrace_tui::model::container::Runtime;
use systrace_tui::model::selection::Selection;
use systrace_tui::source::topology::TopologyOptions;

/// A short token that keeps names of parallel runs apart.
fn token() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id();
    format!("{:06x}", n & 0xff_ffff)
}

#[test]
fn podman_pod_names_resolve_and_containers_come_and_go() {
    if !common::require_root("podman_pod_names_resolve_and_containers_come_and_go") {
        return;
    }
    let u = token();
    let mut pm = Podman::new(&format!("names-{u}"));
    let pod = format!("checkout-7d9f8b6c5-{u}");
    pm.pod(&pod);
    let (web, db, solo) = (format!("web-{u}"), format!("db-{u}"), format!("solo-{u}"));
    let (mw, md, ms) = (
        format!("/m-web-{u}"),
        format!("/m-db-{u}"),
        format!("/m-solo-{u}"),
    );
    pm.run(&web, Some(&pod), &opener(&mw));
    pm.run(&db, Some(&pod), &opener(&md));
    pm.run(&solo, None, &opener(&ms));

    let mut t = Traced::start(TopologyOptions::default());
    let named = |t: &Traced, marker: &str, name: &str| {
        t.opening(marker)
            .iter()
            .any(|(_, e)| t.now(e).is_some_and(|c| c.name.as_deref() == Some(name)))
    };
    assert!(
        t.pump_until(Duration::from_secs(20), |t| {
            named(t, &mw, &web)
                && named(t, &md, &db)
                && named(t, &ms, &solo)
                && t.adds
                    .iter()
                    .any(|c| c.sandbox && c.pod_name() == Some(pod.as_str()))
        }),
        "events of all three containers, with names, and the pod's infra container"
    );
    for (marker, name) in [(&mw, &web), (&md, &db)] {
        let evs = t.opening(marker);
        let c = t.now(&evs[0].1).unwrap();
        assert_eq!(c.name.as_deref(), Some(name.as_str()));
        assert_eq!(c.pod_name(), Some(pod.as_str()), "{c:?}");
        assert_eq!(c.namespace(), None, "podman pods have no namespace");
        assert_eq!(c.runtime, Runtime::Podman);
        assert_eq!(c.image.as_deref(), Some(pm.image.as_str()));
        assert_eq!(c.label(), format!("{pod}/{name}"));
        // Every event of that marker came from that one container.
        assert!(evs.iter().all(|(_, e)| t.now(e).unwrap().id == c.id));
    }
    let solo_c = t.now(&t.opening(&ms)[0].1).unwrap();
    assert_eq!(solo_c.pod, None);
    assert_eq!(solo_c.label(), solo);
    // A container that starts while tracing, opens its marker, and exits.
    let short = format!("short-{u}");
    let mshort = format!("/m-short-{u}");
    let id = pm.run(
        &short,
        Some(&pod),
        &format!("cat {mshort} 2>/dev/null; exit 0"),
    );
    assert!(
        t.pump_until(Duration::from_secs(20), |t| {
            t.dels.iter().any(|c| c.id == id)
        }),
        "ContainerDel for the exited container"
    );
    let del = t.dels.iter().find(|c| c.id == id).unwrap();
    assert_eq!(del.runtime, Runtime::Podman);
    assert!(t.adds.iter().any(|c| c.id == id), "it was added before");
    let opens = t.opening(&mshort);
    assert_eq!(opens.len(), 1, "its one open was seen");
    let at_arrival = opens[0]
        .0
        .as_ref()
        .expect("labelled as a container on arrival");
    assert_eq!(at_arrival.id, id);
}

#[test]
fn pod_filter_is_applied_in_the_kernel() {
    if !common::require_root("pod_filter_is_applied_in_the_kernel") {
        return;
    }
    let u = token();
    let mut pm = Podman::new(&format!("filter-{u}"));
    let pod = format!("checkout-5c6d7f-{u}");
    let other = format!("payments-5c6d7f-{u}");
    pm.pod(&pod);
    pm.pod(&other);
    let (mw, md, mo) = (
        format!("/m-web-{u}"),
        format!("/m-db-{u}"),
        format!("/m-pay-{u}"),
    );
    pm.run(&format!("web-{u}"), Some(&pod), &opener(&mw));
    pm.run(&format!("db-{u}"), Some(&pod), &opener(&md));
    pm.run(&format!("pay-{u}"), Some(&other), &opener(&mo));

    let re = format!("^checkout-5c6d7f-{u}$");
    let sel = Selection::new(Some(&re), None, None, false).unwrap();
    let mut t = Traced::start(TopologyOptions {
        selection: sel,
        ..Default::default()
    });
    // A container that joins the pod after tracing started is picked up.
    let ml = format!("/m-late-{u}");
    pm.run(&format!("late-{u}"), Some(&pod), &opener(&ml));
    assert!(t.pump_until(Duration::from_secs(20), |t| {
        !t.opening(&mw).is_empty() && !t.opening(&md).is_empty() && !t.opening(&ml).is_empty()
    }));
    // Two more seconds of the other pod running next to it.
    t.pump_until(Duration::from_secs(2), |_| false);
    assert!(
        t.opening(&mo).is_empty(),
        "the other pod's events never arrived"
    );
    assert!(!t.seen.is_empty());
    for (_, e) in t.opening(&ml) {
        assert_eq!(t.now(e).unwrap().pod_name(), Some(pod.as_str()));
    }
    for (_, e) in t.seen_old() {
        let c = t.now(e).unwrap_or_else(|| {
            panic!(
                "an event from outside any container arrived: {}[{}]",
                e.comm(),
                e.id.pid
            )
        });
        assert_eq!(c.pod_name(), Some(pod.as_str()), "{c:?}");
    }
    drop(t);

    // The same through the command line: every line is labelled with the pod.
    let text = common::headless_ok(&["--duration", "2", "--pod", &re]);
    assert!(text
        .lines()
        .any(|l| l.starts_with(&format!("{pod}/web-{u} ")) && l.contains(&mw)));
    assert!(text
        .lines()
        .any(|l| l.starts_with(&format!("{pod}/db-{u} ")) && l.contains(&md)));
    assert!(
        text.lines().all(|l| l.starts_with(&format!("{pod}/"))),
        "{text}"
    );
    assert!(!text.contains(&mo));
}

/// A container that joins a pod that existed before tracing started is
/// labelled with the pod from its first named line. (The tracer gives up
/// the privileges podman needs once it is attached, so a pod name it did
/// not learn before could only come from the container's hostname, which
/// a just-started container does not have yet.)
#[test]
fn a_container_started_in_an_existing_pod_gets_the_pod_name() {
    if !common::require_root("a_container_started_in_an_existing_pod_gets_the_pod_name") {
        return;
    }
    let u = token();
    let mut pm = Podman::new(&format!("latejoin-{u}"));
    let pod = format!("shop-frontend-7c9-{u}");
    pm.pod(&pod);
    let (early, late) = (format!("early-{u}"), format!("late-{u}"));
    let (me, ml) = (format!("/m-early-{u}"), format!("/m-late-{u}"));
    pm.run(&early, Some(&pod), &opener(&me));
    let filter = format!("path == '{me}' or path == '{ml}'");
    let mut h = common::Lines::start(&["--filter", &filter]);
    let early_label = format!("{pod}/{early} ");
    assert!(
        h.until(Duration::from_secs(20), |l| l.starts_with(&early_label)),
        "the container there before: {}",
        h.tail()
    );
    pm.run(&late, Some(&pod), &opener(&ml));
    let late_label = format!("{pod}/{late} ");
    assert!(
        h.until(Duration::from_secs(20), |l| l.starts_with(&late_label)
            && l.contains(&ml)),
        "the late container labelled with its pod: {}",
        h.tail()
    );
    let bare = format!("{late} ");
    assert!(
        !h.seen.iter().any(|l| l.starts_with(&bare)),
        "named without its pod: {}",
        h.tail()
    );
}

/// A pod made while tracing: its name is not known at start, and the first
/// lookup of its container may come before the container's process has
/// entered the pod. The pod name still arrives (a later lookup asks again
/// while it is missing).
#[test]
fn a_container_in_a_pod_made_while_tracing_gets_the_pod_name() {
    if !common::require_root("a_container_in_a_pod_made_while_tracing_gets_the_pod_name") {
        return;
    }
    let u = token();
    let mut pm = Podman::new(&format!("newpod-{u}"));
    let ml = format!("/m-newpod-{u}");
    let filter = format!("path == '{ml}'");
    let mut h = common::Lines::start(&["--filter", &filter]);
    let (pod, late) = (format!("cart-5f6d-{u}"), format!("late-{u}"));
    pm.pod(&pod);
    pm.run(&late, Some(&pod), &opener(&ml));
    let label = format!("{pod}/{late} ");
    assert!(
        h.until(Duration::from_secs(20), |l| l.starts_with(&label)
            && l.contains(&ml)),
        "the container labelled with its pod: {}",
        h.tail()
    );
}

/// Runs a container that opens `marker` once and exits, removed as it
/// exits (`--rm`): it is gone before a lookup after the fact could name it.
fn run_short(pm: &mut Podman, name: &str, pod: &str, marker: &str) {
    pm.adopt(name);
    runtimes::run(pm.cmd().args([
        "run",
        "--rm",
        "--network",
        "none",
        "--pod",
        pod,
        "--name",
        name,
        &pm.image,
        "/bin/sh",
        "-c",
        &format!("cat {marker} 2>/dev/null; exit 0"),
    ]));
}

/// `--pod P` keeps the calls of a container of P that starts and exits
/// while tracing, before any walk of the cgroup tree could see it: the
/// kernel filter lets new cgroups through until they are looked at, and
/// its events wait for its names.
#[test]
fn a_short_lived_container_is_kept_by_its_pods_selection() {
    if !common::require_root("a_short_lived_container_is_kept_by_its_pods_selection") {
        return;
    }
    let u = token();
    let mut pm = Podman::new(&format!("shortpod-{u}"));
    let pod = format!("billing-6b7c-{u}");
    pm.pod(&pod);
    let re = format!("^{pod}$");
    let mut h = common::Lines::start(&["--pod", &re]);
    // Three in a row: one may by chance live until a walk of the tree
    // would have seen it anyway.
    for i in 0..3 {
        let (name, marker) = (format!("short{i}-{u}"), format!("/m-short{i}-{u}"));
        run_short(&mut pm, &name, &pod, &marker);
        let label = format!("{pod}/{name} ");
        assert!(
            h.until(Duration::from_secs(20), |l| l.starts_with(&label)
                && l.contains(&marker)),
            "short container {i}'s open, under its pod: {}",
            h.tail()
        );
    }
}

/// A short container in a pod made while tracing is labelled with its pod
/// from its first line, although podman cannot be asked any more and the
/// container is gone before a later lookup.
#[test]
fn a_short_container_in_a_pod_made_while_tracing_is_never_shown_without_it() {
    if !common::require_root(
        "a_short_container_in_a_pod_made_while_tracing_is_never_shown_without_it",
    ) {
        return;
    }
    let u = token();
    let mut pm = Podman::new(&format!("shortnew-{u}"));
    let marker = format!("/m-shortnew-{u}");
    let filter = format!("path == '{marker}'");
    let mut h = common::Lines::start(&["--filter", &filter]);
    let (pod, name) = (format!("cart-8e9f-{u}"), format!("once-{u}"));
    pm.pod(&pod);
    run_short(&mut pm, &name, &pod, &marker);
    assert!(
        h.until(Duration::from_secs(20), |l| l.contains(&marker)),
        "its open: {}",
        h.tail()
    );
    let line = h.seen.iter().find(|l| l.contains(&marker)).unwrap();
    assert!(
        line.starts_with(&format!("{pod}/{name} ")),
        "labelled without its pod: {line}"
    );
}
