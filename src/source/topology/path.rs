//! Cgroup path -> runtime + container id. Pure string work, table-driven:
//! each rule looks at one path segment (and its parent) and says whether
//! it is a container's cgroup. Segments are tried from the leaf up, so a
//! process in a sub-cgroup of a container (systemd inside it, a nested
//! runtime) is attributed to the innermost container.

use std::borrow::Cow;

use crate::model::container::Runtime;

/// What a cgroup path says about its container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMatch {
    pub runtime: Runtime,
    /// Full container id (64 hex digits).
    pub id: String,
    /// Kubernetes pod uid (dashes restored), from `pod<uid>` segments.
    pub pod_uid: Option<String>,
    /// podman pod id, from `/libpod_parent/<pod id>/` or
    /// `machine-libpod_pod_<pod id>.slice`.
    pub pod_id: Option<String>,
    /// containerd namespace for nerdctl/ctr containers (`/<ns>/<id>`).
    pub namespace: Option<String>,
    /// The container's own cgroup (the path up to and including the
    /// matching segment).
    pub container_cgroup: String,
    /// The container this one runs inside, when the path has one above it:
    /// a kind, minikube or k3d node (docker or podman) holding this pod.
    pub node: Option<NodeMatch>,
}

/// The outer container of a nested one (a local cluster's node).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeMatch {
    pub runtime: Runtime,
    pub id: String,
    /// The node container's own cgroup.
    pub cgroup: String,
}

/// Outcome of one rule on one segment.
enum Rule {
    /// Not this rule.
    No,
    /// A container: runtime and id.
    Container(Runtime, String),
    /// A segment that must not be taken for a container (conmon monitors,
    /// podman pod directories): the path belongs to the host.
    Stop,
}

type RuleFn = fn(seg: &str, parent: &str) -> Rule;

/// The rules, in order. The first that says something about a segment wins.
const RULES: &[(&str, RuleFn)] = &[
    ("cri-o conmon", |s, _| {
        if s.starts_with("crio-conmon-") || s.starts_with("libpod-conmon-") {
            Rule::Stop
        } else {
            Rule::No
        }
    }),
    ("docker systemd", |s, _| {
        scope(s, "docker-", Runtime::Docker)
    }),
    ("containerd CRI systemd", |s, _| {
        scope(s, "cri-containerd-", Runtime::ContainerdCri)
    }),
    ("cri-o systemd", |s, _| scope(s, "crio-", Runtime::CriO)),
    ("podman systemd", |s, _| {
        scope(s, "libpod-", Runtime::Podman)
    }),
    ("podman cgroupfs", |s, _| match s.strip_prefix("libpod-") {
        Some(id) if is_id(id) => Rule::Container(Runtime::Podman, id.to_string()),
        _ => Rule::No,
    }),
    ("nerdctl systemd", |s, _| {
        scope(s, "nerdctl-", Runtime::Containerd)
    }),
    // Bare ids: what the parent is says whose they are.
    ("bare id", |s, parent| {
        if !is_id(s) {
            return Rule::No;
        }
        if parent == "libpod_parent" {
            // A podman pod's directory, not a container.
            return Rule::Stop;
        }
        let rt = if parent == "docker" {
            Runtime::Docker
        } else if pod_uid(parent).is_some() {
            // cgroupfs kubelet layout (`/kubepods/<qos>/pod<uid>/<id>`, k3s
            // too). containerd or CRI-O cannot be told from the path; the
            // resolver corrects it from whichever CRI socket knows the id.
            Runtime::ContainerdCri
        } else {
            // nerdctl / ctr with cgroupfs: `/<containerd namespace>/<id>`.
            Runtime::Containerd
        };
        Rule::Container(rt, s.to_string())
    }),
];

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<prefix><64 hex>.scope`
fn scope(seg: &str, prefix: &str, rt: Runtime) -> Rule {
    match seg
        .strip_prefix(prefix)
        .and_then(|r| r.strip_suffix(".scope"))
    {
        Some(id) if is_id(id) => Rule::Container(rt, id.to_string()),
        _ => Rule::No,
    }
}

/// Undoes systemd's unit-name escaping (`\x2d` is `-`).
pub fn unescape(seg: &str) -> Cow<'_, str> {
    if !seg.contains("\\x") {
        return Cow::Borrowed(seg);
    }
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 2..i + 4])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The Kubernetes pod uid in a segment: `pod<uid>` (cgroupfs) or
/// `kubepods[-<qos>]-pod<uid with _>.slice` (systemd).
fn pod_uid(seg: &str) -> Option<String> {
    let uid = if let Some(rest) = seg.strip_suffix(".slice") {
        if !rest.contains("kubepods") {
            return None;
        }
        rest.rsplit_once("-pod")?.1
    } else {
        seg.strip_prefix("pod")?
    };
    let ok = uid.len() >= 32
        && uid
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'_');
    ok.then(|| uid.replace('_', "-"))
}

/// The podman pod id in a segment: a parent directory under
/// `libpod_parent`, or `machine-libpod_pod_<id>.slice` (systemd).
fn podman_pod_id(seg: &str, parent: &str) -> Option<String> {
    if parent == "libpod_parent" && is_id(seg) {
        return Some(seg.to_string());
    }
    let id = seg.strip_suffix(".slice")?.rsplit_once("libpod_pod_")?.1;
    is_id(id).then(|| id.to_string())
}

/// Parses a cgroup path (relative to the cgroup mount, as in
/// /proc/PID/cgroup; v1 and v2 paths alike). None: not a container.
pub fn parse(path: &str) -> Option<PathMatch> {
    let segs: Vec<Cow<'_, str>> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(unescape)
        .collect();
    for i in (0..segs.len()).rev() {
        let parent = if i > 0 { segs[i - 1].as_ref() } else { "" };
        for (_, rule) in RULES {
            match rule(&segs[i], parent) {
                Rule::No => continue,
                Rule::Stop => return None,
                Rule::Container(runtime, id) => {
                    let ancestors = &segs[..i];
                    let pod_uid = ancestors.iter().rev().find_map(|s| pod_uid(s));
                    let pod_id = (runtime == Runtime::Podman)
                        .then(|| {
                            ancestors.iter().enumerate().rev().find_map(|(j, s)| {
                                let p = if j > 0 { ancestors[j - 1].as_ref() } else { "" };
                                podman_pod_id(s, p)
                            })
                        })
                        .flatten();
                    let namespace = (runtime == Runtime::Containerd
                        && !parent.is_empty()
                        && !parent.ends_with(".slice"))
                    .then(|| parent.to_string());
                    let container_cgroup = container_prefix(path, i + 1);
                    let node = outer(path, &segs[..i]).filter(|n| n.id != id);
                    return Some(PathMatch {
                        runtime,
                        id,
                        pod_uid,
                        pod_id,
                        namespace,
                        container_cgroup,
                        node,
                    });
                }
            }
        }
    }
    None
}

/// The innermost container among `segs` (the segments above a container):
/// the node it runs in. A segment the rules stop at (a podman pod's
/// directory) ends the search: what is above it is no node.
fn outer(path: &str, segs: &[Cow<'_, str>]) -> Option<NodeMatch> {
    for j in (0..segs.len()).rev() {
        let parent = if j > 0 { segs[j - 1].as_ref() } else { "" };
        for (_, rule) in RULES {
            match rule(&segs[j], parent) {
                Rule::No => continue,
                Rule::Stop => return None,
                Rule::Container(runtime, id) => {
                    return Some(NodeMatch {
                        runtime,
                        id,
                        cgroup: container_prefix(path, j + 1),
                    })
                }
            }
        }
    }
    None
}

/// The first `n` non-empty segments of `path`, as written (escapes kept).
fn container_prefix(path: &str, n: usize) -> String {
    let mut out = String::new();
    for s in path.split('/').filter(|s| !s.is_empty()).take(n) {
        out.push('/');
        out.push_str(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    const UID: &str = "8a0bd4c3-29f4-4e0c-8f0a-5f2b1a9c0d11";

    struct Case {
        shape: &'static str,
        path: String,
        want: Option<(Runtime, &'static str, Option<&'static str>)>,
    }

    fn cases() -> Vec<Case> {
        let uid_ = UID.replace('-', "_");
        let c = |shape, path: String, want| Case { shape, path, want };
        vec![
            c("docker systemd", format!("/system.slice/docker-{A}.scope"), Some((Runtime::Docker, A, None))),
            c("docker cgroupfs", format!("/docker/{A}"), Some((Runtime::Docker, A, None))),
            c(
                "docker cgroupfs, v1 line with systemd inside the container",
                format!("/docker/{A}/init.scope"),
                Some((Runtime::Docker, A, None)),
            ),
            c(
                "containerd CRI systemd besteffort",
                format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid_}.slice/cri-containerd-{A}.scope"),
                Some((Runtime::ContainerdCri, A, Some(UID))),
            ),
            c(
                "containerd CRI systemd guaranteed (no qos slice)",
                format!("/kubepods.slice/kubepods-pod{uid_}.slice/cri-containerd-{A}.scope"),
                Some((Runtime::ContainerdCri, A, Some(UID))),
            ),
            c(
                "containerd CRI cgroupfs",
                format!("/kubepods/burstable/pod{UID}/{A}"),
                Some((Runtime::ContainerdCri, A, Some(UID))),
            ),
            c(
                "k3s cgroupfs",
                format!("/kubepods/besteffort/pod{UID}/{A}"),
                Some((Runtime::ContainerdCri, A, Some(UID))),
            ),
            c(
                "kind: CRI pod inside a docker node container",
                format!("/system.slice/docker-{B}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{uid_}.slice/cri-containerd-{A}.scope"),
                Some((Runtime::ContainerdCri, A, Some(UID))),
            ),
            c(
                "cri-o systemd",
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/crio-{A}.scope"),
                Some((Runtime::CriO, A, Some(UID))),
            ),
            c(
                "cri-o conmon is not the container",
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/crio-conmon-{A}.scope"),
                None,
            ),
            c("podman systemd", format!("/machine.slice/libpod-{A}.scope"), Some((Runtime::Podman, A, None))),
            c(
                "podman systemd in a pod",
                format!("/machine.slice/machine-libpod_pod_{B}.slice/libpod-{A}.scope"),
                Some((Runtime::Podman, A, None)),
            ),
            c(
                "podman systemd container payload sub-cgroup",
                format!("/machine.slice/libpod-{A}.scope/container"),
                Some((Runtime::Podman, A, None)),
            ),
            c("podman conmon", format!("/machine.slice/libpod-conmon-{A}.scope"), None),
            c("podman cgroupfs", format!("/libpod_parent/libpod-{A}"), Some((Runtime::Podman, A, None))),
            c(
                "podman cgroupfs in a pod",
                format!("/libpod_parent/{B}/libpod-{A}"),
                Some((Runtime::Podman, A, None)),
            ),
            c("podman pod directory itself", format!("/libpod_parent/{B}"), None),
            c("nerdctl cgroupfs namespace", format!("/default/{A}"), Some((Runtime::Containerd, A, None))),
            c("nerdctl systemd", format!("/system.slice/nerdctl-{A}.scope"), Some((Runtime::Containerd, A, None))),
            c(
                "systemd escape in a slice name",
                format!("/system.slice/my\\x2dapps.slice/docker-{A}.scope"),
                Some((Runtime::Docker, A, None)),
            ),
            c(
                "systemd escape inside the matching segment",
                format!("/system.slice/docker\\x2d{A}.scope"),
                Some((Runtime::Docker, A, None)),
            ),
            c("host: root", "/".into(), None),
            c("host: a service", "/system.slice/ssh.service".into(), None),
            c("host: user session", "/user.slice/user-0.slice/session-3.scope".into(), None),
            c("host: short hex is no id", "/docker/abc123".into(), None),
            c("host: upper case scope name with wrong length", format!("/docker-{}.scope", &A[..60]), None),
        ]
    }

    #[test]
    fn every_shape() {
        for c in cases() {
            let got = parse(&c.path);
            match (c.want, got) {
                (None, None) => {}
                (Some((rt, id, uid)), Some(m)) => {
                    assert_eq!(m.runtime, rt, "{}: {}", c.shape, c.path);
                    assert_eq!(m.id, id, "{}", c.shape);
                    if uid.is_some() {
                        assert_eq!(m.pod_uid.as_deref(), uid, "{}", c.shape);
                    }
                }
                (w, g) => panic!("{}: {} -> {g:?}, want {w:?}", c.shape, c.path),
            }
        }
    }

    #[test]
    fn pod_ids_namespaces_and_container_cgroup() {
        let m = parse(&format!("/libpod_parent/{B}/libpod-{A}")).unwrap();
        assert_eq!(m.pod_id.as_deref(), Some(B));
        assert_eq!(m.container_cgroup, format!("/libpod_parent/{B}/libpod-{A}"));
        let m = parse(&format!(
            "/machine.slice/machine-libpod_pod_{B}.slice/libpod-{A}.scope"
        ))
        .unwrap();
        assert_eq!(m.pod_id.as_deref(), Some(B));
        let m = parse(&format!("/k8s.io/{A}")).unwrap();
        assert_eq!(m.namespace.as_deref(), Some("k8s.io"));
        let m = parse(&format!("/docker/{A}/init.scope")).unwrap();
        assert_eq!(m.container_cgroup, format!("/docker/{A}"));
        let m = parse(&format!("/kubepods/burstable/pod{UID}/{A}")).unwrap();
        assert_eq!(m.namespace, None);
        // The kind case: the innermost container wins, and its pod uid is
        // the one from the kubelet slice (with a different prefix).
        let uid_ = UID.replace('-', "_");
        let m = parse(&format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid_}.slice/cri-containerd-{A}.scope")).unwrap();
        assert_eq!(m.pod_uid.as_deref(), Some(UID));
    }

    #[test]
    fn a_pod_inside_a_node_container_names_its_node() {
        let uid_ = UID.replace('-', "_");
        let cases = [
            (
                format!("/system.slice/docker-{B}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{uid_}.slice/cri-containerd-{A}.scope"),
                Runtime::Docker,
                format!("/system.slice/docker-{B}.scope"),
            ),
            (
                format!("/docker/{B}/kubepods/besteffort/pod{UID}/{A}"),
                Runtime::Docker,
                format!("/docker/{B}"),
            ),
            (
                format!("/libpod_parent/libpod-{B}/kubepods/besteffort/pod{UID}/{A}"),
                Runtime::Podman,
                format!("/libpod_parent/libpod-{B}"),
            ),
            (
                format!("/machine.slice/libpod-{B}.scope/container/kubepods/burstable/pod{UID}/{A}"),
                Runtime::Podman,
                format!("/machine.slice/libpod-{B}.scope"),
            ),
        ];
        for (p, rt, cg) in cases {
            let m = parse(&p).unwrap_or_else(|| panic!("{p}"));
            assert_eq!(
                (m.runtime, m.id.as_str()),
                (Runtime::ContainerdCri, A),
                "{p}"
            );
            assert_eq!(m.pod_uid.as_deref(), Some(UID), "{p}");
            let n = m.node.unwrap_or_else(|| panic!("no node: {p}"));
            assert_eq!(
                (n.runtime, n.id.as_str(), n.cgroup.as_str()),
                (rt, B, cg.as_str())
            );
            // The node's own cgroup is the node, with nothing above it.
            let nm = parse(&n.cgroup).unwrap();
            assert_eq!(nm.id, B);
            assert!(nm.node.is_none());
        }
        // Not nested: no node, also for a podman pod's directory and a
        // sub-cgroup of the same container.
        for p in [
            format!("/libpod_parent/{B}/libpod-{A}"),
            format!("/docker/{A}/init.scope"),
            format!("/kubepods/besteffort/pod{UID}/{A}"),
        ] {
            assert_eq!(parse(&p).unwrap().node, None, "{p}");
        }
    }

    #[test]
    fn unescape_restores_systemd_escapes() {
        assert_eq!(unescape("a\\x2db"), "a-b");
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("bad\\xzz"), "bad\\xzz");
        assert_eq!(unescape("end\\x2"), "end\\x2");
    }
}
