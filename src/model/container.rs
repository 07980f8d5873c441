//! Containers and pods as the pipeline knows them (the seed's
//! ContainerAddEvent / ContainerDelEvent), and per-group statistics. Pure:
//! the topology module fills these from cgroups and runtime metadata.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Which runtime a container belongs to (from its cgroup path shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    Docker,
    /// containerd, through its CRI plugin (Kubernetes, kind, k3s, minikube).
    ContainerdCri,
    /// containerd without CRI (nerdctl, ctr): `/<namespace>/<id>`.
    Containerd,
    CriO,
    Podman,
}

impl Runtime {
    /// Every runtime, in the order the wire and the session file number
    /// them.
    pub const ALL: [Runtime; 5] = [
        Runtime::Docker,
        Runtime::ContainerdCri,
        Runtime::Containerd,
        Runtime::CriO,
        Runtime::Podman,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::ContainerdCri => "containerd-cri",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pod a container belongs to. Kubernetes pods have a namespace and a
/// uid; podman pods only a name and an id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PodInfo {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    /// Runtime id of the pod (CRI sandbox id, podman pod id).
    pub id: Option<String>,
}

/// One container. Names are escaped for display when they are set (they
/// come from users and runtimes, so they are untrusted strings).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContainerInfo {
    /// Full runtime id (64 hex digits for every runtime handled).
    pub id: String,
    pub runtime: Runtime,
    pub name: Option<String>,
    pub image: Option<String>,
    pub pod: Option<PodInfo>,
    /// The pod's infra / pause container.
    pub sandbox: bool,
    /// For a pod inside a local cluster's node container (kind, minikube,
    /// k3d): that node container's name (or short id).
    pub node: Option<String>,
    /// A docker compose service (the project is the pod).
    pub service: Option<String>,
    /// Names have been looked up (successfully or not): until then the
    /// container is shown by its id.
    pub resolved: bool,
}

impl ContainerInfo {
    pub fn new(id: &str, runtime: Runtime) -> ContainerInfo {
        ContainerInfo {
            id: id.to_string(),
            runtime,
            name: None,
            image: None,
            pod: None,
            sandbox: false,
            node: None,
            service: None,
            resolved: false,
        }
    }

    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }

    pub fn pod_name(&self) -> Option<&str> {
        self.pod.as_ref()?.name.as_deref()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.pod.as_ref()?.namespace.as_deref()
    }

    /// The container name, or its short id while unknown.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or_else(|| self.short_id())
    }

    /// `namespace/pod/container`, `pod/container` (podman pods) or the
    /// container name: how headless lines and stream rows label it.
    pub fn label(&self) -> String {
        match (self.namespace(), self.pod_name()) {
            (Some(ns), Some(pod)) => format!("{ns}/{pod}/{}", self.display_name()),
            (None, Some(pod)) => format!("{pod}/{}", self.display_name()),
            _ => self.display_name().to_string(),
        }
    }
}

/// A cgroup that belongs to a container appeared (or its names arrived:
/// consumers treat a repeated add for the same cgroup as an update).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerAddEvent {
    pub cgroup_id: u64,
    pub container: Arc<ContainerInfo>,
}

/// A container's cgroup is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerDelEvent {
    pub cgroup_id: u64,
    pub container: Arc<ContainerInfo>,
}

/// The label of processes outside any container.
pub const HOST: &str = "host";

/// Which container each cgroup belongs to, as learnt from add/del events.
/// Cgroups not in the map are the host.
#[derive(Debug, Default, Clone)]
pub struct ContainerMap {
    by_cgroup: HashMap<u64, Arc<ContainerInfo>>,
}

impl ContainerMap {
    pub fn add(&mut self, ev: &ContainerAddEvent) {
        self.by_cgroup.insert(ev.cgroup_id, ev.container.clone());
    }

    pub fn del(&mut self, ev: &ContainerDelEvent) {
        self.by_cgroup.remove(&ev.cgroup_id);
    }

    pub fn get(&self, cgroup_id: u64) -> Option<&Arc<ContainerInfo>> {
        self.by_cgroup.get(&cgroup_id)
    }

    /// `namespace/pod/container`, the container name, or `host`.
    pub fn label(&self, cgroup_id: u64) -> String {
        self.get(cgroup_id)
            .map_or_else(|| HOST.to_string(), |c| c.label())
    }

    pub fn len(&self) -> usize {
        self.by_cgroup.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_cgroup.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Arc<ContainerInfo>)> {
        self.by_cgroup.iter().map(|(k, v)| (*k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctr(name: Option<&str>, pod: Option<(&str, Option<&str>)>) -> ContainerInfo {
        let mut c = ContainerInfo::new(&"ab".repeat(32), Runtime::ContainerdCri);
        c.name = name.map(str::to_string);
        c.pod = pod.map(|(p, ns)| PodInfo {
            name: Some(p.to_string()),
            namespace: ns.map(str::to_string),
            ..Default::default()
        });
        c
    }

    #[test]
    fn labels_say_namespace_pod_container_or_fall_back() {
        assert_eq!(
            ctr(Some("app"), Some(("web-1", Some("shop")))).label(),
            "shop/web-1/app"
        );
        assert_eq!(ctr(Some("app"), Some(("web-1", None))).label(), "web-1/app");
        assert_eq!(ctr(Some("app"), None).label(), "app");
        assert_eq!(ctr(None, None).label(), "abababababab");
    }

    #[test]
    fn map_adds_updates_and_deletes_by_cgroup() {
        let mut m = ContainerMap::default();
        let a = Arc::new(ctr(None, None));
        m.add(&ContainerAddEvent {
            cgroup_id: 7,
            container: a.clone(),
        });
        assert_eq!(m.label(7), "abababababab");
        assert_eq!(m.label(8), HOST);
        m.add(&ContainerAddEvent {
            cgroup_id: 7,
            container: Arc::new(ctr(Some("app"), None)),
        });
        assert_eq!(m.label(7), "app");
        m.del(&ContainerDelEvent {
            cgroup_id: 7,
            container: a,
        });
        assert_eq!(m.label(7), HOST);
        assert!(m.is_empty());
    }
}
