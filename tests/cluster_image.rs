//! Root-only: the agent image (Containerfile, built by scripts/image.sh
//! from the binary under test, no registry) run under podman as the
//! DaemonSet in deploy/ runs it: host pid namespace, only its capabilities,
//! its security options and read-only mounts, the certificates where the
//! Secret goes, its command line. A client on the host streams the host's
//! syscalls from it over mutual TLS and counts a known workload exactly.

mod common;
mod manifests;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{CopiedExe, Reaped, Scratch};
use manifests::*;

/// podman with the settings this machine needs (runc, ulimits), and the
/// image and container removed on drop.
struct Podman {
    conf: tempfile::NamedTempFile,
    image: String,
    container: String,
}

impl Podman {
    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.conf.path());
        c
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .args(["rm", "-f", "-t", "0", &self.container])
            .output();
        let _ = self.cmd().args(["rmi", "-f", &self.image]).output();
    }
}

/// A CA, the agent's certificate (for 127.0.0.1) and a client's, with the
/// agent's under the Secret's key names (tls.crt, tls.key, ca.crt).
fn pki(dir: &Path) {
    let script = r#"
set -e
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.crt -days 1 -subj /CN=test-ca 2>/dev/null
leaf() {
  printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\n' "$3" "$2" > "$1.ext"
  openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 1 -extfile "$1.ext" 2>/dev/null
}
leaf tls serverAuth subjectAltName=IP:127.0.0.1,DNS:localhost
leaf client clientAuth subjectAltName=DNS:client
chmod 0444 tls.key
"#;
    let st = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "making test certificates with openssl");
}

#[test]
fn the_image_runs_as_the_daemonset_says_and_serves_the_hosts_syscalls() {
    if !common::require_root("the_image_runs_as_the_daemonset_says_and_serves_the_hosts_syscalls") {
        return;
    }
    let docs = documents();
    let ds = find(&docs, "DaemonSet");
    let c = agent_container(&ds);
    let pod = &ds["spec"]["template"]["spec"];
    let sc = &c["securityContext"];

    let conf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        conf.path(),
        "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
         [engine]\nruntime = \"runc\"\n",
    )
    .unwrap();
    let tag = common::unique("systrace-image").to_lowercase();
    let p = Podman {
        conf,
        image: format!("localhost/{tag}:test"),
        container: tag.clone(),
    };
    let built = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/image.sh"))
        .arg(common::bin())
        .arg(&p.image)
        .env("CONTAINERS_CONF", p.conf.path())
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "scripts/image.sh: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    let certs = Scratch::new();
    pki(certs.dir());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = format!("img-{}", std::process::id());

    // The DaemonSet, translated: the pod's network is the host's here, so
    // the agent listens on loopback only (the one change to its arguments).
    let mut run = p.cmd();
    run.args(["run", "--rm", "--name", &p.container, "--network", "host"]);
    assert_eq!(pod["hostPID"], true);
    run.arg("--pid=host");
    assert_eq!(sc["privileged"], false);
    run.arg("--cap-drop=all");
    for cap in strs(&sc["capabilities"]["add"]) {
        run.arg(format!("--cap-add=CAP_{cap}"));
    }
    if sc["seccompProfile"]["type"] == "Unconfined" {
        run.args(["--security-opt", "seccomp=unconfined"]);
    }
    if sc["appArmorProfile"]["type"] == "Unconfined" {
        run.args(["--security-opt", "apparmor=unconfined"]);
    }
    if sc["allowPrivilegeEscalation"] == false {
        run.args(["--security-opt", "no-new-privileges"]);
    }
    if sc["readOnlyRootFilesystem"] == true {
        run.arg("--read-only");
    }
    for m in host_mounts(&ds) {
        // DirectoryOrCreate: kubelet would make a missing one empty; a
        // missing runtime directory is left out here instead of made.
        if !Path::new(&m.host).exists() {
            continue;
        }
        let mut opts = vec![if m.read_only { "ro" } else { "rw" }];
        if m.propagation.as_deref() == Some("HostToContainer") {
            opts.push("rslave");
        }
        run.args(["-v", &format!("{}:{}:{}", m.host, m.path, opts.join(","))]);
    }
    let tls_dir = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "tls")
        .unwrap()["mountPath"]
        .as_str()
        .unwrap()
        .to_string();
    run.args(["-v", &format!("{}:{tls_dir}:ro", certs.dir().display())]);
    run.args(["-e", &format!("NODE_NAME={node}")]);
    let command = strs(&c["command"]);
    run.args(["--entrypoint", &command[0]]);
    run.arg(&p.image);
    let mut args = strs(&c["args"]);
    let listen = args.iter().position(|a| a == "--listen").unwrap() + 1;
    args[listen] = format!("127.0.0.1:{port}");
    for a in &args {
        // The downward API's $(NODE_NAME), as kubelet expands it.
        run.arg(a.replace("$(NODE_NAME)", &node));
    }
    let mut agent = Reaped(
        run.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut said = Vec::new();
    for l in BufReader::new(agent.0.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        let up = l.contains("serving on");
        said.push(l);
        if up {
            break;
        }
    }
    assert!(
        said.iter()
            .any(|l| l.contains(&node) && l.contains("mutual TLS")),
        "the agent in the image did not start: {said:?}"
    );

    // A client on the host, with a certificate of the CA.
    let comm = format!("iwl{}", std::process::id() % 100_000);
    let exe = CopiedExe::new(&comm);
    let out = certs.path("client-lines");
    let cert = |f: &str| certs.path(f).to_str().unwrap().to_owned();
    let (addr, filter) = (
        format!("127.0.0.1:{port}"),
        format!("comm == {comm} and syscall == getppid"),
    );
    let mut client = Reaped(
        Command::new(common::bin())
            .args(common::tls_client(
                &["--node", &addr, "--no-tui", "--filter", &filter],
                &cert("ca.crt"),
                Some((&cert("client.crt"), &cert("client.key"))),
            ))
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Connected once the node is named on stderr.
    let mut cerr = BufReader::new(client.0.stderr.take().unwrap());
    let mut line = String::new();
    let mut seen = Vec::new();
    while cerr.read_line(&mut line).unwrap_or(0) > 0 {
        let up = line.contains(&node);
        seen.push(std::mem::take(&mut line));
        if up {
            break;
        }
    }
    assert!(
        seen.iter().any(|l| l.contains(&node)),
        "the client did not reach the agent: {seen:?}"
    );
    let count = || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("getppid(") && l.contains(&node))
            .count()
    };
    let st = Command::new(&exe.path)
        .args(["getppid", "500"])
        .status()
        .unwrap();
    assert!(st.success());
    let got = common::wait_for(Duration::from_secs(20), || (count() >= 500).then_some(()));
    assert!(got.is_some(), "saw {} of 500 getppid calls", count());
    client.signal(libc::SIGINT);
    assert!(client.wait(Duration::from_secs(10)).is_some());
    assert_eq!(count(), 500, "the host's workload, exactly, from the node");
    agent.signal(libc::SIGTERM);
    let _ = agent.wait(Duration::from_secs(15));
    drop(p);
}
