//! What the runtimes' own files say about a container, parsed: OCI bundle
//! annotations (containerd, CRI-O), podman's containers.json and pod list,
//! docker's config.v2.json. Pure: text in, names out, so it is fuzzed
//! (fuzz/fuzz_targets/metadata.rs); the resolver (`names.rs`) does the I/O.

use std::collections::HashMap;

use serde::Deserialize;

use super::path::PathMatch;
use crate::model::container::{ContainerInfo, PodInfo, Runtime};
use crate::model::escape;

/// What one source knows; sources fill in what earlier ones left open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub container: Option<String>,
    pub image: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub pod_uid: Option<String>,
    pub sandbox_id: Option<String>,
    pub sandbox: bool,
    /// The runtime as the CRI names itself ("containerd", "cri-o").
    pub runtime_name: Option<String>,
    /// A docker compose service (its project goes into `pod`).
    pub service: Option<String>,
}

impl Names {
    /// Takes the fields `other` knows and `self` does not.
    pub fn fill(&mut self, other: Names) {
        fn f(a: &mut Option<String>, b: Option<String>) {
            if a.is_none() {
                *a = b;
            }
        }
        f(&mut self.container, other.container);
        f(&mut self.image, other.image);
        f(&mut self.pod, other.pod);
        f(&mut self.namespace, other.namespace);
        f(&mut self.pod_uid, other.pod_uid);
        f(&mut self.sandbox_id, other.sandbox_id);
        f(&mut self.runtime_name, other.runtime_name);
        f(&mut self.service, other.service);
        self.sandbox |= other.sandbox;
    }

    pub(super) fn complete(&self, want_pod: bool) -> bool {
        self.container.is_some() && (!want_pod || self.pod.is_some())
    }
}

fn get(m: &HashMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| m.get(*k))
        .filter(|v| !v.is_empty())
        .cloned()
}

/// Names from OCI config.json annotations, as containerd's CRI plugin
/// (`io.kubernetes.cri.*`), CRI-O (`io.kubernetes.*`, `io.kubernetes.cri-o.*`)
/// and podman (`io.kubernetes.cri-o.ContainerType`) write them.
pub fn from_annotations(a: &HashMap<String, String>) -> Names {
    let kind = get(
        a,
        &[
            "io.kubernetes.cri.container-type",
            "io.kubernetes.cri-o.ContainerType",
        ],
    );
    let sandbox = kind.as_deref() == Some("sandbox");
    Names {
        container: get(
            a,
            &[
                "io.kubernetes.cri.container-name",
                "io.kubernetes.container.name",
            ],
        )
        .or_else(|| sandbox.then(|| "POD".to_string())),
        image: get(
            a,
            &[
                "io.kubernetes.cri.image-name",
                "io.kubernetes.cri-o.ImageName",
            ],
        ),
        pod: get(
            a,
            &["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"],
        ),
        namespace: get(
            a,
            &[
                "io.kubernetes.cri.sandbox-namespace",
                "io.kubernetes.pod.namespace",
            ],
        ),
        pod_uid: get(
            a,
            &["io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"],
        ),
        sandbox_id: get(
            a,
            &[
                "io.kubernetes.cri.sandbox-id",
                "io.kubernetes.cri-o.SandboxID",
            ],
        ),
        sandbox,
        runtime_name: None,
        service: None,
    }
}

#[derive(Deserialize)]
struct OciSpec {
    #[serde(default)]
    annotations: HashMap<String, String>,
}

/// Annotations of an OCI bundle's config.json text.
pub fn oci_annotations(json: &str) -> Option<HashMap<String, String>> {
    serde_json::from_str::<OciSpec>(json)
        .ok()
        .map(|s| s.annotations)
}

#[derive(Deserialize)]
struct PodmanContainer {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    metadata: String,
}

#[derive(Deserialize, Default)]
struct PodmanMetadata {
    #[serde(rename = "image-name", default)]
    image_name: Option<String>,
}

/// Name and image of container `id` in podman's (containers/storage)
/// containers.json.
pub fn podman_containers_json(json: &str, id: &str) -> Option<Names> {
    let list: Vec<PodmanContainer> = serde_json::from_str(json).ok()?;
    let c = list.into_iter().find(|c| c.id == id)?;
    let md: PodmanMetadata = serde_json::from_str(&c.metadata).unwrap_or_default();
    Some(Names {
        container: c.names.into_iter().next(),
        image: md.image_name,
        ..Default::default()
    })
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Config", default)]
    config: Option<DockerInner>,
}

#[derive(Deserialize)]
struct DockerInner {
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "Labels", default)]
    labels: Option<HashMap<String, String>>,
}

/// Names from docker's /var/lib/docker/containers/<id>/config.v2.json
/// (Kubernetes labels too, for cri-dockerd). A docker compose project is
/// the container's pod (so `--pod` selects a project), its service kept
/// beside it, from the labels compose sets (v1 and v2 alike).
pub fn docker_config_v2(json: &str) -> Option<Names> {
    let c: DockerConfig = serde_json::from_str(json).ok()?;
    let mut n = Names {
        container: Some(c.name.trim_start_matches('/').to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    if let Some(inner) = c.config {
        n.image = Some(inner.image).filter(|s| !s.is_empty());
        if let Some(l) = inner.labels {
            let k = from_annotations(&l);
            n.pod = k.pod;
            n.namespace = k.namespace;
            n.pod_uid = k.pod_uid;
            if n.pod.is_none() {
                n.pod = get(&l, &["com.docker.compose.project"]);
                n.service = n
                    .pod
                    .is_some()
                    .then(|| get(&l, &["com.docker.compose.service"]))
                    .flatten();
            }
        }
    }
    Some(n)
}

/// `podman pod ps --no-trunc --format '{{.ID}}\t{{.Name}}'` output: pod
/// id -> name. Lines that are not a 64-hex id and a name are skipped.
pub fn podman_pod_list(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (id, name) = l.trim().split_once('\t')?;
            let ok = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
            let name = name.trim();
            (ok && !name.is_empty()).then(|| (id.to_string(), name.to_string()))
        })
        .collect()
}

/// Builds the container record; every name is escaped here, once.
pub fn info_from(m: &PathMatch, runtime: Runtime, n: Names) -> ContainerInfo {
    let esc = |s: Option<String>| s.map(|s| escape::plain_str(&s, 253));
    let mut c = ContainerInfo::new(&m.id, runtime);
    c.name = esc(n.container);
    c.image = esc(n.image);
    c.sandbox = n.sandbox;
    c.service = esc(n.service);
    let pod = PodInfo {
        name: esc(n.pod),
        namespace: esc(n.namespace),
        uid: esc(n.pod_uid.or_else(|| m.pod_uid.clone())),
        id: esc(n.sandbox_id.or_else(|| m.pod_id.clone())),
    };
    if pod != PodInfo::default() {
        c.pod = Some(pod);
    }
    c.resolved = true;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_cri_annotations() {
        let json = r#"{"ociVersion":"1.0.2","annotations":{
            "io.kubernetes.cri.container-type":"container",
            "io.kubernetes.cri.container-name":"app",
            "io.kubernetes.cri.image-name":"docker.io/library/busybox:latest",
            "io.kubernetes.cri.sandbox-name":"checkout-7d9f",
            "io.kubernetes.cri.sandbox-namespace":"shop",
            "io.kubernetes.cri.sandbox-uid":"u-1",
            "io.kubernetes.cri.sandbox-id":"abc"}}"#;
        let n = from_annotations(&oci_annotations(json).unwrap());
        assert_eq!(n.container.as_deref(), Some("app"));
        assert_eq!(n.pod.as_deref(), Some("checkout-7d9f"));
        assert_eq!(n.namespace.as_deref(), Some("shop"));
        assert_eq!(n.pod_uid.as_deref(), Some("u-1"));
        assert_eq!(n.image.as_deref(), Some("docker.io/library/busybox:latest"));
        assert!(!n.sandbox);
        let sb = r#"{"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-name":"p"}}"#;
        let n = from_annotations(&oci_annotations(sb).unwrap());
        assert!(n.sandbox);
        assert_eq!(n.container.as_deref(), Some("POD"));
    }

    #[test]
    fn crio_annotations() {
        let json = r#"{"annotations":{"io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"default",
            "io.kubernetes.container.name":"nginx","io.kubernetes.cri-o.ContainerType":"container"}}"#;
        let n = from_annotations(&oci_annotations(json).unwrap());
        assert_eq!(
            (
                n.pod.as_deref(),
                n.namespace.as_deref(),
                n.container.as_deref()
            ),
            (Some("web-0"), Some("default"), Some("nginx"))
        );
    }

    #[test]
    fn podman_storage_and_docker_config() {
        let json = r#"[{"id":"aa","names":["dde5-infra"],"metadata":"{\"image-name\":\"localhost/podman-pause:4.3.1-0\"}"},
                      {"id":"bb","names":["web"],"metadata":"{\"image-name\":\"localhost/local/busybox:latest\",\"name\":\"web\"}"}]"#;
        let n = podman_containers_json(json, "bb").unwrap();
        assert_eq!(n.container.as_deref(), Some("web"));
        assert_eq!(n.image.as_deref(), Some("localhost/local/busybox:latest"));
        assert!(podman_containers_json(json, "cc").is_none());
        let d = r#"{"Name":"/redis","Config":{"Image":"redis:7","Labels":{"io.kubernetes.pod.name":"r-0"}}}"#;
        let n = docker_config_v2(d).unwrap();
        assert_eq!(n.container.as_deref(), Some("redis"));
        assert_eq!(n.image.as_deref(), Some("redis:7"));
        assert_eq!(n.pod.as_deref(), Some("r-0"));
    }

    #[test]
    fn podman_pod_list_reads_ids_and_names() {
        let id = "0".repeat(63) + "a";
        let text = format!("{id}\tshop-frontend-7c9\nnot-an-id\tx\n{id}\t\n\n");
        assert_eq!(
            podman_pod_list(&text),
            vec![(id.clone(), "shop-frontend-7c9".to_string())]
        );
    }

    #[test]
    fn names_are_escaped_once_when_built() {
        let m = super::super::path::parse(&format!("/docker/{}", "a".repeat(64))).unwrap();
        let c = info_from(
            &m,
            Runtime::Docker,
            Names {
                container: Some("evil\x1b[2J".into()),
                ..Default::default()
            },
        );
        assert_eq!(c.name.as_deref(), Some("evil\\x1b[2J"));
        assert!(c.pod.is_none());
    }
}
