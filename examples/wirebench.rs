//! The agent stream's transport capacity: agents' serving paths (hub,
//! gRPC service, rustls mutual TLS on loopback) fed captured-like batches,
//! into one real client (`--node`'s source, its decoder and merge).
//! No kernel, no root: what the wire can carry, apart from what one node's
//! capture produces (bench/cluster measures that, live).
//!
//!   wirebench [--agents K] [--secs S] [--rate EV/S] [--batch N]
//!             [--form columns|events] [--insecure]
//!
//! --rate is per agent (0, the default: as fast as the hub takes them; the
//! client's queue at the agent then overflows and its loss is counted).
//! --form events makes the client ask for the per-event form (what clients
//! before the column form got). Prints one line of `key=value`:
//! made, received, lost (received + lost = made is checked), events/s
//! received, TCP bytes per event (the agents' sockets' `bytes_acked`, as
//! `ss` reports them: TLS records, HTTP/2 and gRPC framing included), and
//! CPU seconds per million events of the client's node threads and the
//! servers' TLS/HTTP/2 threads (per event received), and of the hubs and
//! the generators (per event made).
//!
//! The events are shaped like a getppid storm as the capture delivers it:
//! one thread calling getppid every 260-420 ns (durations 120-480 ns, the
//! same registers every call), and 1 event in 32 from one of 24 other
//! threads (read, write, futex, epoll_wait with varying arguments), in
//! batches of 4096 (the capture's batch).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use systrace_tui::clock::Clock;
use systrace_tui::model::event::{Event, LostEvents, Namespaces, TraceEvent};
use systrace_tui::model::stop::Stop;
use systrace_tui::model::syscalls::Arch;
use systrace_tui::model::testing::EventBuilder;
use systrace_tui::pipeline::agent::{self, ServerTls};
use systrace_tui::pipeline::hub::{Hub, HubOptions, Service};
use systrace_tui::source::remote::{ClientTls, Remote, RemoteOptions, Target};
use systrace_tui::wire::pb;

struct Opts {
    agents: usize,
    secs: f64,
    rate: f64,
    batch: usize,
    columns: bool,
    insecure: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        agents: 1,
        secs: 5.0,
        rate: 0.0,
        batch: 4096,
        columns: true,
        insecure: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next().unwrap_or_else(|| {
                eprintln!("wirebench: {a} needs a value");
                std::process::exit(2)
            })
        };
        let num = |v: String| -> f64 {
            v.parse().unwrap_or_else(|_| {
                eprintln!("wirebench: {v:?} is not a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--agents" => o.agents = num(val()).max(1.0) as usize,
            "--secs" => o.secs = num(val()),
            "--rate" => o.rate = num(val()),
            "--batch" => o.batch = num(val()).max(1.0) as usize,
            "--form" => {
                o.columns = match val().as_str() {
                    "columns" => true,
                    "events" => false,
                    f => {
                        eprintln!("wirebench: --form {f:?}: columns or events");
                        std::process::exit(2)
                    }
                }
            }
            "--insecure" => o.insecure = true,
            _ => {
                eprintln!("wirebench: unknown argument {a:?} (see the source's header)");
                std::process::exit(2)
            }
        }
    }
    o
}

/// A small deterministic generator (the same events every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Batches of storm-shaped events (see the header); `agent` keeps the
/// agents' threads apart.
fn batches(agent: usize, batch: usize, count: usize) -> Vec<Vec<Event>> {
    let host_ns = Namespaces {
        pid: 4026531836,
        mnt: 4026531841,
        uts: 4026531838,
        ipc: 4026531839,
        cgroup: 4026531835,
        net: 4026531840,
    };
    let pid = 40_000 + agent as u32 * 100;
    let storm = EventBuilder::named("getppid")
        .pid(pid)
        .comm("workload")
        .cgroup(0x2a51)
        .ns(host_ns)
        .ns_pid(pid, 1_234)
        .ret(39_871)
        .args(&[
            0x7ffc_3d2e_1a40,
            0,
            0x55d0_c4a1_b2c0,
            8,
            0,
            0x7f31_92a0_0000,
        ])
        .build();
    let noise: Vec<TraceEvent> = (0..24u32)
        .map(|i| {
            let name = ["read", "write", "futex", "epoll_wait"][i as usize % 4];
            EventBuilder::named(name)
                .pid(1_000 + i / 3)
                .tid(1_000 + i)
                .comm(["containerd", "kubelet", "sshd"][i as usize % 3])
                .cgroup(0x1000 + u64::from(i / 6))
                .ns(host_ns)
                .ns_pid(1_000 + i / 3, 1)
                .build()
        })
        .collect();
    let mut rng = Lcg(agent as u64 + 1);
    let mut t = 1_000_000_000u64;
    (0..count)
        .map(|_| {
            (0..batch)
                .map(|_| {
                    t += 260 + rng.next(160);
                    let mut e = if rng.next(32) == 0 {
                        let mut e = noise[rng.next(noise.len() as u64) as usize].clone();
                        e.args = [
                            rng.next(64),
                            0x7f00_0000_0000 + rng.next(1 << 30),
                            rng.next(1 << 16),
                            0,
                            0,
                            0,
                        ];
                        e.ret = rng.next(4096) as i64;
                        e
                    } else {
                        storm.clone()
                    };
                    e.start_ns = t;
                    e.finish_ns = t + 120 + rng.next(360);
                    Event::Syscall(e)
                })
                .collect()
        })
        .collect()
}

/// A CA, an agent's and a client's certificate, made with openssl.
fn pki(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command");
        assert!(out.status.success(), "openssl {args:?}");
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=ca",
        ],
    ]
    .concat());
    for (name, usage, san) in [
        ("agent", "serverAuth", "IP:127.0.0.1"),
        ("viewer", "clientAuth", "DNS:viewer"),
    ] {
        std::fs::write(
            dir.join(format!("{name}.ext")),
            format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage={usage}\n"),
        )
        .unwrap();
        let (key, csr, pem, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        run(&[
            &["req"][..],
            &ec,
            &["-nodes", "-keyout", &key, "-out", &csr, "-subj", "/CN=x"],
        ]
        .concat());
        run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "1",
            "-extfile",
            &ext,
        ]);
    }
}

/// Bytes the sockets serving `port` sent and had acknowledged.
fn bytes_sent(port: u16) -> u64 {
    let out = Command::new("ss")
        .args([
            "-tinH",
            "state",
            "established",
            "sport",
            "=",
            &format!(":{port}"),
        ])
        .output()
        .expect("the ss command");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("bytes_acked:"))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// CPU seconds of this process's threads, by the group their name puts
/// them in.
fn cpu_by_thread() -> [f64; 4] {
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut out = [0.0; 4];
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let f: Vec<&str> = stat[close + 2..].split(' ').collect();
        let secs =
            (f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0)) / tick;
        let group = if name.starts_with("node-") {
            0
        } else if name.starts_with("hub") {
            1
        } else if name.starts_with("gen") {
            3
        } else {
            // The servers' runtime workers and whatever else.
            2
        };
        out[group] += secs;
    }
    out
}

fn main() {
    let o = opts();
    let dir: PathBuf = std::env::temp_dir().join(format!("wirebench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if !o.insecure {
        pki(&dir);
    }
    let p = |f: &str| dir.join(f);
    let go = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicU64::new(0));
    let mut ports = Vec::new();
    let mut hubs = Vec::new();
    let mut gens = Vec::new();
    let mut servers = Vec::new();
    let mut downs = Vec::new();
    let t_gen = Arc::new(AtomicU64::new(0));
    // Raised once measured: the threads stay until then (their CPU times
    // are read from /proc), and the hubs' streams stay open (their sockets'
    // byte counts are read with ss).
    let done = Arc::new(AtomicBool::new(false));
    let generated = Arc::new(AtomicU64::new(0));
    let mut keep = Vec::new();
    for k in 0..o.agents {
        let hub = Hub::new(HubOptions {
            node: format!("bench-{k}"),
            run: 1 + k as u64,
            arch: Arch::native(),
            boot_unix_ns: Clock::measure().boot_unix_ns as i64,
            max_nr: 1024,
            set_kernel: Box::new(|_| {}),
            node_lost: Arc::new(LostEvents::default),
            recycler: None,
            client_queue: 262_144,
            labels: None,
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        ports.push(listener.local_addr().unwrap().port());
        let tls = (!o.insecure).then(|| {
            agent::server_config(&ServerTls {
                cert: p("agent.pem"),
                key: p("agent.key"),
                client_ca: p("ca.pem"),
            })
            .unwrap()
        });
        let (down_tx, down_rx) = tokio::sync::oneshot::channel();
        downs.push(down_tx);
        let service = Service { hub: hub.clone() };
        servers.push(
            std::thread::Builder::new()
                .name(format!("server-{k}"))
                .spawn(move || agent::serve(listener, tls, service, down_rx))
                .unwrap(),
        );
        let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(16);
        keep.push(tx.clone());
        let h = hub.clone();
        let hub_thread = std::thread::Builder::new()
            .name(format!("hub-{k}"))
            .spawn(move || h.run(&rx, &|| false))
            .unwrap();
        hubs.push((hub, hub_thread));
        let pool = batches(k, o.batch, 32);
        let span = pool.iter().flatten().count() as u64 * 400;
        let (go, made, t_gen) = (go.clone(), made.clone(), t_gen.clone());
        let (done, generated) = (done.clone(), generated.clone());
        let (secs, rate) = (o.secs, o.rate);
        gens.push(
            std::thread::Builder::new()
                .name(format!("gen-{k}"))
                .spawn(move || {
                    while !go.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let start = Instant::now();
                    let mut sent = 0u64;
                    'run: for round in 0u64.. {
                        for b in &pool {
                            if start.elapsed().as_secs_f64() >= secs {
                                break 'run;
                            }
                            if rate > 0.0 {
                                let due = start + Duration::from_secs_f64(sent as f64 / rate);
                                if let Some(w) = due.checked_duration_since(Instant::now()) {
                                    std::thread::sleep(w);
                                }
                            }
                            // Times go on increasing round after round.
                            let shift = round * span;
                            let b: Vec<Event> = b
                                .iter()
                                .map(|e| match e {
                                    Event::Syscall(t) => {
                                        let mut t = t.clone();
                                        t.start_ns += shift;
                                        t.finish_ns += shift;
                                        Event::Syscall(t)
                                    }
                                    e => e.clone(),
                                })
                                .collect();
                            sent += b.len() as u64;
                            if tx.send(b).is_err() {
                                break 'run;
                            }
                        }
                    }
                    made.fetch_add(sent, Ordering::Relaxed);
                    t_gen.fetch_max(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    generated.fetch_add(1, Ordering::Relaxed);
                    drop(tx);
                    while !done.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                })
                .unwrap(),
        );
    }
    let read = |f: &str| std::fs::read(p(f)).unwrap();
    let stop = Stop::new(None);
    let remote = Remote::start(
        RemoteOptions {
            targets: ports
                .iter()
                .map(|port| Target {
                    addr: format!("127.0.0.1:{port}"),
                    server_name: None,
                })
                .collect(),
            tls: (!o.insecure).then(|| ClientTls {
                ca_pem: read("ca.pem"),
                identity: Some((read("viewer.pem"), read("viewer.key"))),
            }),
            filter: pb::ClientFilter::default(),
            clock: Clock::measure(),
            columns: o.columns,
        },
        &stop,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hubs.iter().any(|(h, _)| h.clients() == 0) {
        assert!(Instant::now() < deadline, "the client did not connect");
        std::thread::sleep(Duration::from_millis(10));
    }
    let cpu0 = cpu_by_thread();
    let start = Instant::now();
    go.store(true, Ordering::Relaxed);
    let mut received = 0u64;
    let mut last = start;
    let mut quiet_since: Option<Instant> = None;
    loop {
        match remote.events.recv_timeout(Duration::from_millis(50)) {
            Ok(batch) => {
                received += batch
                    .iter()
                    .filter(|e| matches!(e, Event::Syscall(_)))
                    .count() as u64;
                last = Instant::now();
                quiet_since = None;
            }
            Err(_) => {
                let generating = generated.load(Ordering::Relaxed) < o.agents as u64;
                if !generating
                    && quiet_since.get_or_insert_with(Instant::now).elapsed()
                        > Duration::from_secs(1)
                {
                    break;
                }
            }
        }
    }
    let cpu1 = cpu_by_thread();
    let bytes: u64 = ports.iter().map(|&p| bytes_sent(p)).sum();
    done.store(true, Ordering::Relaxed);
    // Dropping the last senders ends the hubs' loops.
    drop(keep);
    for g in gens {
        g.join().unwrap();
    }
    // The lost counts reach the client within the hub's report interval.
    std::thread::sleep(Duration::from_millis(400));
    while remote.events.try_recv().is_ok() {}
    let end = remote.finish().unwrap();
    for (_, t) in hubs {
        t.join().unwrap();
    }
    for d in downs {
        let _ = d.send(());
    }
    for s in servers {
        let _ = s.join();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let made = made.load(Ordering::Relaxed);
    let got: u64 = end.nodes.iter().map(|n| n.received).sum();
    let lost: u64 = end
        .nodes
        .iter()
        .map(|n| {
            let l = n.lost();
            l.kernel + l.channel + l.client
        })
        .sum();
    let secs = last.duration_since(start).as_secs_f64();
    let gen_secs = t_gen.load(Ordering::Relaxed) as f64 / 1e9;
    // The client and the servers handle what was received, the hubs and
    // generators everything made.
    let per_m = |i: usize| {
        let n = if i == 0 || i == 2 { received } else { made };
        (cpu1[i] - cpu0[i]) / (n.max(1) as f64 / 1e6)
    };
    println!(
        "form={} tls={} agents={} batch={} rate_per_agent={} made={made} received={received} lost={lost} exact={} offered_ev_s={:.0} received_ev_s={:.0} tcp_bytes_per_event={:.2} cpu_s_per_M: client={:.3} hub={:.3} server={:.3} gen={:.3}",
        if o.columns { "columns" } else { "events" },
        if o.insecure { "none" } else { "mutual" },
        o.agents,
        o.batch,
        o.rate,
        got + lost == made && got == received,
        made as f64 / gen_secs,
        received as f64 / secs,
        bytes as f64 / received.max(1) as f64,
        per_m(0),
        per_m(1),
        per_m(2),
        per_m(3),
    );
}
