//! A kind-like Kubernetes node: a privileged podman container from a locally
//! built image holding containerd, its runc shim, runc, ctr, a CNI plugin
//! and a pause image, all copied from the host's packages (no registry).
//! containerd runs inside it; pods are made through its CRI socket, reached
//! from the host through the node's root (`/proc/<node pid>/root/...`), the
//! way a tracer on a kind, minikube or k3d workstation has to.
//!
//! Two layouts: `Layout::Hybrid` is what a privileged container sees on this
//! host (v1 controllers: the runtime inside makes v1 cgroups only, and its
//! pods share the node's cgroup2 id); `Layout::V2` gives the node a
//! cgroup2-only /sys/fs/cgroup rooted at its own cgroup (a private cgroup
//! namespace and a cgroup2 mount, as kind's entrypoint does on v2 hosts),
//! so its pods get cgroup2 directories below the node's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use systrace_tui::source::topology::cri;

use super::containerd::{cgroup_mounts, config, cri_pod, install_null_cni, Config, CriPod};
use super::{busybox_rootfs, run, Podman};
use crate::common;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Hybrid,
    V2,
}

/// Where containerd listens inside the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// kind, minikube: /run/containerd/containerd.sock
    Kind,
    /// k3d (k3s): /run/k3s/containerd/containerd.sock
    K3s,
}

impl Flavour {
    fn state(self) -> &'static str {
        match self {
            Flavour::Kind => "/run/containerd",
            Flavour::K3s => "/run/k3s/containerd",
        }
    }
}

const ENTRY: &str = r#"#!/bin/sh
# The node's init: the cgroup view, containerd, the pause image.
if [ "$LAYOUT" = v2 ]; then
  # cgroup2 only, rooted at this node's cgroup (private cgroup namespace).
  for m in $(awk '$5 ~ "^/sys/fs/cgroup" {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m"
  done
  mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
  # No processes in a cgroup that has children: the node's own go to init/.
  mkdir -p /sys/fs/cgroup/init
  echo $$ > /sys/fs/cgroup/init/cgroup.procs
fi
mkdir -p "$STATE" /var/lib/containerd /tmp
containerd --config /etc/containerd/config.toml >/var/log/containerd.log 2>&1 &
i=0
while [ ! -S "$STATE/containerd.sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
ctr --address "$STATE/containerd.sock" -n k8s.io images import /pause.tar >>/var/log/containerd.log 2>&1 || exit 1
touch /ready
wait
"#;

/// runc for the cgroup2-only view: this hybrid host binds the cpu
/// controller to v1, so the node's cgroup2 tree has no cpu.weight for the
/// CPU shares containerd gives every pod sandbox. The shares are dropped
/// from the bundle before the real runc sees it.
const RUNC_V2: &str = r#"#!/bin/sh
prev=""
for a in "$@"; do
  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then
    /bin/sed -i 's/"shares":[0-9]*,\{0,1\}//' "$a/config.json"
  fi
  prev="$a"
done
exec RUNC "$@"
"#;

/// Copies an executable and the shared libraries it loads into `root`, at
/// the same paths.
fn copy_with_libs(bin: &Path, root: &Path) {
    let mut files = vec![bin.to_path_buf()];
    let out = Command::new("ldd").arg(bin).output().unwrap();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        // "libx.so => /lib/.../libx.so (0x..)" or "/lib64/ld-linux... (0x..)"
        let p = l
            .split("=>")
            .last()
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("");
        if p.starts_with('/') {
            files.push(PathBuf::from(p));
        }
    }
    for f in files {
        let dst = root.join(f.strip_prefix("/").unwrap());
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        if !dst.exists() {
            std::fs::copy(&f, &dst).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
}

fn which(name: &str) -> PathBuf {
    for d in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed (scripts/deps.sh test)");
}

pub struct Node {
    pub name: String,
    pub id: String,
    pub pid: u32,
    pub flavour: Flavour,
    pub layout: Layout,
    /// The pause / workload image, as containerd inside knows it.
    pub image: String,
    pub rt: tokio::runtime::Runtime,
    /// The node container's cgroup (the same path in every hierarchy).
    pub cgroup: Option<String>,
    pods: usize,
    podman: Podman,
    _pause: Podman,
}

impl Node {
    /// Builds the node image and starts the node; returns once containerd
    /// inside has the pause image.
    pub fn start(name: &str, flavour: Flavour, layout: Layout) -> Node {
        let pause = Podman::with_cmd(&format!("{name}-pause"), "[\"/bin/sleep\", \"1000000\"]");
        let make = |dir: &Path| -> PathBuf {
            let root = busybox_rootfs(&dir.join("node"));
            for b in ["containerd", "containerd-shim-runc-v2", "ctr", "runc"] {
                copy_with_libs(&which(b), &root);
            }
            install_null_cni(&root.join("opt/cni/bin"), &root.join("etc/cni/net.d"));
            std::fs::copy("/usr/lib/cni/loopback", root.join("opt/cni/bin/loopback")).unwrap();
            let exe = |p: &Path| {
                std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .unwrap()
            };
            std::fs::write(root.join("etc/resolv.conf"), "").unwrap();
            std::fs::write(root.join("etc/hostname"), format!("{name}\n")).unwrap();
            for d in ["var/lib/containerd", "var/log", "run", "proc", "sys", "dev"] {
                std::fs::create_dir_all(root.join(d)).unwrap();
            }
            std::fs::write(root.join("entry.sh"), ENTRY).unwrap();
            exe(&root.join("entry.sh"));
            let real = which("runc");
            std::fs::write(
                root.join("usr/bin/runc-v2"),
                RUNC_V2.replace("RUNC", &real.to_string_lossy()),
            )
            .unwrap();
            exe(&root.join("usr/bin/runc-v2"));
            let runc = match layout {
                Layout::Hybrid => "runc",
                Layout::V2 => "/usr/bin/runc-v2",
            };
            let state = flavour.state();
            std::fs::create_dir_all(root.join("etc/containerd")).unwrap();
            std::fs::write(
                root.join("etc/containerd/config.toml"),
                config(&Config {
                    root: Path::new("/var/lib/containerd"),
                    state: Path::new(state),
                    socket: &Path::new(state).join("containerd.sock"),
                    image: &pause.image,
                    runc: Some(runc),
                    cni_bin: Path::new("/opt/cni/bin"),
                    cni_conf: Path::new("/etc/cni/net.d"),
                }),
            )
            .unwrap();
            run(pause
                .cmd()
                .args(["save", "--format", "oci-archive", "-o"])
                .arg(root.join("pause.tar"))
                .arg(&pause.image));
            root
        };
        let mut podman = Podman::from_rootfs(
            &format!("{name}-node"),
            "[\"/bin/sh\", \"/entry.sh\"]",
            "/bin:/usr/bin:/usr/sbin",
            make,
        );
        let mut c = podman.cmd();
        c.args([
            "run",
            "-d",
            "--privileged",
            "--network",
            "none",
            "--name",
            name,
        ]);
        c.args(["--hostname", name]);
        // Overlay on overlay fails: containerd's snapshots live on a tmpfs.
        c.args(["--tmpfs", "/var/lib/containerd:exec,dev,suid"]);
        c.args(["-e", &format!("STATE={}", flavour.state())]);
        if layout == Layout::V2 {
            c.args(["--cgroupns", "private", "-e", "LAYOUT=v2"]);
        }
        c.arg(&podman.image);
        let id = String::from_utf8_lossy(&run(&mut c).stdout)
            .trim()
            .to_string();
        podman.adopt(name);
        let pid: u32 = String::from_utf8_lossy(
            &run(podman
                .cmd()
                .args(["inspect", "--format", "{{.State.Pid}}", name]))
            .stdout,
        )
        .trim()
        .parse()
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut node = Node {
            name: name.to_string(),
            id,
            pid,
            flavour,
            layout,
            image: pause.image.clone(),
            rt,
            cgroup: None,
            pods: 0,
            podman,
            _pause: pause,
        };
        let ready = common::wait_for(Duration::from_secs(60), || {
            Path::new(&format!("/proc/{pid}/root/ready"))
                .exists()
                .then_some(())
        });
        assert!(
            ready.is_some(),
            "node {name} did not come up: {}",
            node.log()
        );
        node.cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("0::").map(str::to_string))
            })
            .map(|p| p.trim_end_matches("/init").to_string());
        node
    }

    pub fn log(&self) -> String {
        let l = std::fs::read_to_string(format!("/proc/{}/root/var/log/containerd.log", self.pid))
            .unwrap_or_default();
        let p = self
            .podman
            .cmd()
            .args(["logs", &self.name])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        format!("{l}\n{p}")
    }

    /// The node's CRI socket, as the host reaches it.
    pub fn socket(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/root{}/containerd.sock",
            self.pid,
            self.flavour.state()
        ))
    }

    /// A pod with one container running `script`, made through the node's
    /// CRI socket. Returns the container id.
    pub fn pod(&mut self, name: &str, namespace: &str, container: &str, script: &str) -> String {
        self.pods += 1;
        let n = self.pods as u64 + (self.pid as u64) * 16;
        let pod = CriPod::new(
            name,
            namespace,
            container,
            script,
            &self.image,
            ("2222-4333-8444", n),
        );
        let client = self
            .rt
            .block_on(cri::connect(&self.socket()))
            .unwrap_or_else(|e| panic!("node CRI: {e}\n{}", self.log()));
        cri_pod(&self.rt, &client, &pod)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.log()))
            .1
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Removing the node ends every process in it (its pods' too: their
        // pid namespaces are inside the node's).
        let _ = self
            .podman
            .cmd()
            .args(["rm", "-f", "-t", "0", &self.name])
            .output();
        // Cgroups the runtime inside made below the node's.
        if let Some(cg) = &self.cgroup {
            for m in cgroup_mounts() {
                common::rmdir_tree(&m.join(cg.trim_start_matches('/')));
            }
        }
    }
}
