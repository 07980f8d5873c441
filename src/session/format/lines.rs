//! The `container_add` / `container_del` and `lost` lines.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::model::container::{
    self as model, ContainerAddEvent, ContainerDelEvent, PodInfo, Runtime,
};
use crate::model::event::{Event, LostEvents};

/// A container's identity as topology resolves it. Every field but `id` and
/// `runtime` may be unknown.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ContainerInfo {
    pub id: String,
    pub name: Option<String>,
    pub image: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub runtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sandbox: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub resolved: bool,
}

impl ContainerInfo {
    pub fn from_model(c: &model::ContainerInfo) -> ContainerInfo {
        let pod = c.pod.as_ref();
        ContainerInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            image: c.image.clone(),
            pod: pod.and_then(|p| p.name.clone()),
            namespace: pod.and_then(|p| p.namespace.clone()),
            runtime: c.runtime.as_str().into(),
            pod_uid: pod.and_then(|p| p.uid.clone()),
            pod_id: pod.and_then(|p| p.id.clone()),
            sandbox: c.sandbox,
            node: c.node.clone(),
            service: c.service.clone(),
            resolved: c.resolved,
        }
    }

    pub fn to_model(&self) -> Result<model::ContainerInfo, String> {
        let runtime = Runtime::ALL
            .into_iter()
            .find(|r| r.as_str() == self.runtime)
            .ok_or_else(|| format!("unknown container runtime {:?}", self.runtime))?;
        let mut c = model::ContainerInfo::new(&self.id, runtime);
        c.name = self.name.clone();
        c.image = self.image.clone();
        let pod = PodInfo {
            name: self.pod.clone(),
            namespace: self.namespace.clone(),
            uid: self.pod_uid.clone(),
            id: self.pod_id.clone(),
        };
        c.pod = (pod != PodInfo::default()).then_some(pod);
        c.sandbox = self.sandbox;
        c.node = self.node.clone();
        c.service = self.service.clone();
        c.resolved = self.resolved;
        Ok(c)
    }
}

/// `container_add` / `container_del` lines: the cgroup and its container.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ContainerLine {
    #[serde(rename = "type")]
    pub kind: String,
    pub cgroup_id: u64,
    pub container: ContainerInfo,
}

impl ContainerLine {
    pub fn new(kind: &str, cgroup_id: u64, c: &model::ContainerInfo) -> ContainerLine {
        ContainerLine {
            kind: kind.into(),
            cgroup_id,
            container: ContainerInfo::from_model(c),
        }
    }

    pub fn to_event(&self) -> Result<Event, String> {
        let container = Arc::new(self.container.to_model()?);
        let cgroup_id = self.cgroup_id;
        Ok(if self.kind == "container_del" {
            Event::ContainerDel(ContainerDelEvent {
                cgroup_id,
                container,
            })
        } else {
            Event::ContainerAdd(ContainerAddEvent {
                cgroup_id,
                container,
            })
        })
    }
}

/// `lost` lines: cumulative counts. The last line of a complete file is a
/// lost line with `final: true` and the number of events written.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LostLine {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub kernel: u64,
    #[serde(default)]
    pub channel: u64,
    #[serde(default)]
    pub total: u64,
    #[serde(default, rename = "final")]
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

impl LostLine {
    pub fn new(l: LostEvents, events: Option<u64>) -> LostLine {
        LostLine {
            kind: "lost".into(),
            kernel: l.kernel,
            channel: l.channel,
            total: l.total(),
            is_final: events.is_some(),
            events,
        }
    }

    pub fn lost(&self) -> LostEvents {
        LostEvents {
            kernel: self.kernel,
            channel: self.channel,
        }
    }
}
