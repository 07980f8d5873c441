//! `--metrics ADDR`: the kernel's counts as Prometheus metrics under
//! `/metrics`. A small std TcpListener server on a thread of its own: one
//! route, a scrape every few seconds, answered and closed; an HTTP
//! library (hyper, in the tree through tonic) would bring an async
//! runtime to the run for that.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

use crate::model::container::ContainerMap;
use crate::model::counts::Counted;
use crate::model::counts::{bucket_range, Counts};
use crate::model::errno;
use crate::model::stop::Stop;
use crate::model::syscalls::{self, Arch};

/// Label values of the containers past the cap.
pub const OTHER: &str = "(other)";

/// Histogram bounds: every second power of two from 2^10 ns (1 us) to
/// 2^32 ns (4.3 s), which the kernel's buckets meet exactly.
const LE_EXP: [u32; 12] = [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32];

/// Which containers have labels of their own: the first `cap` seen, for
/// the whole run (so no series of theirs ever moves to `(other)` and a
/// counter never goes down).
#[derive(Debug, Default)]
pub struct Folding {
    cap: usize,
    own: HashMap<String, ()>,
}

impl Folding {
    pub fn new(cap: usize) -> Folding {
        Folding {
            cap,
            own: HashMap::new(),
        }
    }

    fn keeps(&mut self, id: &str) -> bool {
        if self.own.contains_key(id) {
            return true;
        }
        if self.own.len() < self.cap {
            self.own.insert(id.to_string(), ());
            return true;
        }
        false
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Labels {
    syscall: String,
    class: &'static str,
    pod: String,
    namespace: String,
    container: String,
}

#[derive(Default)]
struct Series {
    calls: u64,
    errors: BTreeMap<u32, u64>,
    hist: Vec<u64>,
    timed: u64,
    sum_ns: u128,
}

/// Escapes a label value (text format: backslash, quote, newline).
fn esc(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// The metrics text of everything counted so far.
pub fn render(c: &Counts, labels: &ContainerMap, fold: &mut Folding, node: &str) -> String {
    let arch = c.arch.unwrap_or_else(Arch::native);
    let mut series: BTreeMap<Labels, Series> = BTreeMap::new();
    // Cgroups in a stable order, so the first `cap` containers are the
    // same whatever order the map iterates in.
    let mut keys: Vec<_> = c.cells.keys().copied().collect();
    keys.sort();
    for k in keys {
        let cell = &c.cells[&k];
        let (pod, namespace, container) = match labels.get(k.cgroup_id) {
            None => (String::new(), String::new(), String::new()),
            Some(ci) if fold.keeps(&ci.id) => (
                ci.pod_name().unwrap_or("").to_string(),
                ci.namespace().unwrap_or("").to_string(),
                ci.display_name().to_string(),
            ),
            Some(_) => (OTHER.into(), OTHER.into(), OTHER.into()),
        };
        let info = syscalls::lookup(arch, k.nr);
        let l = Labels {
            syscall: syscalls::name_or_unknown(arch, k.nr).into_owned(),
            class: info.map_or("other", |i| i.class.name()),
            pod,
            namespace,
            container,
        };
        let s = series.entry(l).or_default();
        let d = &cell.total;
        s.calls += d.calls;
        if k.errno != 0 {
            *s.errors.entry(k.errno).or_default() += d.calls;
        }
        if s.hist.is_empty() {
            s.hist = vec![0; LE_EXP.len()];
        }
        for (i, n) in d.hist.iter() {
            let hi = bucket_range(i).1;
            for (j, &e) in LE_EXP.iter().enumerate() {
                if hi <= 1u64 << e {
                    s.hist[j] += n;
                }
            }
            s.timed += n;
        }
        s.sum_ns += u128::from(d.total_ns);
    }
    let node = esc(node);
    let base = |l: &Labels| {
        format!(
            "syscall=\"{}\",class=\"{}\",pod=\"{}\",namespace=\"{}\",container=\"{}\",node=\"{node}\"",
            esc(&l.syscall),
            l.class,
            esc(&l.pod),
            esc(&l.namespace),
            esc(&l.container)
        )
    };
    let mut o = String::new();
    o.push_str("# HELP systrace_syscalls_total Syscalls counted in the kernel.\n");
    o.push_str("# TYPE systrace_syscalls_total counter\n");
    for (l, s) in &series {
        let _ = writeln!(o, "systrace_syscalls_total{{{}}} {}", base(l), s.calls);
    }
    o.push_str("# HELP systrace_syscall_errors_total Failed syscalls by errno.\n");
    o.push_str("# TYPE systrace_syscall_errors_total counter\n");
    for (l, s) in &series {
        for (e, n) in &s.errors {
            let name = errno::name(*e).map_or_else(|| e.to_string(), str::to_string);
            let _ = writeln!(
                o,
                "systrace_syscall_errors_total{{{},errno=\"{}\"}} {n}",
                base(l),
                esc(&name)
            );
        }
    }
    o.push_str("# HELP systrace_syscall_duration_seconds Syscall latency (calls that returned).\n");
    o.push_str("# TYPE systrace_syscall_duration_seconds histogram\n");
    for (l, s) in &series {
        let b = base(l);
        for (j, &e) in LE_EXP.iter().enumerate() {
            let le = (1u64 << e) as f64 / 1e9;
            let _ = writeln!(
                o,
                "systrace_syscall_duration_seconds_bucket{{{b},le=\"{le}\"}} {}",
                s.hist[j]
            );
        }
        let _ = writeln!(
            o,
            "systrace_syscall_duration_seconds_bucket{{{b},le=\"+Inf\"}} {}",
            s.timed
        );
        let _ = writeln!(
            o,
            "systrace_syscall_duration_seconds_sum{{{b}}} {}",
            s.sum_ns as f64 / 1e9
        );
        let _ = writeln!(
            o,
            "systrace_syscall_duration_seconds_count{{{b}}} {}",
            s.timed
        );
    }
    o.push_str(
        "# HELP systrace_uncounted_total Calls the kernel saw but could not count: \
         map_full (--agg-entries), no_enter (in flight when tracing started).\n",
    );
    o.push_str("# TYPE systrace_uncounted_total counter\n");
    let _ = writeln!(
        o,
        "systrace_uncounted_total{{reason=\"map_full\",node=\"{node}\"}} {}",
        c.misses.full
    );
    let _ = writeln!(
        o,
        "systrace_uncounted_total{{reason=\"no_enter\",node=\"{node}\"}} {}",
        c.misses.unentered
    );
    o
}

/// This machine's name (the `node` label).
pub fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The listening socket, made before capture starts: the tracer gives up
/// its capabilities once attached, and a port below 1024 needs one.
pub fn bind(addr: SocketAddr) -> Result<TcpListener> {
    let listener =
        TcpListener::bind(addr).map_err(|e| anyhow!("--metrics {addr}: cannot listen: {e}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Answers scrapes on `listener` until `stop` is raised.
pub fn serve(
    listener: TcpListener,
    counted: Counted,
    cap: usize,
    node: String,
    stop: &Stop,
) -> Result<JoinHandle<()>> {
    crate::say!(
        "systrace-tui: metrics at http://{}/metrics",
        listener
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string())
    );
    let stop = stop.clone();
    let h = std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let fold = Arc::new(Mutex::new(Folding::new(cap)));
            let node = Arc::new(node);
            let open = Arc::new(AtomicUsize::new(0));
            while !stop.is_raised() {
                match listener.accept() {
                    // Each connection on a thread of its own, so a client
                    // that sends nothing holds up nobody else's scrape;
                    // past MAX_CONNECTIONS a new one is closed at once.
                    Ok((s, _)) if open.load(Ordering::Relaxed) < MAX_CONNECTIONS => {
                        open.fetch_add(1, Ordering::Relaxed);
                        let (counted, fold, node, done) =
                            (counted.clone(), fold.clone(), node.clone(), open.clone());
                        let spawned = std::thread::Builder::new()
                            .name("metrics-conn".into())
                            .spawn(move || {
                                let _ = answer(s, &counted, &fold, &node);
                                done.fetch_sub(1, Ordering::Relaxed);
                            });
                        if spawned.is_err() {
                            open.fetch_sub(1, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        })?;
    Ok(h)
}

/// Connections answered at once; each waits at most 2 s for its request.
const MAX_CONNECTIONS: usize = 16;

/// One request: `GET /metrics` gets the text, anything else a 404.
fn answer(
    mut s: TcpStream,
    counted: &Counted,
    fold: &Mutex<Folding>,
    node: &str,
) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    let until = Instant::now() + Duration::from_secs(2);
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16384 && Instant::now() < until {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let line = req.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (parts.next().unwrap_or(&[]), parts.next().unwrap_or(&[]));
    let path = path.split(|&b| b == b'?').next().unwrap_or(&[]);
    let (status, body) = if method == b"GET" && path == b"/metrics" {
        let labels = counted
            .labels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let c = counted.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut fold = fold.lock().unwrap_or_else(|e| e.into_inner());
        ("200 OK", render(&c, &labels, &mut fold, node))
    } else {
        ("404 Not Found", "not found: try /metrics\n".to_string())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())?;
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::container::{ContainerAddEvent, ContainerInfo, PodInfo, Runtime};
    use crate::model::counts::{Delta, Key, Misses};
    use std::sync::Arc;

    fn add(map: &mut ContainerMap, cg: u64, id: &str, name: &str) {
        let mut c = ContainerInfo::new(id, Runtime::Podman);
        c.name = Some(name.into());
        c.pod = Some(PodInfo {
            name: Some("web\"pod".into()),
            ..PodInfo::default()
        });
        map.add(&ContainerAddEvent {
            cgroup_id: cg,
            container: Arc::new(c),
        });
    }

    #[test]
    fn counts_errors_and_buckets_per_label_set_with_containers_past_the_cap_folded() {
        let mut c = Counts::new(Arch::X86_64, 1.0);
        let d = Delta::uniform;
        let k = Key::new;
        c.merge(
            &[
                (k(1, 110, 0), d(5, 500)),
                (k(2, 2, 2), d(3, 3000)),
                (k(2, 2, 0), d(4, 3000)),
                (k(3, 110, 0), d(7, 500)),
                (k(4, 110, 0), d(1, 500)),
            ],
            Misses {
                full: 9,
                unentered: 0,
            },
            true,
        );
        let mut labels = ContainerMap::default();
        add(&mut labels, 2, "a", "db");
        add(&mut labels, 3, "b", "cache");
        add(&mut labels, 4, "c", "late");
        let mut fold = Folding::new(2);
        let t = render(&c, &labels, &mut fold, "n1");
        let host =
            r#"syscall="getppid",class="process",pod="",namespace="",container="",node="n1""#;
        assert!(
            t.contains(&format!("systrace_syscalls_total{{{host}}} 5\n")),
            "{t}"
        );
        let db =
            r#"syscall="open",class="file",pod="web\"pod",namespace="",container="db",node="n1""#;
        assert!(
            t.contains(&format!("systrace_syscalls_total{{{db}}} 7\n")),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "systrace_syscall_errors_total{{{db},errno=\"ENOENT\"}} 3\n"
            )),
            "{t}"
        );
        // 3 us: under 4.096 us (2^12), not under 1.024 us.
        assert!(
            t.contains(&format!(
                "systrace_syscall_duration_seconds_bucket{{{db},le=\"0.000004096\"}} 7\n"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "systrace_syscall_duration_seconds_bucket{{{db},le=\"0.000001024\"}} 0\n"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "systrace_syscall_duration_seconds_count{{{db}}} 7\n"
            )),
            "{t}"
        );
        // The third container is past the cap of 2.
        assert!(t.contains(r#"container="(other)""#), "{t}");
        assert!(!t.contains(r#"container="late""#), "{t}");
        assert!(t.contains("systrace_uncounted_total{reason=\"map_full\",node=\"n1\"} 9\n"));
        // The same containers keep their labels on the next scrape.
        let again = render(&c, &labels, &mut fold, "n1");
        assert_eq!(t, again);
    }

    /// A client that connects and sends nothing does not hold up a scrape:
    /// the scrape is answered while that connection is still open (it was
    /// answered only once the silent one had timed out and been closed).
    #[test]
    fn a_silent_client_holds_up_no_scrape() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Stop::new(None);
        let h = serve(listener, Counted::new(Arch::X86_64), 10, "n".into(), &stop).unwrap();
        // Connected first, so accepted first.
        let mut silent = TcpStream::connect(addr).unwrap();
        let mut scrape = TcpStream::connect(addr).unwrap();
        scrape.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut answer = String::new();
        scrape.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        // Still open: a read finds nothing yet rather than the end.
        silent.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        let r = silent.read(&mut b);
        assert!(
            matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{r:?}"
        );
        stop.raise();
        h.join().unwrap();
    }

    /// --metrics-containers 0: every container under "(other)" (it was
    /// taken as 1).
    #[test]
    fn a_cap_of_zero_folds_every_container() {
        let mut fold = Folding::new(0);
        assert!(!fold.keeps("a"));
        assert!(!fold.keeps("b"));
    }
}
