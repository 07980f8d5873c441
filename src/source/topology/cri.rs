//! Names from a CRI runtime (containerd's CRI plugin, CRI-O) over its unix
//! socket, with the maintained CRI protos (k8s-cri) and tonic. Every call
//! is bounded: a socket that hangs costs at most `TIMEOUT`, and it is only
//! ever asked from the topology resolver thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Result};
use hyper_util::rt::TokioIo;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{ContainerStatusRequest, PodSandboxStatusRequest, VersionRequest};
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

use super::metadata::Names;

/// Per connect and per call.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Where CRI runtimes listen by default: containerd, k3s's containerd, CRI-O.
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/run/crio/crio.sock",
];

/// Connects to a CRI socket, bounded by `TIMEOUT`.
pub async fn connect(path: &Path) -> Result<RuntimeServiceClient<Channel>> {
    let path = path.to_path_buf();
    let p2 = path.clone();
    // The URI is required by tonic but unused: the connector dials the socket.
    let ep = Endpoint::try_from("http://[::1]:50051")?
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT);
    let ch = ep.connect_with_connector(tower::service_fn(move |_: Uri| {
        let p = p2.clone();
        async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(p).await?)) }
    }));
    let ch = tokio::time::timeout(TIMEOUT, ch)
        .await
        .map_err(|_| Unreachable(format!("connecting to {}: timed out", path.display())))?
        .map_err(|e| Unreachable(format!("connecting to {}: {e}", path.display())))?;
    Ok(RuntimeServiceClient::new(ch))
}

/// A socket that could not be reached or did not answer in time, as
/// opposed to one that answered with an error: callers leave it alone
/// for a while instead of paying the timeout again per container.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

fn label(m: &HashMap<String, String>, k: &str) -> Option<String> {
    m.get(k).filter(|v| !v.is_empty()).cloned()
}

/// Asks one socket about `id`: as a container first, then as a sandbox.
/// Ok(None): the runtime does not know the id.
pub async fn lookup(socket: &Path, id: &str) -> Result<Option<Names>> {
    let mut c = connect(socket).await?;
    // A runtime that does not answer this cheap call is not asked more.
    let timed_out = || Unreachable(format!("{}: timed out", socket.display()));
    let runtime_name = tokio::time::timeout(TIMEOUT, c.version(VersionRequest::default()))
        .await
        .map_err(|_| timed_out())?
        .map_err(|s| Unreachable(format!("{}: {}", socket.display(), s.message())))?
        .into_inner()
        .runtime_name;
    let runtime_name = Some(runtime_name).filter(|n| !n.is_empty());
    let req = ContainerStatusRequest {
        container_id: id.to_string(),
        verbose: false,
    };
    let status = tokio::time::timeout(TIMEOUT, c.container_status(req))
        .await
        .map_err(|_| timed_out())?;
    if let Ok(resp) = status {
        if let Some(st) = resp.into_inner().status {
            let l = &st.labels;
            return Ok(Some(Names {
                container: st
                    .metadata
                    .as_ref()
                    .map(|m| m.name.clone())
                    .filter(|n| !n.is_empty())
                    .or_else(|| label(l, "io.kubernetes.container.name")),
                image: st
                    .image
                    .as_ref()
                    .map(|i| i.image.clone())
                    .filter(|n| !n.is_empty())
                    .or_else(|| Some(st.image_ref.clone()).filter(|n| !n.is_empty())),
                pod: label(l, "io.kubernetes.pod.name"),
                namespace: label(l, "io.kubernetes.pod.namespace"),
                pod_uid: label(l, "io.kubernetes.pod.uid"),
                sandbox_id: label(&st.annotations, "io.kubernetes.cri.sandbox-id"),
                sandbox: false,
                runtime_name,
                service: None,
            }));
        }
    }
    let req = PodSandboxStatusRequest {
        pod_sandbox_id: id.to_string(),
        verbose: false,
    };
    match tokio::time::timeout(TIMEOUT, c.pod_sandbox_status(req)).await {
        Ok(Ok(resp)) => Ok(resp.into_inner().status.map(|st| {
            let md = st.metadata.unwrap_or_default();
            Names {
                container: Some("POD".to_string()),
                image: None,
                pod: Some(md.name).filter(|n| !n.is_empty()),
                namespace: Some(md.namespace).filter(|n| !n.is_empty()),
                pod_uid: Some(md.uid).filter(|n| !n.is_empty()),
                sandbox_id: Some(st.id),
                sandbox: true,
                runtime_name,
                service: None,
            }
        })),
        Ok(Err(s)) if s.code() == tonic::Code::NotFound => Ok(None),
        Ok(Err(s)) => Err(anyhow!("{}: {}", socket.display(), s.message())),
        Err(_) => Err(timed_out().into()),
    }
}

/// The CRI sockets to ask: the ones given, then the defaults that exist.
pub fn sockets(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = extra.to_vec();
    for s in DEFAULT_SOCKETS {
        let p = PathBuf::from(s);
        if !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that accepts and then never says anything must cost a
    /// bounded time, not a hang.
    #[test]
    fn a_silent_socket_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("silent.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let held = std::thread::spawn(move || {
            let conns: Vec<_> = listener.incoming().take(2).collect();
            std::thread::sleep(Duration::from_secs(6));
            drop(conns);
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let t = std::time::Instant::now();
        let r = rt.block_on(lookup(&sock, &"a".repeat(64)));
        assert!(r.is_err(), "{r:?}");
        assert!(t.elapsed() < TIMEOUT * 3, "took {:?}", t.elapsed());
        drop(held);
    }

    #[test]
    fn a_missing_socket_is_an_error_not_a_hang() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(rt
            .block_on(lookup(Path::new("/nonexistent/cri.sock"), "x"))
            .is_err());
    }
}
