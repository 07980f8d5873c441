//! Arbitrary text as a runtime's metadata file (an OCI config.json, podman's
//! containers.json, docker's config.v2.json, `podman pod ps` output): the
//! parsers answer names or nothing, never panic, and every name they give
//! is escaped once the container record is built.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::model::container::Runtime;
use systrace_tui::source::topology::metadata::{
    docker_config_v2, from_annotations, info_from, oci_annotations, podman_containers_json,
    podman_pod_list,
};
use systrace_tui::source::topology::path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let id = "a".repeat(64);
    let m = path::parse(&format!("/docker/{id}")).expect("a docker path");
    let mut found = Vec::new();
    if let Some(a) = oci_annotations(text) {
        found.push(from_annotations(&a));
    }
    found.extend(podman_containers_json(text, &id));
    found.extend(docker_config_v2(text));
    let _ = podman_pod_list(text);
    for n in found {
        let c = info_from(&m, Runtime::Docker, n);
        for s in [c.name.as_deref(), c.image.as_deref(), c.pod_name()].into_iter().flatten() {
            assert!(!s.chars().any(|ch| ch.is_control()), "unescaped {s:?}");
        }
    }
});
