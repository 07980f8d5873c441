//! `systrace-tui agent`: live capture and topology on this node (the same
//! source as local tracing), served to remote clients over gRPC by the hub
//! (`hub.rs`). Off loopback, only with mutual TLS.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::hub::{Hub, HubOptions, Service};
use crate::cli::AgentArgs;
use crate::clock::Clock;
use crate::model::flow::{usage, CgroupScope, KernelFilter, KernelMode, ModeTarget};
use crate::model::syscalls::Arch;
use crate::say;
use crate::source::kernel::loader::{default_agg_entries, MAX_NR};
use crate::source::live::{Live, LiveOptions};
use crate::source::Source;
use crate::wire::pb::agent_server::AgentServer;

/// The agent's TLS material (all three, or `--insecure`).
#[derive(Clone, Debug)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
}

/// The agent's configuration, checked.
#[derive(Clone, Debug)]
pub struct Agent {
    pub listen: Vec<SocketAddr>,
    pub listen_text: String,
    pub node: String,
    pub tls: Option<ServerTls>,
    pub ring_mb: u32,
    pub buf_size: u32,
    pub cri_sockets: Vec<PathBuf>,
    pub client_queue: usize,
    /// `--publish`: a Redis to publish to.
    pub publish: Option<String>,
    /// `--metrics`: where to serve them, and how many containers get
    /// labels of their own.
    pub metrics: Option<(SocketAddr, usize)>,
    /// `--cgroup`: only this cgroup v2 subtree.
    pub scope: Option<CgroupScope>,
}

/// Whether every address is a loopback one.
pub fn all_loopback(addrs: &[SocketAddr]) -> bool {
    !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
}

impl Agent {
    pub fn from_args(a: AgentArgs) -> Result<Agent> {
        if let Some(url) = &a.publish {
            crate::wire::redis::check_url(url).map_err(|e| usage(format!("--publish {e}")))?;
        }
        if a.node_name.trim().is_empty() || a.node_name.chars().any(char::is_control) {
            return Err(usage(format!(
                "--node-name {:?}: a node name is printable and not empty",
                a.node_name
            )));
        }
        let scope = match &a.cgroup {
            Some(p) => Some(super::config::cgroup_scope(p)?),
            None => None,
        };
        let listen: Vec<SocketAddr> = a
            .listen
            .to_socket_addrs()
            .map_err(|e| usage(format!("--listen {}: {e} (HOST:PORT)", a.listen)))?
            .collect();
        let tls = match (a.tls_cert, a.tls_key, a.client_ca, a.insecure) {
            (None, None, None, true) => {
                if !all_loopback(&listen) {
                    return Err(usage(format!(
                        "--insecure serves on loopback only, and {} is not: use --tls-cert, --tls-key and --client-ca",
                        a.listen
                    )));
                }
                None
            }
            (Some(cert), Some(key), Some(client_ca), false) => Some(ServerTls {
                cert,
                key,
                client_ca,
            }),
            _ => {
                return Err(usage(
                    "the agent needs --tls-cert, --tls-key and --client-ca (mutual TLS), or --insecure on a loopback address",
                ))
            }
        };
        let metrics = match &a.metrics {
            Some(m) => Some((super::config::parse_addr(m)?, a.metrics_containers)),
            None => None,
        };
        Ok(Agent {
            metrics,
            listen,
            listen_text: a.listen,
            node: a.node_name,
            tls,
            ring_mb: a.ring_mb,
            buf_size: a.buf_size,
            cri_sockets: a.cri_sockets,
            client_queue: a.client_queue as usize,
            publish: a.publish,
            scope,
        })
    }
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| usage(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(usage(format!(
            "{what} {}: no certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

/// rustls' server side: our certificate, and client certificates required
/// and checked against the CA.
pub fn server_config(t: &ServerTls) -> Result<rustls::ServerConfig> {
    let certs = read_certs(&t.cert, "--tls-cert")?;
    let key = PrivateKeyDer::from_pem_file(&t.key)
        .map_err(|e| usage(format!("--tls-key {}: {e}", t.key.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in read_certs(&t.client_ca, "--client-ca")? {
        roots
            .add(c)
            .map_err(|e| usage(format!("--client-ca {}: {e}", t.client_ca.display())))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| usage(format!("--client-ca {}: {e}", t.client_ca.display())))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| usage(format!("--tls-cert/--tls-key: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// With `--metrics` the kernel counts every call; records are streamed for
/// what the clients ask: their syscalls chosen in the kernel, their pids in
/// user space (the drill-down has no pid set).
/// No client (None): nothing is streamed.
fn drill_for(f: Option<&KernelFilter>) -> KernelMode {
    match f {
        None => KernelMode::Drill {
            cgroups: Some(Vec::new()),
            syscalls: Some(Vec::new()),
        },
        Some(f) => KernelMode::Drill {
            cgroups: f.cgroups.clone(),
            syscalls: f.syscalls.clone(),
        },
    }
}

/// The kernel filter while no client is connected: no records at all (no
/// process has pid 0 in user space).
fn no_clients() -> KernelFilter {
    KernelFilter {
        pids: Some(vec![0]),
        ..Default::default()
    }
}

/// A per-run identifier: clients tell a restarted agent by it.
fn run_id() -> u64 {
    let t = Clock::measure().boot_unix_ns as u64 ^ Clock::monotonic_now().rotate_left(32);
    (t ^ ((std::process::id() as u64) << 40)) | 1
}

pub fn run(a: Agent) -> Result<()> {
    // TLS files are checked before anything is loaded.
    let tls = a.tls.as_ref().map(server_config).transpose()?;
    let listener =
        TcpListener::bind(&a.listen[..]).map_err(|e| anyhow!("--listen {}: {e}", a.listen_text))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let stop = super::on_signals(None)?;
    // Before capture starts: it gives up the capability a low port needs.
    let metrics_socket = a
        .metrics
        .map(|(addr, _)| crate::consumer::metrics::bind(addr))
        .transpose()?;
    let live = Live::start(&LiveOptions {
        ring_mb: a.ring_mb,
        buf_size: a.buf_size,
        pids: Vec::new(),
        cri_sockets: a.cri_sockets.clone(),
        container_flags: Vec::new(),
        // Records: nothing until a client asks (the hub sets it). With
        // --metrics every call is counted, so the kernel filter stays open
        // and the records are the drill-down's.
        kernel: match a.metrics {
            Some(_) => KernelFilter::default(),
            None => no_clients(),
        },
        selection: None,
        agg_entries: default_agg_entries(),
        mode: match a.metrics {
            Some(_) => drill_for(None),
            None => KernelMode::Stream,
        },
        metrics: a.metrics,
        scope: a.scope.clone(),
        untimed: false,
    })?;
    let capture = live.capture();
    let handle = capture.filter_handle();
    let modes = capture.mode_handle();
    let stats = capture.stats.clone();
    let counted = live.counting().map(|c| c.counted);
    let set_kernel: super::hub::KernelSetter = match a.metrics {
        Some(_) => Box::new(move |f| modes.set_mode(drill_for(f.as_ref()))),
        None => Box::new(move |f| {
            let f = f.unwrap_or_else(no_clients);
            if !handle.set_and_wait(f, Duration::from_secs(5)) {
                say!("systrace-tui: the kernel filter could not be updated in time");
            }
        }),
    };
    let hub = Hub::new(HubOptions {
        node: a.node.clone(),
        run: run_id(),
        arch: Arch::native(),
        boot_unix_ns: Clock::measure().boot_unix_ns as i64,
        max_nr: MAX_NR,
        set_kernel,
        node_lost: Arc::new(move || stats.lost()),
        recycler: Some(capture.recycler.clone()),
        client_queue: a.client_queue,
        labels: counted.as_ref().map(|c| c.labels.clone()),
    });
    let metrics = match (a.metrics, metrics_socket, counted) {
        (Some((_, cap)), Some(socket), Some(c)) => Some(crate::consumer::metrics::serve(
            socket,
            c,
            cap,
            a.node.clone(),
            &stop,
        )?),
        _ => None,
    };
    let (down_tx, down_rx) = tokio::sync::oneshot::channel::<()>();
    let service = Service { hub: hub.clone() };
    let server = std::thread::Builder::new()
        .name("agent-server".into())
        .spawn(move || serve(listener, tls, service, down_rx))?;
    say!(
        "systrace-tui: node {} tracing, serving on {local} ({})",
        a.node,
        if a.tls.is_some() {
            "mutual TLS"
        } else {
            "insecure, loopback"
        }
    );
    let events = live.events().clone();
    // --publish: one more client of the hub, seeing everything.
    let publisher = match &a.publish {
        Some(url) => {
            let p = crate::consumer::publish::Publisher::connect(url, &a.node)?;
            let mut local = hub
                .local(crate::wire::pb::ClientFilter::default())
                .map_err(|e| anyhow!("--publish: {e}"))?;
            let stop3 = stop.clone();
            say!("systrace-tui: node {} publishing to {url}", a.node);
            Some(
                std::thread::Builder::new()
                    .name("publish".into())
                    .spawn(move || {
                        crate::consumer::publish::run(p, |w| local.next(w), &|| stop3.is_raised())
                    })?,
            )
        }
        None => None,
    };
    let stop2 = stop.clone();
    hub.run(&events, &move || stop2.is_raised());
    drop(events);
    if let Some(p) = publisher {
        p.join()
            .map_err(|_| anyhow!("the publisher thread panicked"))?;
    }
    let _ = down_tx.send(());
    if let Some(m) = metrics {
        m.join()
            .map_err(|_| anyhow!("the metrics server panicked"))?;
    }
    let served = server
        .join()
        .map_err(|_| anyhow!("the server thread panicked"))?;
    let end = Box::new(live).finish()?;
    say!(
        "systrace-tui: node {} stopped, {} lost (kernel {}, user space {})",
        a.node,
        end.lost.total(),
        end.lost.kernel,
        end.lost.channel
    );
    served
}

/// The gRPC server, on its own runtime, until `down` fires.
pub fn serve(
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    service: Service,
    down: tokio::sync::oneshot::Receiver<()>,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let shutdown = async {
            let _ = down.await;
        };
        let router = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(10)))
            .add_service(
                AgentServer::new(service)
                    .max_decoding_message_size(1 << 20)
                    .max_encoding_message_size(64 << 20),
            );
        match tls {
            None => {
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                router
                    .serve_with_incoming_shutdown(incoming, shutdown)
                    .await?
            }
            Some(cfg) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
                let (tx, rx) = tokio::sync::mpsc::channel(16);
                tokio::spawn(async move {
                    loop {
                        let (tcp, peer) = match listener.accept().await {
                            Ok(c) => c,
                            Err(e) => {
                                say!("systrace-tui: accepting a connection: {e}");
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                continue;
                            }
                        };
                        let acceptor = acceptor.clone();
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            let hs = tokio::time::timeout(
                                Duration::from_secs(10),
                                acceptor.accept(tcp),
                            )
                            .await;
                            match hs {
                                Ok(Ok(s)) => {
                                    let _ = tx.send(Ok::<_, std::io::Error>(s)).await;
                                }
                                Ok(Err(e)) => {
                                    say!("systrace-tui: refused a client from {peer}: {e}")
                                }
                                Err(_) => say!(
                                    "systrace-tui: refused a client from {peer}: no TLS handshake within 10 s"
                                ),
                            }
                        });
                    }
                });
                let incoming = tokio_stream::wrappers::ReceiverStream::new(rx);
                router
                    .serve_with_incoming_shutdown(incoming, shutdown)
                    .await?
            }
        }
        Ok::<_, anyhow::Error>(())
    })
}
