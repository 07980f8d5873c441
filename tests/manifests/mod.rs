//! deploy/'s manifests as data, through the validator's venv (its Python
//! has PyYAML): for the schema test and for running the image as the
//! DaemonSet says.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// The venv scripts/deps.sh makes (SYSTRACE_VENV elsewhere).
pub fn venv() -> PathBuf {
    let v = std::env::var_os("SYSTRACE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv"));
    assert!(
        v.join("bin/kubernetes-validate").exists(),
        "no kubernetes-validate in {}: run `bash scripts/deps.sh test`",
        v.display()
    );
    v
}

/// deploy/*.yaml, sorted (the order `kubectl apply -f deploy/` uses).
pub fn files() -> Vec<PathBuf> {
    let mut f: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    f.sort();
    f
}

/// Every document of every manifest, as JSON.
pub fn documents() -> Vec<Value> {
    let mut docs = Vec::new();
    for f in files() {
        let out = Command::new(venv().join("bin/python"))
            .args([
                "-c",
                "import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)",
            ])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        docs.extend(v.into_iter().filter(|d| !d.is_null()));
    }
    docs
}

pub fn find(docs: &[Value], kind: &str) -> Value {
    let mut it = docs.iter().filter(|d| d["kind"] == kind);
    let d = it.next().unwrap_or_else(|| panic!("no {kind} in deploy/"));
    assert!(it.next().is_none(), "more than one {kind} in deploy/");
    d.clone()
}

pub fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The DaemonSet's agent container.
pub fn agent_container(ds: &Value) -> Value {
    let cs = ds["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 1, "one container in the DaemonSet");
    cs[0].clone()
}

/// The value following `flag` in a command line.
pub fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(|s| s.as_str())
}

/// A hostPath mount of the DaemonSet: host path, container path, read-only.
#[derive(Debug, Clone)]
pub struct HostMount {
    pub host: String,
    pub path: String,
    pub read_only: bool,
    pub propagation: Option<String>,
}

pub fn host_mounts(ds: &Value) -> Vec<HostMount> {
    let c = agent_container(ds);
    let vols = ds["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            let v = vols.iter().find(|v| v["name"] == m["name"])?;
            Some(HostMount {
                host: v["hostPath"]["path"].as_str()?.to_string(),
                path: m["mountPath"].as_str().unwrap().to_string(),
                read_only: m["readOnly"].as_bool().unwrap_or(false),
                propagation: m["mountPropagation"].as_str().map(str::to_string),
            })
        })
        .collect()
}
