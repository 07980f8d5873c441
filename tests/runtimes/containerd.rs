//! containerd with its CRI plugin, started with its own config, root, state
//! and socket, and pods made through the CRI the way a kubelet makes them.
//! Everything it started is removed on drop.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, CreateContainerRequest, ImageSpec, LinuxPodSandboxConfig,
    PodSandboxConfig, PodSandboxMetadata, RemovePodSandboxRequest, RunPodSandboxRequest,
    StartContainerRequest, StopPodSandboxRequest,
};
use systrace_tui::source::topology::cri;
use systrace_tui::source::topology::names::Sources;
use tonic::transport::Channel;

use super::Podman;
use crate::common;

/// A CNI plugin that configures nothing and reports a TEST-NET address:
/// enough for containerd to create a pod network namespace.
pub const NULL_CNI: &str = r#"#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
ADD) printf '{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"%s"}],"ips":[{"version":"4","address":"192.0.2.10/24","interface":0}]}' "$CNI_NETNS";;
VERSION) printf '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}';;
esac
exit 0
"#;

/// `NULL_CNI` as the plugin `nullnet` in `bin`, and a network of it in
/// `conf`.
pub fn install_null_cni(bin: &Path, conf: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    std::fs::create_dir_all(conf).unwrap();
    let cni = bin.join("nullnet");
    std::fs::write(&cni, NULL_CNI).unwrap();
    std::fs::set_permissions(&cni, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        conf.join("10-nullnet.conflist"),
        r#"{"cniVersion":"0.4.0","name":"nullnet","plugins":[{"type":"nullnet"}]}"#,
    )
    .unwrap();
}

/// Where a containerd with the CRI plugin keeps things (paths as it sees
/// them: a node's are inside the node).
pub struct Config<'a> {
    pub root: &'a Path,
    pub state: &'a Path,
    /// The CRI socket (and the ttrpc one beside it).
    pub socket: &'a Path,
    /// The pause image.
    pub image: &'a str,
    /// The runc binary, when not the one on PATH.
    pub runc: Option<&'a str>,
    pub cni_bin: &'a Path,
    pub cni_conf: &'a Path,
}

/// Its config.toml: runc with cgroupfs.
pub fn config(c: &Config) -> String {
    let runc = c
        .runc
        .map(|r| format!("      BinaryName = \"{r}\"\n"))
        .unwrap_or_default();
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"
[grpc]
  address = "{socket}"
[ttrpc]
  address = "{socket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{image}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
{runc}  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{bin}"
    conf_dir = "{conf}"
"#,
        root = c.root.display(),
        state = c.state.display(),
        socket = c.socket.display(),
        image = c.image,
        bin = c.cni_bin.display(),
        conf = c.cni_conf.display(),
    )
}

/// Every cgroup hierarchy mounted here (v1 controllers and the v2 tree).
pub fn cgroup_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fs = post.split_whitespace().next()?;
            let mnt = pre.split_whitespace().nth(4)?;
            (fs == "cgroup" || fs == "cgroup2").then(|| PathBuf::from(mnt))
        })
        .collect()
}

pub struct Containerd {
    dir: tempfile::TempDir,
    daemon: common::Reaped,
    pub sock: PathBuf,
    pub rt: tokio::runtime::Runtime,
    sandboxes: Vec<String>,
    cgroup_parents: Vec<String>,
    image: String,
    _podman: Podman,
}

impl Containerd {
    pub fn start(tag: &str) -> Containerd {
        // The image: busybox whose default command idles (the pod sandbox
        // runs it as its pause process).
        let podman = Podman::with_cmd(tag, "[\"/bin/sleep\", \"1000000\"]");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        install_null_cni(&d.join("cni-bin"), &d.join("cni-conf"));
        // containerd's CRI always runs the loopback plugin as well.
        std::os::unix::fs::symlink("/usr/lib/cni/loopback", d.join("cni-bin/loopback")).unwrap();
        let sock = d.join("containerd.sock");
        let image = podman.image.clone();
        let config = config(&Config {
            root: &d.join("root"),
            state: &d.join("state"),
            socket: &sock,
            image: &image,
            runc: None,
            cni_bin: &d.join("cni-bin"),
            cni_conf: &d.join("cni-conf"),
        });
        std::fs::write(d.join("config.toml"), config).unwrap();
        let daemon = super::spawn_daemon(
            Command::new("containerd")
                .arg("--config")
                .arg(d.join("config.toml")),
            &d.join("containerd.log"),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let c = Containerd {
            dir,
            daemon,
            sock,
            rt,
            sandboxes: Vec::new(),
            cgroup_parents: Vec::new(),
            image,
            _podman: podman,
        };
        let up = common::wait_for(Duration::from_secs(20), || {
            c.rt.block_on(cri::connect(&c.sock)).ok()
        });
        assert!(up.is_some(), "containerd did not come up: {}", c.log());
        // Hand the image to containerd's Kubernetes namespace.
        let archive = c.dir.path().join("image.tar");
        super::run(
            c._podman
                .cmd()
                .args(["save", "--format", "oci-archive", "-o"])
                .arg(&archive)
                .arg(&c.image),
        );
        super::run(
            Command::new("ctr")
                .arg("--address")
                .arg(&c.sock)
                .args(["-n", "k8s.io", "images", "import"])
                .arg(&archive),
        );
        c
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Where the tracer finds this containerd's names: its CRI socket and
    /// its state directory.
    pub fn sources(&self) -> Sources {
        Sources {
            cri_sockets: cri::sockets(std::slice::from_ref(&self.sock)),
            containerd_state: vec![self.state()],
            ..Default::default()
        }
    }

    pub fn client(&self) -> RuntimeServiceClient<Channel> {
        self.rt.block_on(cri::connect(&self.sock)).unwrap()
    }

    /// A pod with one container running `script`, made like a kubelet
    /// makes it (labels included). Returns the container id.
    pub fn pod(&mut self, name: &str, namespace: &str, container: &str, script: &str) -> String {
        let n = self.sandboxes.len() as u64 + (name.len() as u64) * 4096;
        let pod = CriPod::new(
            name,
            namespace,
            container,
            script,
            &self.image,
            ("1111-4222-8333", n),
        );
        self.cgroup_parents.push(pod.cgroup_parent.clone());
        let made = cri_pod(&self.rt, &self.client(), &pod);
        let (sandbox, id) = made.unwrap_or_else(|e| panic!("{e}\n{}", self.log()));
        self.sandboxes.push(sandbox);
        id
    }
}

/// What a kubelet asks a CRI runtime for: one pod with one container.
pub struct CriPod<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub uid: String,
    pub container: &'a str,
    pub image: &'a str,
    pub script: &'a str,
    pub cgroup_parent: String,
}

impl<'a> CriPod<'a> {
    /// Pod `name` with `container` running `script` in `image`. Its uid is
    /// unique to this test process (`mark` tells the callers apart, `n` their
    /// pods), under the cgroup parent a kubelet gives a besteffort pod.
    pub fn new(
        name: &'a str,
        namespace: &'a str,
        container: &'a str,
        script: &'a str,
        image: &'a str,
        (mark, n): (&str, u64),
    ) -> CriPod<'a> {
        let uid = format!("{:08x}-{mark}-{n:012x}", std::process::id());
        CriPod {
            cgroup_parent: format!("/kubepods/besteffort/pod{uid}"),
            uid,
            name,
            namespace,
            container,
            image,
            script,
        }
    }
}

/// Makes a pod through a CRI socket the way a kubelet does (labels
/// included): RunPodSandbox, CreateContainer, StartContainer. Returns the
/// sandbox and container ids.
pub fn cri_pod(
    rt: &tokio::runtime::Runtime,
    client: &RuntimeServiceClient<Channel>,
    p: &CriPod<'_>,
) -> Result<(String, String), String> {
    let pod_labels: HashMap<String, String> = [
        ("io.kubernetes.pod.name", p.name),
        ("io.kubernetes.pod.namespace", p.namespace),
        ("io.kubernetes.pod.uid", &p.uid),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sandbox_config = PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: p.name.into(),
            uid: p.uid.clone(),
            namespace: p.namespace.into(),
            attempt: 0,
        }),
        hostname: p.name.into(),
        labels: pod_labels.clone(),
        linux: Some(LinuxPodSandboxConfig {
            cgroup_parent: p.cgroup_parent.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut c = client.clone();
    let sandbox = rt
        .block_on(c.run_pod_sandbox(RunPodSandboxRequest {
            config: Some(sandbox_config.clone()),
            runtime_handler: String::new(),
        }))
        .map_err(|e| format!("RunPodSandbox: {e}"))?
        .into_inner()
        .pod_sandbox_id;
    let mut labels = pod_labels;
    labels.insert("io.kubernetes.container.name".into(), p.container.into());
    let id = rt
        .block_on(c.create_container(CreateContainerRequest {
            pod_sandbox_id: sandbox.clone(),
            config: Some(ContainerConfig {
                metadata: Some(ContainerMetadata {
                    name: p.container.into(),
                    attempt: 0,
                }),
                image: Some(ImageSpec {
                    image: p.image.into(),
                    ..Default::default()
                }),
                command: vec!["/bin/sh".into(), "-c".into(), p.script.into()],
                labels,
                ..Default::default()
            }),
            sandbox_config: Some(sandbox_config),
        }))
        .map_err(|e| format!("CreateContainer: {e}"))?
        .into_inner()
        .container_id;
    rt.block_on(c.start_container(StartContainerRequest {
        container_id: id.clone(),
    }))
    .map_err(|e| format!("StartContainer: {e}"))?;
    Ok((sandbox, id))
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // The kubelet way first: stop and remove the pods.
        if let Ok(mut c) = self.rt.block_on(cri::connect(&self.sock)) {
            for id in &self.sandboxes {
                let _ = self.rt.block_on(c.stop_pod_sandbox(StopPodSandboxRequest {
                    pod_sandbox_id: id.clone(),
                }));
                let _ = self
                    .rt
                    .block_on(c.remove_pod_sandbox(RemovePodSandboxRequest {
                        pod_sandbox_id: id.clone(),
                    }));
            }
        }
        // Whatever is still running in our pods' cgroups goes too.
        let mounts = cgroup_mounts();
        for m in &mounts {
            for p in &self.cgroup_parents {
                let _ = std::fs::write(m.join(p.trim_start_matches('/')).join("cgroup.kill"), "1");
            }
        }
        self.daemon.stop(libc::SIGKILL, Duration::from_secs(10));
        // Shims outlive containerd: find ours by the socket they were given.
        super::kill_by_cmdline(&self.sock.to_string_lossy());
        super::unmount_under(self.dir.path());
        for m in &mounts {
            for p in &self.cgroup_parents {
                common::rmdir_tree(&m.join(p.trim_start_matches('/')));
            }
            // Parents only when empty: remove_dir fails otherwise.
            let _ = std::fs::remove_dir(m.join("kubepods/besteffort"));
            let _ = std::fs::remove_dir(m.join("kubepods"));
        }
    }
}
