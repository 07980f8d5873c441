//! deploy/: the manifests validate against the Kubernetes schemas, offline
//! (kubernetes-validate ships them), and agree with each other and with the
//! command line they run.

mod manifests;

use std::process::Command;

use manifests::*;

fn validate(files: &[std::path::PathBuf]) -> (bool, String) {
    let out = Command::new(venv().join("bin/kubernetes-validate"))
        .arg("--strict")
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    let files = files();
    let (ok, text) = validate(&files);
    assert!(ok, "kubernetes-validate --strict failed:\n{text}");
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(
            text.lines()
                .any(|l| l.contains(&*name) && l.contains("passed")),
            "{name} not reported as passed:\n{text}"
        );
    }
    let docs = documents();
    let mut kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["DaemonSet", "Namespace", "Service", "ServiceAccount"],
        "what deploy/ holds"
    );
}

/// The validator is strict: a misspelled field fails (so a pass means
/// something).
#[test]
fn a_misspelled_field_fails_validation() {
    let dir = tempfile::tempdir().unwrap();
    let ds = std::fs::read_to_string(deploy_dir().join("30-daemonset.yaml")).unwrap();
    assert!(ds.contains("hostPID: true"));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, ds.replace("hostPID: true", "hostPid: true")).unwrap();
    let (ok, text) = validate(&[bad]);
    assert!(!ok, "a misspelled field passed:\n{text}");
    assert!(text.contains("hostPid"), "{text}");
}

#[test]
fn the_pieces_fit_together() {
    let docs = documents();
    let ns = find(&docs, "Namespace");
    let ns = ns["metadata"]["name"].as_str().unwrap();
    for d in docs.iter().filter(|d| d["kind"] != "Namespace") {
        assert_eq!(d["metadata"]["namespace"], ns, "{} outside {ns}", d["kind"]);
    }
    let ds = find(&docs, "DaemonSet");
    let svc = find(&docs, "Service");
    let sa = find(&docs, "ServiceAccount");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], true);
    assert_eq!(pod["serviceAccountName"], sa["metadata"]["name"]);

    // The headless Service selects the DaemonSet's pods.
    assert_eq!(svc["spec"]["clusterIP"], "None", "headless");
    let labels = &ds["spec"]["template"]["metadata"]["labels"];
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[k], v, "Service selector {k}");
    }

    // One port: what the agent listens on, the container port, the Service's.
    let c = agent_container(&ds);
    let args = strs(&c["args"]);
    let listen = flag(&args, "--listen").expect("--listen");
    let port: u64 = listen.rsplit_once(':').unwrap().1.parse().unwrap();
    let cport = &c["ports"][0];
    assert_eq!(cport["containerPort"], port);
    let sport = &svc["spec"]["ports"][0];
    assert_eq!(sport["port"], port);
    assert_eq!(sport["targetPort"], cport["name"]);

    // The node name from the downward API.
    assert_eq!(flag(&args, "--node-name"), Some("$(NODE_NAME)"));
    let env = c["env"].as_array().unwrap();
    let node = env.iter().find(|e| e["name"] == "NODE_NAME").unwrap();
    assert_eq!(node["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");

    // The certificates are the Secret's keys, mounted read-only.
    let vols = pod["volumes"].as_array().unwrap();
    let tls = vols.iter().find(|v| v["secret"].is_object()).unwrap();
    assert_eq!(tls["secret"]["secretName"], "systrace-agent-tls");
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == tls["name"])
        .unwrap();
    assert_eq!(mount["readOnly"], true);
    let dir = mount["mountPath"].as_str().unwrap();
    for (f, key) in [
        ("--tls-cert", "tls.crt"),
        ("--tls-key", "tls.key"),
        ("--client-ca", "ca.crt"),
    ] {
        assert_eq!(flag(&args, f), Some(format!("{dir}/{key}").as_str()), "{f}");
    }
    assert!(!args.iter().any(|a| a == "--insecure"));

    // The program takes that command line as an agent's.
    let argv = std::iter::once("systrace-tui".to_string()).chain(args.iter().cloned());
    let cli = <systrace_tui::cli::Cli as clap::Parser>::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("the DaemonSet's arguments: {e}"));
    assert!(
        matches!(cli.command, Some(systrace_tui::cli::Command::Agent(_))),
        "{:?}",
        cli.command
    );

    // Not privileged: only added capabilities, and every host mount read-only.
    let sc = &c["securityContext"];
    assert_eq!(sc["privileged"], false);
    assert_eq!(strs(&sc["capabilities"]["drop"]), ["ALL"]);
    for m in host_mounts(&ds) {
        assert!(m.read_only, "{} is writable", m.host);
    }
    let hosts: Vec<String> = host_mounts(&ds).into_iter().map(|m| m.host).collect();
    for need in [
        "/sys/kernel/btf",
        "/sys/fs/cgroup",
        "/run/containerd",
        "/run/crio",
    ] {
        assert!(hosts.iter().any(|h| h == need), "no mount of {need}");
    }
}
