//! Root-only, real containerd with its CRI plugin, started by the test with
//! its own config, root, state and socket. Pods and containers are made
//! through the CRI, the way a kubelet makes them.

mod common;
mod runtimes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, CreateContainerRequest, ImageSpec, LinuxPodSandboxConfig,
    PodSandboxConfig, PodSandboxMetadata, RemovePodSandboxRequest, RunPodSandboxRequest,
    StartContainerRequest, StopPodSandboxRequest,
};
use runtimes::{opener, Podman, Traced};
use systrace_tui::model::container::Runtime;
use systrace_tui::model::filter::Filter;
use systrace_tui::model::syscalls::Arch;
use systrace_tui::topology::names::{Resolver, Sources};
use systrace_tui::topology::{cgroups, cri, path, Selection, TopologyOptions};
use tonic::transport::Channel;

/// A CNI plugin that configures nothing and reports a TEST-NET address:
/// enough for containerd to create a pod network namespace.
const NULL_CNI: &str = r#"#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
ADD) printf '{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"%s"}],"ips":[{"version":"4","address":"192.0.2.10/24","interface":0}]}' "$CNI_NETNS";;
VERSION) printf '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}';;
esac
exit 0
"#;

/// Every cgroup hierarchy mounted here (v1 controllers and the v2 tree).
fn cgroup_mounts() -> Vec<PathBuf> {
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

struct Containerd {
    dir: tempfile::TempDir,
    daemon: Child,
    sock: PathBuf,
    rt: tokio::runtime::Runtime,
    sandboxes: Vec<String>,
    cgroup_parents: Vec<String>,
    image: String,
    _podman: Podman,
}

impl Containerd {
    fn start(tag: &str) -> Containerd {
        // The image: busybox whose default command idles (the pod sandbox
        // runs it as its pause process).
        let podman = Podman::with_cmd(tag, "[\"/bin/sleep\", \"1000000\"]");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("cni-bin")).unwrap();
        std::fs::create_dir_all(d.join("cni-conf")).unwrap();
        let cni = d.join("cni-bin/nullnet");
        std::fs::write(&cni, NULL_CNI).unwrap();
        std::fs::set_permissions(&cni, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        // containerd's CRI always runs the loopback plugin as well.
        std::os::unix::fs::symlink("/usr/lib/cni/loopback", d.join("cni-bin/loopback")).unwrap();
        std::fs::write(
            d.join("cni-conf/10-nullnet.conflist"),
            r#"{"cniVersion":"0.4.0","name":"nullnet","plugins":[{"type":"nullnet"}]}"#,
        )
        .unwrap();
        let sock = d.join("containerd.sock");
        let image = podman.image.clone();
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{image}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni-bin"
    conf_dir = "{d}/cni-conf"
"#,
            d = d.display()
        );
        std::fs::write(d.join("config.toml"), config).unwrap();
        let log = std::fs::File::create(d.join("containerd.log")).unwrap();
        let daemon = Command::new("containerd")
            .arg("--config")
            .arg(d.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("containerd is installed (scripts/deps.sh test)");
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
        runtimes::run(
            c._podman
                .cmd()
                .args(["save", "--format", "oci-archive", "-o"])
                .arg(&archive)
                .arg(&c.image),
        );
        runtimes::run(
            Command::new("ctr")
                .arg("--address")
                .arg(&c.sock)
                .args(["-n", "k8s.io", "images", "import"])
                .arg(&archive),
        );
        c
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn client(&self) -> RuntimeServiceClient<Channel> {
        self.rt.block_on(cri::connect(&self.sock)).unwrap()
    }

    /// A pod with one container running `script`, made like a kubelet
    /// makes it (labels included). Returns the container id.
    fn pod(&mut self, name: &str, namespace: &str, container: &str, script: &str) -> String {
        let uid = format!(
            "{:08x}-1111-4222-8333-{:012x}",
            std::process::id(),
            self.sandboxes.len() as u64 + (name.len() as u64) * 4096
        );
        let cgroup_parent = format!("/kubepods/besteffort/pod{uid}");
        self.cgroup_parents.push(cgroup_parent.clone());
        let pod_labels: HashMap<String, String> = [
            ("io.kubernetes.pod.name", name),
            ("io.kubernetes.pod.namespace", namespace),
            ("io.kubernetes.pod.uid", uid.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sandbox_config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: name.into(),
                uid: uid.clone(),
                namespace: namespace.into(),
                attempt: 0,
            }),
            hostname: name.into(),
            labels: pod_labels.clone(),
            linux: Some(LinuxPodSandboxConfig {
                cgroup_parent,
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut c = self.client();
        let sandbox = self
            .rt
            .block_on(c.run_pod_sandbox(RunPodSandboxRequest {
                config: Some(sandbox_config.clone()),
                runtime_handler: String::new(),
            }))
            .unwrap_or_else(|e| panic!("RunPodSandbox: {e}\n{}", self.log()))
            .into_inner()
            .pod_sandbox_id;
        self.sandboxes.push(sandbox.clone());
        let mut labels = pod_labels;
        labels.insert("io.kubernetes.container.name".into(), container.into());
        let id = self
            .rt
            .block_on(c.create_container(CreateContainerRequest {
                pod_sandbox_id: sandbox,
                config: Some(ContainerConfig {
                    metadata: Some(ContainerMetadata {
                        name: container.into(),
                        attempt: 0,
                    }),
                    image: Some(ImageSpec {
                        image: self.image.clone(),
                        ..Default::default()
                    }),
                    command: vec!["/bin/sh".into(), "-c".into(), script.into()],
                    labels,
                    ..Default::default()
                }),
                sandbox_config: Some(sandbox_config),
            }))
            .unwrap_or_else(|e| panic!("CreateContainer: {e}\n{}", self.log()))
            .into_inner()
            .container_id;
        self.rt
            .block_on(c.start_container(StartContainerRequest {
                container_id: id.clone(),
            }))
            .unwrap_or_else(|e| panic!("StartContainer: {e}\n{}", self.log()));
        id
    }
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
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // Shims outlive containerd: find ours by the socket they were given.
        let sock = self.sock.to_string_lossy().into_owned();
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmd).contains(&sock) {
                    // SAFETY: kill has no memory preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        // Mounts left under our directory (rootfs, shm), deepest first.
        let d = self.dir.path().to_string_lossy().into_owned();
        let mut mnts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
            .filter(|m| m.starts_with(&d))
            .collect();
        mnts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mnts {
            let _ = Command::new("umount").args(["-l", &m]).status();
        }
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

    let sources = Sources {
        cri_sockets: cri::sockets(std::slice::from_ref(&ctd.sock)),
        containerd_state: vec![ctd.state()],
        ..Default::default()
    };
    let traced = |sel: Option<Selection>| {
        Traced::start(TopologyOptions {
            sources: sources.clone(),
            selection: sel,
            ..Default::default()
        })
    };

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
    for (_, e) in &t.seen {
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
    for (_, e) in &t.seen {
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
