//! Debian's dockerd (docker.io), started by the test with its own data root,
//! exec root and socket (no bridge, no iptables), an image made with
//! `docker import` from a local rootfs, and docker-compose projects. All of
//! it is removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{busybox_rootfs, run};
use crate::common;

pub struct Docker {
    dir: tempfile::TempDir,
    daemon: common::Reaped,
    pub sock: PathBuf,
    pub image: String,
    containers: Vec<String>,
    projects: Vec<(String, PathBuf)>,
}

/// Debian's client, not whatever else is first on PATH.
const CLIENT: &str = "/usr/bin/docker";

impl Docker {
    pub fn start(tag: &str) -> Docker {
        assert!(
            Path::new("/usr/sbin/dockerd").exists() || Path::new("/usr/bin/dockerd").exists(),
            "dockerd is not installed (scripts/deps.sh test: docker.io)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let sock = d.join("docker.sock");
        let daemon = super::spawn_daemon(
            Command::new("dockerd")
                .arg("--data-root")
                .arg(d.join("root"))
                .arg("--exec-root")
                .arg(d.join("exec"))
                .arg("--pidfile")
                .arg(d.join("dockerd.pid"))
                .arg("--host")
                .arg(format!("unix://{}", sock.display()))
                .args([
                    "--bridge",
                    "none",
                    "--iptables=false",
                    "--ip6tables=false",
                    "--ip-masq=false",
                    "--exec-opt",
                    "native.cgroupdriver=cgroupfs",
                ])
                .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            &d.join("dockerd.log"),
        );
        let mut dk = Docker {
            image: format!("systrace-test/{tag}:latest"),
            dir,
            daemon,
            sock,
            containers: Vec::new(),
            projects: Vec::new(),
        };
        let up = common::wait_for(Duration::from_secs(60), || {
            dk.cmd()
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| s.success())
        });
        assert!(up.is_some(), "dockerd did not come up: {}", dk.log());
        let root = busybox_rootfs(&dk.dir.path().join("image"));
        super::import_rootfs(dk.cmd(), &root, "[\"/bin/sh\"]", "/bin", &dk.image);
        dk.containers.clear();
        dk
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(CLIENT);
        c.arg("--host")
            .arg(format!("unix://{}", self.sock.display()));
        c
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// The data root: where config.v2.json files are.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A detached container running `script`; its id.
    pub fn run(&mut self, name: &str, script: &str) -> String {
        self.containers.push(name.to_string());
        let out = run(self.cmd().args([
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            name,
            &self.image,
            "/bin/sh",
            "-c",
            script,
        ]));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A compose project with one container per (service, script), made by
    /// docker-compose itself.
    pub fn compose(&mut self, project: &str, services: &[(&str, &str)]) {
        let mut yaml = String::from("version: \"2.4\"\nservices:\n");
        for (svc, script) in services {
            yaml.push_str(&format!(
                "  {svc}:\n    image: {}\n    network_mode: none\n    command: [\"/bin/sh\", \"-c\", {}]\n",
                self.image,
                serde_json::to_string(script).unwrap()
            ));
        }
        let file = self.dir.path().join(format!("{project}.yml"));
        std::fs::write(&file, yaml).unwrap();
        self.projects.push((project.to_string(), file.clone()));
        let out = self
            .compose_cmd(project, &file)
            .args(["up", "-d"])
            .stdin(Stdio::null())
            .output()
            .expect("docker-compose is installed (scripts/deps.sh test)");
        assert!(
            out.status.success(),
            "docker-compose up: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    fn compose_cmd(&self, project: &str, file: &Path) -> Command {
        let mut c = Command::new("docker-compose");
        c.env("DOCKER_HOST", format!("unix://{}", self.sock.display()))
            .arg("--project-name")
            .arg(project)
            .arg("--file")
            .arg(file);
        c
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        for (p, f) in &self.projects {
            let _ = self
                .compose_cmd(p, f)
                .args(["down", "--timeout", "0"])
                .stdin(Stdio::null())
                .output();
        }
        for c in &self.containers {
            let _ = self.cmd().args(["rm", "-f", c]).output();
        }
        let _ = self.cmd().args(["rmi", "-f", &self.image]).output();
        self.daemon.stop(libc::SIGTERM, Duration::from_secs(20));
        // Its containerd and shims, found by our directory in their command
        // lines.
        super::kill_by_cmdline(&self.dir.path().to_string_lossy());
        super::unmount_under(self.dir.path());
        // The cgroup parent docker made, when nothing else is in it.
        for m in super::containerd::cgroup_mounts() {
            let _ = std::fs::remove_dir(m.join("docker"));
        }
    }
}
