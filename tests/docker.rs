//! Root-only: containers under a real dockerd (Debian's docker.io, started
//! by the test) and a docker-compose project, named from docker's own
//! metadata and grouped by compose project and service.

mod common;
mod runtimes;

use std::time::Duration;

use runtimes::docker::Docker;
use runtimes::{opener, Traced};
use systrace_tui::model::container::Runtime;
use systrace_tui::model::selection::Selection;
use systrace_tui::source::topology::names::Sources;

#[test]
fn docker_containers_and_compose_services_are_named_and_grouped() {
    if !common::require_root("docker_containers_and_compose_services_are_named_and_grouped") {
        return;
    }
    let u = format!("{:x}", std::process::id());
    let mut dk = Docker::start(&format!("bb-{u}"));
    let m = |s: &str| format!("/d-{s}-{u}");
    let (web, worker, project) = (
        format!("web-{u}"),
        format!("worker-{u}"),
        format!("shop{u}"),
    );
    let id_web = dk.run(&web, &opener(&m("web")));
    dk.run(&worker, &opener(&m("worker")));
    dk.compose(
        &project,
        &[("api", &opener(&m("api"))), ("cache", &opener(&m("cache")))],
    );
    let sources = Sources {
        docker_root: dk.root(),
        podman_cli: false,
        ..Default::default()
    };
    let traced = |sel: Option<Selection>| Traced::with(&sources, sel);
    let named = |t: &Traced, marker: &str| {
        t.opening(marker)
            .iter()
            .any(|(_, e)| t.now(e).is_some_and(|c| c.name.is_some()))
    };

    let mut t = traced(None);
    let all = ["web", "worker", "api", "cache"].map(m);
    assert!(
        t.pump_until(Duration::from_secs(30), |t| all.iter().all(|x| named(t, x))),
        "every container's events, named: {:?}\n{}",
        t.adds,
        dk.log()
    );
    let at = |t: &Traced, marker: &str| {
        let (_, e) = t.opening(marker)[t.opening(marker).len() - 1];
        t.now(e).unwrap()
    };
    let c = at(&t, &m("web"));
    assert_eq!(c.id, id_web);
    assert_eq!(c.runtime, Runtime::Docker);
    assert_eq!(c.name.as_deref(), Some(web.as_str()));
    assert_eq!(c.image.as_deref(), Some(dk.image.as_str()));
    assert!(c.pod.is_none() && c.service.is_none());
    assert_eq!(at(&t, &m("worker")).name.as_deref(), Some(worker.as_str()));
    // Compose: project -> service -> container, from compose's own labels.
    for svc in ["api", "cache"] {
        let c = at(&t, &m(svc));
        assert_eq!(c.pod_name(), Some(project.as_str()), "{c:?}");
        assert_eq!(c.service.as_deref(), Some(svc));
        assert!(c.namespace().is_none());
        let name = c.name.as_deref().unwrap();
        assert!(name.contains(svc) && name.starts_with(&project), "{name}");
        assert_eq!(c.label(), format!("{project}/{name}"));
    }
    drop(t);

    // --pod selects a compose project, in the kernel.
    let re = format!("^{project}$");
    let mut t = traced(Selection::new(Some(&re), None, None, false).unwrap());
    assert!(t.pump_until(Duration::from_secs(20), |t| {
        named(t, &m("api")) && named(t, &m("cache"))
    }));
    t.pump_until(Duration::from_secs(1), |_| false);
    assert!(t.opening(&m("web")).is_empty() && t.opening(&m("worker")).is_empty());
    for (_, e) in t.seen_old() {
        let c = t.now(e).expect("no host events under --pod");
        assert_eq!(c.pod_name(), Some(project.as_str()));
    }
}
