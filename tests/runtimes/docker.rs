//! Debian's dockerd (docker.io), started by the test with its own data root,
//! exec root and socket (no bridge, no iptables), an image made with
//! `docker import` from a local rootfs, and docker-compose projects. All of
//! it is removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{busybox_rootfs, run};
use crate::common;

pub struct Docker {
    dir: tempfile::TempDir,
    daemon: Child,
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
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let daemon = Command::new("dockerd")
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
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd");
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
        let mut tar = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["-c", "."])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let st = dk
            .cmd()
            .args([
                "import",
                "--change",
                "CMD [\"/bin/sh\"]",
                "--change",
                "ENV PATH=/bin",
                "-",
                &dk.image,
            ])
            .stdin(tar.stdout.take().unwrap())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            tar.wait().unwrap().success() && st.success(),
            "docker import"
        );
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
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(self.daemon.id() as i32, libc::SIGTERM) };
        let stopped = common::wait_for(Duration::from_secs(20), || {
            self.daemon.try_wait().ok().flatten()
        });
        if stopped.is_none() {
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
        // Its containerd and shims, found by our directory in their command
        // lines.
        let d = self.dir.path().to_string_lossy().into_owned();
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmd).contains(&d) {
                    // SAFETY: as above.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
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
        // The cgroup parent docker made, when nothing else is in it.
        for m in super::containerd::cgroup_mounts() {
            let _ = std::fs::remove_dir(m.join("docker"));
        }
    }
}
