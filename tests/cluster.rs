//! Root-only: cluster mode for real. Node agents (`systrace-tui agent`) on
//! loopback ports, each tracing this machine's kernel, and clients
//! (`systrace-tui --node`) merging their streams; certificates made by the
//! test with the openssl command. Each node reports the same known
//! workload, so every node's count is exact and known.

mod common;
mod runtimes;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    bin, in_cgroup, require_root, wait_for, with_hostname, workload, Reaped, Scratch, TestCgroup,
};

/// Collects a child's pipe into a shared string on a thread.
fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let out = Arc::new(Mutex::new(String::new()));
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1 << 16];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => sink
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    });
    out
}

struct Agent {
    child: Reaped,
    addr: String,
    err: Arc<Mutex<String>>,
}

impl Agent {
    /// Starts an agent and waits until it serves; `listen` may have port 0.
    fn start(name: &str, listen: &str, extra: &[&str]) -> Agent {
        Self::start_with(Command::new(bin()), name, listen, extra)
    }

    /// As `start`, the agent's command line appended to `cmd` (a wrapper
    /// such as `nsenter`, which execs it: the child is the agent).
    fn start_with(mut cmd: Command, name: &str, listen: &str, extra: &[&str]) -> Agent {
        if cmd.get_program() != bin().as_os_str() {
            cmd.arg(bin());
        }
        let mut child = cmd
            .args(["agent", "--listen", listen, "--node-name", name])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let child = Reaped(child);
        let mut said = String::new();
        let addr = loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("agent {name} did not start: {said}");
            }
            said.push_str(&line);
            if let Some(rest) = line.split("serving on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let err = collect(err);
        err.lock().unwrap().push_str(&said);
        Agent { child, addr, err }
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }
}

struct Client {
    child: Reaped,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

impl Client {
    fn start(args: &[impl AsRef<std::ffi::OsStr>]) -> Client {
        let mut child = Command::new(bin())
            .args(["--no-tui", "--color", "never"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Client {
            child: Reaped(child),
            out,
            err,
        }
    }

    fn stdout(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Lines of node `node` on stdout that mention `what`.
    fn count(&self, node: &str, what: &str) -> usize {
        let prefix = format!("{node}:");
        self.stdout()
            .lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(what))
            .count()
    }

    fn wait_stderr(&self, what: &str) -> String {
        wait_for(Duration::from_secs(30), || {
            let e = self.stderr();
            e.contains(what).then_some(e)
        })
        .unwrap_or_else(|| panic!("client never said {what:?}: {}", self.stderr()))
    }

    /// SIGINT, then the whole of its output.
    fn stop(mut self) -> (String, String) {
        self.child.signal(libc::SIGINT);
        let st = self.child.wait(Duration::from_secs(30));
        assert!(
            st.is_some_and(|s| s.success()),
            "client ended with {st:?}: {}",
            self.stderr()
        );
        // The readers finish with the pipes.
        wait_for(Duration::from_secs(5), || {
            self.stderr().contains("events captured").then_some(())
        });
        (self.stdout(), self.stderr())
    }
}

/// `workload gated-getppid N`: waits for a byte on stdin, then makes N
/// getppid calls and exits.
struct Gated {
    child: Reaped,
}

impl Gated {
    fn new(n: u64) -> Gated {
        Self::with(&["gated-getppid", &n.to_string()])
    }

    /// At most about `per_ms` calls a millisecond.
    fn paced(n: u64, per_ms: u64) -> Gated {
        Self::with(&["gated-getppid-paced", &n.to_string(), &per_ms.to_string()])
    }

    fn with(args: &[&str]) -> Gated {
        let child = Command::new(workload())
            .args(args)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        Gated {
            child: Reaped(child),
        }
    }

    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    fn go(mut self) {
        self.child.0.stdin.take().unwrap().write_all(b"x").unwrap();
        let st = self.child.wait(Duration::from_secs(60));
        assert!(st.is_some_and(|s| s.success()));
    }
}

fn getppid_of(pids: &[u32]) -> String {
    let p: Vec<String> = pids.iter().map(|p| format!("pid == {p}")).collect();
    format!("({}) and syscall == getppid", p.join(" or "))
}

/// The closing line a client prints for a node.
fn node_summary<'a>(err: &'a str, node: &str) -> &'a str {
    err.lines()
        .find(|l| l.starts_with(&format!("systrace-tui: node {node} (")) && l.contains("received"))
        .unwrap_or_else(|| panic!("no summary for node {node}: {err}"))
}

#[test]
fn two_agents_merged_exactly_and_the_session_replays_with_nodes() {
    if !require_root("two_agents_merged_exactly_and_the_session_replays_with_nodes") {
        return;
    }
    const N: u64 = 3000;
    let scratch = Scratch::new();
    let session = scratch.path("merged.jsonl");
    let a = Agent::start("alpha", "127.0.0.1:0", &["--insecure"]);
    let b = Agent::start("beta", "127.0.0.1:0", &["--insecure"]);
    let w = Gated::new(N);
    let filter = getppid_of(&[w.pid()]);
    let c = Client::start(&[
        "--node",
        &a.addr,
        "--node",
        &b.addr,
        "--insecure",
        "--filter",
        &filter,
        "-w",
        session.to_str().unwrap(),
    ]);
    c.wait_stderr("node alpha (");
    c.wait_stderr("node beta (");
    w.go();
    let done = wait_for(Duration::from_secs(60), || {
        (c.count("alpha", "getppid()") as u64 >= N && c.count("beta", "getppid()") as u64 >= N)
            .then_some(())
    });
    assert!(done.is_some(), "not everything came: {}", c.stderr());
    let (out, err) = c.stop();
    for node in ["alpha", "beta"] {
        let n = out
            .lines()
            .filter(|l| l.starts_with(&format!("{node}:")))
            .count() as u64;
        assert_eq!(n, N, "node {node}, exactly once each");
        let s = node_summary(&err, node);
        assert!(s.contains(&format!("{N} events received, 0 lost")), "{s}");
    }
    // The session knows the nodes, and a replay shows them.
    let (rout, rerr, code) = common::replay(&session, &[]);
    assert_eq!(code, 0, "{rerr}");
    for node in ["alpha", "beta"] {
        let n = rout
            .lines()
            .filter(|l| l.starts_with(&format!("{node}:")))
            .count() as u64;
        assert_eq!(n, N, "replayed lines of {node}");
    }
    let (fout, _, code) = common::replay(&session, &["--filter", "node == \"beta\""]);
    assert_eq!(code, 0);
    assert_eq!(fout.lines().count() as u64, N);
    assert!(fout.lines().all(|l| l.starts_with("beta:")));
    drop(a);
    drop(b);
}

/// A CA and certificates signed by it, made with the openssl command.
struct Pki {
    dir: Scratch,
}

impl Pki {
    fn run(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn new() -> Pki {
        let dir = Scratch::new();
        for ca in ["ca", "other-ca"] {
            Self::run(
                dir.dir(),
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.pem"),
                    "-days",
                    "1",
                    "-subj",
                    &format!("/CN={ca}"),
                ],
            );
        }
        let pki = Pki { dir };
        pki.leaf(
            "ca",
            "agent",
            "serverAuth",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        );
        pki.leaf("ca", "viewer", "clientAuth", "subjectAltName=DNS:viewer");
        pki.leaf(
            "other-ca",
            "stranger",
            "clientAuth",
            "subjectAltName=DNS:stranger",
        );
        pki
    }

    fn leaf(&self, ca: &str, name: &str, usage: &str, san: &str) {
        let ext = format!(
            "{san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage={usage}\n"
        );
        std::fs::write(self.dir.path(&format!("{name}.ext")), ext).unwrap();
        Self::run(
            self.dir.dir(),
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        Self::run(
            self.dir.dir(),
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.pem"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "1",
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }

    fn path(&self, f: &str) -> String {
        self.dir.path(f).to_str().unwrap().to_string()
    }
}

#[test]
fn mutual_tls_serves_a_client_with_a_certificate_and_refuses_others() {
    if !require_root("mutual_tls_serves_a_client_with_a_certificate_and_refuses_others") {
        return;
    }
    const N: u64 = 500;
    let pki = Pki::new();
    let a = Agent::start(
        "secure",
        "127.0.0.1:0",
        &[
            "--tls-cert",
            &pki.path("agent.pem"),
            "--tls-key",
            &pki.path("agent.key"),
            "--client-ca",
            &pki.path("ca.pem"),
        ],
    );
    let w = Gated::new(N);
    let filter = getppid_of(&[w.pid()]);
    let (args, ca) = (["--node", &a.addr, "--filter", &filter], pki.path("ca.pem"));
    let good = Client::start(&common::tls_client(
        &args,
        &ca,
        Some((&pki.path("viewer.pem"), &pki.path("viewer.key"))),
    ));
    // No certificate, and one from a CA the agent does not trust.
    let anonymous = Client::start(&common::tls_client(&args, &ca, None));
    let stranger = Client::start(&common::tls_client(
        &args,
        &ca,
        Some((&pki.path("stranger.pem"), &pki.path("stranger.key"))),
    ));
    good.wait_stderr("node secure (");
    anonymous.wait_stderr("down at");
    stranger.wait_stderr("down at");
    let refused = wait_for(Duration::from_secs(30), || {
        (a.stderr()
            .matches("refused a client from 127.0.0.1")
            .count()
            >= 2)
            .then_some(())
    });
    assert!(
        refused.is_some(),
        "the agent did not log the refusals: {}",
        a.stderr()
    );
    w.go();
    let all = wait_for(Duration::from_secs(60), || {
        (good.count("secure", "getppid()") as u64 >= N).then_some(())
    });
    assert!(all.is_some(), "{}", good.stderr());
    let (out, err) = good.stop();
    assert_eq!(out.lines().count() as u64, N);
    assert!(node_summary(&err, "secure").contains(&format!("{N} events received, 0 lost")));
    for c in [anonymous, stranger] {
        let (out, err) = c.stop();
        assert!(out.is_empty(), "a refused client got events: {out}");
        assert!(!err.contains("up at"), "{err}");
    }
}

#[test]
fn insecure_is_refused_off_loopback() {
    // Checked before anything is loaded: no root needed.
    let out = Command::new(bin())
        .args([
            "agent",
            "--listen",
            "0.0.0.0:0",
            "--node-name",
            "n",
            "--insecure",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--insecure serves on loopback only"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = Command::new(bin())
        .args(["agent", "--listen", "127.0.0.1:0", "--node-name", "n"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "neither TLS nor --insecure");
    let (_, err, code) = common::headless(&["--node", "192.0.2.1:7000", "--insecure"]);
    assert_eq!(code, 2);
    assert!(err.contains("loopback only"), "{err}");
    let (_, err, code) = common::headless(&["--node", "127.0.0.1:7000"]);
    assert_eq!(code, 2, "neither --tls-ca nor --insecure: {err}");
}

#[test]
fn a_killed_agent_is_shown_down_then_back_with_nothing_twice() {
    if !require_root("a_killed_agent_is_shown_down_then_back_with_nothing_twice") {
        return;
    }
    const N: u64 = 1000;
    let a = Agent::start("steady", "127.0.0.1:0", &["--insecure"]);
    let mut b = Agent::start("flaky", "127.0.0.1:0", &["--insecure"]);
    let (w1, w2) = (Gated::new(N), Gated::new(N));
    let (p1, p2) = (w1.pid(), w2.pid());
    let c = Client::start(&[
        "--node",
        &a.addr,
        "--node",
        &b.addr,
        "--insecure",
        "--filter",
        &getppid_of(&[p1, p2]),
    ]);
    c.wait_stderr("node steady (");
    c.wait_stderr("node flaky (");
    w1.go();
    let got = |node: &str, pid: u32| c.count(node, &format!("[{pid}/")) as u64;
    assert!(wait_for(Duration::from_secs(60), || {
        (got("steady", p1) >= N && got("flaky", p1) >= N).then_some(())
    })
    .is_some());
    // kill -9: the client shows the node down, with the time.
    b.child.signal(libc::SIGKILL);
    b.child
        .wait(Duration::from_secs(10))
        .expect("the agent died");
    let err = c.wait_stderr("node flaky (");
    let err = wait_for(Duration::from_secs(30), || {
        let e = c.stderr();
        e.contains(&format!("node flaky ({}) down at", b.addr))
            .then_some(e)
    })
    .unwrap_or(err);
    assert!(
        err.contains(&format!("node flaky ({}) down at", b.addr)),
        "{err}"
    );
    // Back on the same address: reconnected, the gap said.
    let addr = b.addr.clone();
    b = Agent::start("flaky", &addr, &["--insecure"]);
    let err = c.wait_stderr("node flaky");
    let back = wait_for(Duration::from_secs(30), || {
        let e = c.stderr();
        e.contains("up again at").then_some(e)
    })
    .unwrap_or(err);
    assert!(back.contains("gap: the agent restarted"), "{back}");
    w2.go();
    assert!(wait_for(Duration::from_secs(60), || {
        (got("steady", p2) >= N && got("flaky", p2) >= N).then_some(())
    })
    .is_some());
    let (out, err) = c.stop();
    let count = |node: &str, pid: u32| {
        out.lines()
            .filter(|l| l.starts_with(&format!("{node}:")) && l.contains(&format!("[{pid}/")))
            .count() as u64
    };
    // Nothing twice; the node that stayed up has all of it.
    assert_eq!((count("steady", p1), count("steady", p2)), (N, N));
    assert_eq!((count("flaky", p1), count("flaky", p2)), (N, N));
    assert!(node_summary(&err, "steady").contains(&format!("{} events received, 0 lost", 2 * N)));
    drop(b);
    drop(a);
}

/// A client of the agent's gRPC service, in the test: real connection,
/// real agent, read when the test says so.
type Frames = tonic::Streaming<systrace_tui::wire::pb::Frame>;

fn watch(rt: &tokio::runtime::Runtime, addr: &str, expr: &str) -> Frames {
    watch_from(rt, addr, expr, 0, 0)
}

/// `watch`, resuming after sequence `after` of agent run `run` (0, 0: new).
fn watch_from(
    rt: &tokio::runtime::Runtime,
    addr: &str,
    expr: &str,
    run: u64,
    after: u64,
) -> Frames {
    use systrace_tui::wire::pb::{agent_client::AgentClient, ClientFilter, WatchRequest};
    rt.block_on(async {
        let mut c = AgentClient::connect(format!("http://{addr}"))
            .await
            .unwrap()
            .max_decoding_message_size(64 << 20);
        c.watch(WatchRequest {
            filter: Some(ClientFilter {
                expr: expr.to_string(),
                ..Default::default()
            }),
            run,
            after_seq: after,
            // The per-event form, as a client that predates columns asks.
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
    })
}

/// Reads until received + lost = `n` (or the stream stalls): (received, lost).
fn read_all(rt: &tokio::runtime::Runtime, s: &mut Frames, n: u64) -> (u64, u64) {
    use systrace_tui::wire::pb::frame::Body;
    rt.block_on(async {
        let (mut got, mut lost) = (0u64, 0u64);
        while got + lost < n {
            match tokio::time::timeout(Duration::from_secs(20), s.message()).await {
                Ok(Ok(Some(f))) => match f.body {
                    Some(Body::Batch(b)) => got += b.events.len() as u64,
                    Some(Body::Lost(l)) => lost = l.kernel + l.channel + l.client,
                    _ => {}
                },
                _ => break,
            }
        }
        (got, lost)
    })
}

#[test]
fn a_slow_client_gets_lost_counts_while_a_fast_one_gets_everything() {
    if !require_root("a_slow_client_gets_lost_counts_while_a_fast_one_gets_everything") {
        return;
    }
    const N: u64 = 200_000;
    // A queue of 100,000 events per client: one that reads nothing for the
    // whole run overflows; one that reads falls that far behind only on a
    // machine stalled for seconds.
    let a = Agent::start(
        "busy",
        "127.0.0.1:0",
        &["--insecure", "--client-queue", "100000"],
    );
    // At most ~50,000 calls a second: a client that reads keeps up.
    let w = Gated::paced(N, 50);
    let filter = getppid_of(&[w.pid()]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut slow = watch(&rt, &a.addr, &filter);
    let mut fast = watch(&rt, &a.addr, &filter);
    // Both are registered once their hello is there.
    let hello = |s: &mut Frames| {
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), s.message()).await })
            .expect("a hello")
            .unwrap()
            .unwrap()
    };
    hello(&mut slow);
    hello(&mut fast);
    let reader = std::thread::scope(|sc| {
        let h = sc.spawn(|| read_all(&rt, &mut fast, N));
        w.go();
        h.join().unwrap()
    });
    assert_eq!(reader, (N, 0), "the fast client: everything, nothing lost");
    // Only now does the slow one read: what it gets and what it is told
    // it lost add up to what was made.
    let (got, lost) = read_all(&rt, &mut slow, N);
    assert!(lost > 0, "the slow client lost nothing (got {got})");
    assert_eq!(got + lost, N, "received {got} + lost {lost}");
    drop(slow);
    drop(fast);
    drop(a);
}

/// What a stream brought, per workload pid, as a resuming client keeps
/// it: the resume point is the last sequence number a frame accounted for,
/// batches and lost counts alike (`Frame.seq`).
#[derive(Debug, Default)]
struct Tally {
    run: u64,
    seq: u64,
    got: std::collections::BTreeMap<u32, u64>,
    /// The stream's last lost counts (cumulative for the stream).
    lost: u64,
}

impl Tally {
    /// Reads frames until `done` says so (or the stream stalls 20 s).
    fn read(
        &mut self,
        rt: &tokio::runtime::Runtime,
        s: &mut Frames,
        done: impl Fn(&Tally) -> bool,
    ) {
        use systrace_tui::wire::pb::frame::Body;
        rt.block_on(async {
            while !done(self) {
                let f = match tokio::time::timeout(Duration::from_secs(20), s.message()).await {
                    Ok(Ok(Some(f))) => f,
                    other => panic!("the stream ended or stalled ({other:?}) at {self:?}"),
                };
                match f.body {
                    Some(Body::Hello(_)) => self.run = f.run,
                    Some(Body::Batch(b)) => {
                        for e in b.events {
                            *self.got.entry(e.pid).or_default() += 1;
                        }
                    }
                    Some(Body::Lost(l)) => self.lost = l.kernel + l.channel + l.client,
                    _ => {}
                }
                if f.run == self.run {
                    self.seq = self.seq.max(f.seq);
                }
            }
        })
    }

    fn got(&self, pid: u32) -> u64 {
        self.got.get(&pid).copied().unwrap_or(0)
    }
}

/// A slow client's queue overflows and the loss is told; then its
/// connection drops and it resumes from where the stream left it. What it
/// was told is lost is not sent again (nor counted lost again): received +
/// lost = made, exactly.
#[test]
fn a_resume_after_an_overflow_sends_nothing_told_lost() {
    if !require_root("a_resume_after_an_overflow_sends_nothing_told_lost") {
        return;
    }
    const N: u64 = 3000;
    // A queue of one event: a client that reads nothing while the workload
    // runs overflows it with every batch of more than one call.
    let a = Agent::start(
        "tight",
        "127.0.0.1:0",
        &["--insecure", "--client-queue", "1"],
    );
    let w1 = Gated::new(N);
    // One getppid per byte written: single calls, each its own batch.
    let mut w2 = Reaped(
        Command::new(workload())
            .args(["rounds", "1"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (p1, p2) = (w1.pid(), w2.0.id());
    let filter = getppid_of(&[p1, p2]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut first = Tally::default();
    let mut s = watch(&rt, &a.addr, &filter);
    first.read(&rt, &mut s, |t| t.run != 0);
    w1.go();
    // Only now does it read: everything made is received or told lost.
    first.read(&rt, &mut s, |t| t.got(p1) + t.lost >= N);
    assert_eq!(first.got(p1) + first.lost, N, "{first:?}");
    assert!(first.lost > 0, "the queue never overflowed: {first:?}");
    // The connection drops; the client resumes where the stream left it.
    drop(s);
    let mut second = Tally {
        run: first.run,
        seq: first.seq,
        ..Default::default()
    };
    let mut s = watch_from(&rt, &a.addr, &filter, first.run, first.seq);
    second.read(&rt, &mut s, |t| t.run != 0);
    assert_eq!(second.run, first.run, "the same agent run");
    // A fresh call, until one arrives (one could meet a full queue): a
    // resend would be queued before it.
    let mut stdin = w2.0.stdin.take().unwrap();
    let mut made2 = 0u64;
    while second.got(p2) == 0 && made2 < 20 {
        stdin.write_all(b"x").unwrap();
        made2 += 1;
        second.read(&rt, &mut s, |t| t.got(p2) + t.lost >= made2);
    }
    assert_eq!(second.got(p1), 0, "sent again after a resume: {second:?}");
    assert_eq!(
        second.got(p2) + second.lost,
        made2,
        "the resumed stream counts only its own losses: {second:?}"
    );
    assert!(
        second.got(p2) > 0,
        "no single call came through: {second:?}"
    );
    drop(stdin);
    drop(s);
    drop(w2);
    drop(a);
}

#[test]
fn pod_selects_across_nodes() {
    if !require_root("pod_selects_across_nodes") {
        return;
    }
    let u = format!("{:06x}", std::process::id() & 0xff_ffff);
    let mut pm = runtimes::Podman::new(&format!("cluster-{u}"));
    let pod = format!("shop-{u}");
    pm.pod(&pod);
    let (inside, outside) = (format!("/m-in-{u}"), format!("/m-out-{u}"));
    pm.run(&format!("web-{u}"), Some(&pod), &runtimes::opener(&inside));
    pm.run(&format!("solo-{u}"), None, &runtimes::opener(&outside));
    let a = Agent::start("alpha", "127.0.0.1:0", &["--insecure"]);
    let b = Agent::start("beta", "127.0.0.1:0", &["--insecure"]);
    let c = Client::start(&[
        "--node",
        &a.addr,
        "--node",
        &b.addr,
        "--insecure",
        "--pod",
        &format!("^{pod}$"),
    ]);
    c.wait_stderr("node alpha (");
    c.wait_stderr("node beta (");
    let label = format!(":{pod}/web-{u} ");
    let seen = wait_for(Duration::from_secs(60), || {
        let out = c.stdout();
        let on = |node: &str| {
            out.lines()
                .filter(|l| l.starts_with(&format!("{node}{label}")) && l.contains(&inside))
                .count()
        };
        (on("alpha") >= 3 && on("beta") >= 3).then_some(())
    });
    assert!(
        seen.is_some(),
        "the pod's events from both nodes: {}",
        c.stderr()
    );
    let (out, _) = c.stop();
    assert!(
        !out.contains(&outside),
        "a container outside the pod got through"
    );
    assert!(
        out.lines()
            .all(|l| l.starts_with(&format!("alpha{label}"))
                || l.starts_with(&format!("beta{label}"))),
        "only the pod's container, from both nodes"
    );
    drop(a);
    drop(b);
}

/// `--nodes-dns NAME:PORT` watches the agent at every address NAME
/// resolves to (here `localhost`: this machine's loopback addresses, each
/// a node of its own for the client); a name that resolves to nothing is a
/// usage error.
#[test]
fn nodes_dns_watches_every_address_of_a_name() {
    if !require_root("nodes_dns_watches_every_address_of_a_name") {
        return;
    }
    const N: u64 = 500;
    let a = Agent::start("gamma", "127.0.0.1:0", &["--insecure"]);
    let port = a.addr.rsplit(':').next().unwrap().to_string();
    let w = Gated::new(N);
    let filter = getppid_of(&[w.pid()]);
    let c = Client::start(&[
        "--nodes-dns",
        &format!("localhost:{port}"),
        "--insecure",
        "--filter",
        &filter,
    ]);
    c.wait_stderr("node gamma (");
    w.go();
    let done = wait_for(Duration::from_secs(60), || {
        (c.count("gamma", "getppid()") as u64 >= N).then_some(())
    });
    assert!(done.is_some(), "not everything came: {}", c.stderr());
    let (out, _) = c.stop();
    let n = out.lines().filter(|l| l.starts_with("gamma:")).count() as u64;
    assert_eq!(n, N, "exactly once each:\n{out}");

    let no = Command::new(bin())
        .args([
            "--no-tui",
            "--insecure",
            "--nodes-dns",
            "no-such-host.invalid:7000",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&no.stderr);
    assert_eq!(no.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    drop(a);
}

/// Lines of `out` for calls of process `pid`.
fn lines_of(out: &str, pid: u32) -> u64 {
    out.lines()
        .filter(|l| l.contains(&format!("[{pid}/")))
        .count() as u64
}

/// `--cgroup` traces one cgroup v2 subtree, in the kernel: a workload in a
/// cgroup below it is traced exactly, one outside it not at all.
#[test]
fn cgroup_scopes_local_capture_to_a_subtree() {
    if !require_root("cgroup_scopes_local_capture_to_a_subtree") {
        return;
    }
    const N: u64 = 2000;
    let scope = TestCgroup::new("st-scope-");
    let name = scope
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let below = scope.path.join("below");
    std::fs::create_dir(&below).unwrap();
    let (inside, outside) = (Gated::new(N), Gated::new(N));
    std::fs::write(below.join("cgroup.procs"), inside.pid().to_string()).unwrap();
    let (pi, po) = (inside.pid(), outside.pid());
    // Only the syscall in user space: the scope alone decides whose.
    let c = Client::start(&[
        "--cgroup",
        &format!("/{name}"),
        "--filter",
        "syscall == getppid",
        "-v",
    ]);
    c.wait_stderr("tracing (Ctrl-C");
    let said = c.stderr();
    assert!(
        said.contains(&format!(
            "only cgroup /{name} and below (id {}, level 1)",
            scope.id()
        )),
        "{said}"
    );
    inside.go();
    outside.go();
    assert!(wait_for(Duration::from_secs(60), || {
        (lines_of(&c.stdout(), pi) >= N).then_some(())
    })
    .is_some());
    let (out, _) = c.stop();
    assert_eq!(
        lines_of(&out, pi),
        N,
        "the workload in the subtree, once each"
    );
    assert_eq!(lines_of(&out, po), 0, "a workload outside the subtree");
    assert_eq!(
        out.lines().count() as u64,
        N,
        "nothing else calls getppid there"
    );
}

/// The forms of `--cgroup PATH` (below the root, relative to the mount, a
/// directory under the mount) name the same cgroup; anything else is one
/// line and exit 2, for local capture and for the agent; `--help` says it.
#[test]
fn cgroup_paths_and_their_mistakes() {
    if !require_root("cgroup_paths_and_their_mistakes") {
        return;
    }
    let scope = TestCgroup::new("st-scope-");
    let name = scope
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let mount = scope.path.parent().unwrap().to_str().unwrap().to_string();
    let want = format!("only cgroup /{name} and below (id {}, level 1)", scope.id());
    for form in [format!("/{name}"), name.clone(), format!("{mount}/{name}/")] {
        let (_, err, code) =
            common::headless(&["--cgroup", &form, "--duration", "0.1", "-q", "-v"]);
        assert_eq!(code, 0, "{form}: {err}");
        assert!(err.contains(&want), "{form}: {err}");
    }
    let file = format!("/{name}/cgroup.procs");
    for bad in [
        "/no-such-cgroup-here",
        "",
        &file,
        "/sys/fs/cgroup",
        "../../../../etc",
    ] {
        let (_, err, code) = common::headless(&["--cgroup", bad, "--duration", "0.1"]);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad:?}: {err}");
        assert!(err.contains("--cgroup"), "{err}");
        let agent = Command::new(bin())
            .args(["agent", "--listen", "127.0.0.1:0", "--node-name", "n"])
            .args(["--insecure", "--cgroup", bad])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&agent.stderr);
        assert_eq!(agent.status.code(), Some(2), "agent {bad:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "agent {bad:?}: {err}");
    }
    let (_, err, code) = common::headless(&["--cgroup", "/x", "--replay", "/dev/null"]);
    assert_eq!(code, 2, "{err}");
    for args in [&["--help"][..], &["agent", "--help"][..]] {
        let help = Command::new(bin()).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.contains("--cgroup <PATH>"), "{args:?}: {text}");
        assert!(text.contains("cgroup v2 subtree"), "{args:?}: {text}");
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("| `--cgroup PATH` |"));
}

/// A network namespace with a veth pair to the host: the host end has
/// `host_addr`, the namespace end `addr` (a /30 of its own). Deleted when
/// dropped, however the test ends (deleting the namespace deletes its veth
/// end and with it the pair).
struct Netns {
    name: String,
    host_if: String,
    addr: String,
}

impl Netns {
    fn ip(args: &[&str]) {
        let out = Command::new("ip")
            .args(args)
            .output()
            .expect("the ip command");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Namespace `i` of this run (`tag` tells runs apart).
    fn new(tag: u32, i: u32) -> Netns {
        let name = format!("st-{tag}-n{i}");
        let (host_if, peer) = (format!("st{tag}h{i}"), format!("st{tag}p{i}"));
        // 10.213.T.(4i+1)/30 on the host, .(4i+2) in the namespace.
        let net = |k: u32| format!("10.213.{}.{}", tag % 250, 4 * i + k);
        let ns = Netns {
            name: name.clone(),
            host_if: host_if.clone(),
            addr: net(2),
        };
        Self::ip(&["netns", "add", &name]);
        Self::ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &peer, "netns", &name,
        ]);
        Self::ip(&["addr", "add", &format!("{}/30", net(1)), "dev", &host_if]);
        Self::ip(&["link", "set", &host_if, "up"]);
        let inside = |args: &[&str]| {
            let mut a = vec!["-n", &name];
            a.extend_from_slice(args);
            Self::ip(&a);
        };
        inside(&["link", "set", "lo", "up"]);
        inside(&["addr", "add", &format!("{}/30", net(2)), "dev", &peer]);
        inside(&["link", "set", &peer, "up"]);
        ns
    }

    /// A command run in the namespace's network (only: `ip netns exec`
    /// would also mount a sysfs of its own over /sys, hiding the cgroup2
    /// mount the agent's `--cgroup` and topology read).
    fn exec(&self) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/run/netns/{}", self.name)).arg("--");
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .stderr(Stdio::null())
            .output();
    }
}

/// Three nodes on one machine, as the cluster has them: each an agent in a
/// network namespace of its own, reached over a veth pair with mutual TLS,
/// scoped with `--cgroup` to a cgroup of its own that holds a known
/// workload; one client merges them. Exact counts per node; one agent
/// killed (-9) is shown down, then back once restarted, with nothing
/// shown twice.
#[test]
fn three_nodes_in_network_namespaces_merged_exactly() {
    if !require_root("three_nodes_in_network_namespaces_merged_exactly") {
        return;
    }
    const M: u64 = 500;
    let tag = std::process::id() % 10_000;
    let nets: Vec<Netns> = (0..3).map(|i| Netns::new(tag, i)).collect();
    let pki = Pki::new();
    let san: Vec<String> = nets.iter().map(|n| format!("IP:{}", n.addr)).collect();
    pki.leaf(
        "ca",
        "nodes",
        "serverAuth",
        &format!("subjectAltName={}", san.join(",")),
    );
    let cgroups: Vec<TestCgroup> = (0..3).map(|_| TestCgroup::new("st-node-")).collect();
    let names = ["n1", "n2", "n3"];
    let start = |i: usize| {
        let cg = format!(
            "/{}",
            cgroups[i].path.file_name().unwrap().to_str().unwrap()
        );
        Agent::start_with(
            nets[i].exec(),
            names[i],
            &format!("{}:7420", nets[i].addr),
            &[
                "--tls-cert",
                &pki.path("nodes.pem"),
                "--tls-key",
                &pki.path("nodes.key"),
                "--client-ca",
                &pki.path("ca.pem"),
                "--cgroup",
                &cg,
            ],
        )
    };
    let mut agents: Vec<Agent> = (0..3).map(start).collect();
    // A known workload per node, in its cgroup: node i makes (i + 1) x N.
    let made = |round: u64| -> Vec<Gated> {
        (0..3)
            .map(|i| {
                let w = Gated::new((i as u64 + 1) * M * round);
                cgroups[i].add(w.pid());
                w
            })
            .collect()
    };
    let mut args = vec![
        "--tls-ca".to_string(),
        pki.path("ca.pem"),
        "--tls-cert".into(),
        pki.path("viewer.pem"),
        "--tls-key".into(),
        pki.path("viewer.key"),
        // The same filter for every node (pushed into each agent's kernel).
        "--filter".into(),
        "syscall == getppid".into(),
    ];
    for a in &agents {
        args.extend(["--node".to_string(), a.addr.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let c = Client::start(&args);
    for n in names {
        c.wait_stderr(&format!("node {n} ("));
    }
    let first = made(1);
    let p1: Vec<u32> = first.iter().map(Gated::pid).collect();
    for w in first {
        w.go();
    }
    let on = |node: &str, pid: u32| c.count(node, &format!("[{pid}/")) as u64;
    let all = wait_for(Duration::from_secs(60), || {
        (0..3)
            .all(|i| on(names[i], p1[i]) >= (i as u64 + 1) * M)
            .then_some(())
    });
    assert!(all.is_some(), "not everything came: {}", c.stderr());
    // kill -9 of n2: shown down, with the time; the others go on.
    agents[1].child.signal(libc::SIGKILL);
    agents[1]
        .child
        .wait(Duration::from_secs(10))
        .expect("the agent died");
    let down = format!("node n2 ({}) down at", agents[1].addr);
    c.wait_stderr(&down);
    agents[1] = start(1);
    let back = wait_for(Duration::from_secs(30), || {
        let e = c.stderr();
        (e.contains("node n2") && e.contains("up again at")).then_some(e)
    })
    .unwrap_or_else(|| panic!("n2 never came back: {}", c.stderr()));
    assert!(back.contains("gap: the agent restarted"), "{back}");
    let second = made(2);
    let p2: Vec<u32> = second.iter().map(Gated::pid).collect();
    for w in second {
        w.go();
    }
    let all = wait_for(Duration::from_secs(60), || {
        (0..3)
            .all(|i| on(names[i], p2[i]) >= (i as u64 + 1) * M * 2)
            .then_some(())
    });
    assert!(all.is_some(), "not everything came: {}", c.stderr());
    let (out, err) = c.stop();
    for i in 0..3 {
        let node = names[i];
        let mine = |pid: u32| {
            out.lines()
                .filter(|l| l.starts_with(&format!("{node}:")) && l.contains(&format!("[{pid}/")))
                .count() as u64
        };
        let n = i as u64 + 1;
        assert_eq!(
            (mine(p1[i]), mine(p2[i])),
            (n * M, 2 * n * M),
            "{node}, each once"
        );
        // A node shows only its own cgroup's workload.
        let total = out
            .lines()
            .filter(|l| l.starts_with(&format!("{node}:")))
            .count() as u64;
        assert_eq!(total, 3 * n * M, "{node}: only its own workload");
    }
    for node in ["n1", "n3"] {
        let s = node_summary(&err, node);
        assert!(
            s.contains(&format!(
                "{} events received, 0 lost",
                3 * M * if node == "n1" { 1 } else { 3 }
            )),
            "{s}"
        );
    }
    // --pod across nodes: a kubelet-style pod container in each node's
    // cgroup; two of the pods match, on n1 and n3.
    let u = format!("{tag}x{}", std::process::id() % 1000);
    let pods = [
        format!("shop-{u}-a"),
        format!("cart-{u}"),
        format!("shop-{u}-b"),
    ];
    let marker = format!("/tmp/st-pod-{u}");
    let members: Vec<PodMember> = (0..3)
        .map(|i| PodMember::start(&cgroups[i].path, &pods[i], &marker, i))
        .collect();
    let mut args = args.clone();
    args.retain(|a| *a != "syscall == getppid" && *a != "--filter");
    let pod_re = format!("^shop-{u}-");
    args.extend(["--pod", &pod_re]);
    let c = Client::start(&args);
    let seen = wait_for(Duration::from_secs(60), || {
        let out = c.stdout();
        let on = |node: &str, pod: &str| {
            out.lines()
                .filter(|l| l.starts_with(&format!("{node}:{pod}/")) && l.contains(&marker))
                .count()
        };
        (on("n1", &pods[0]) >= 3 && on("n3", &pods[2]) >= 3).then_some(())
    });
    assert!(
        seen.is_some(),
        "the pods' events from n1 and n3: {}",
        c.stderr()
    );
    let (out, _) = c.stop();
    assert!(
        out.lines()
            .all(|l| l.starts_with(&format!("n1:{}/", pods[0]))
                || l.starts_with(&format!("n3:{}/", pods[2]))),
        "only the matching pods, from their nodes:\n{out}"
    );
    drop(members);
    drop(agents);
    drop(cgroups);
    drop(nets);
}

/// A process in a kubelet-style pod container cgroup (containerd CRI,
/// systemd driver) below `parent`, seeing `pod` as its hostname (a pod's
/// containers do), opening `marker` every 20 ms; killed on drop.
struct PodMember {
    _child: Reaped,
    _dir: Scratch,
}

impl PodMember {
    fn start(parent: &Path, pod: &str, marker: &str, i: usize) -> PodMember {
        let uid = format!("{:08x}_1111_4222_8333_{:012x}", std::process::id(), i);
        let id = format!("{:064x}", (std::process::id() as u128) << 8 | i as u128);
        let cg = parent.join(format!(
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid}.slice/cri-containerd-{id}.scope"
        ));
        std::fs::create_dir_all(&cg).unwrap();
        let dir = Scratch::new();
        let hf = dir.path("hostname");
        std::fs::write(&hf, format!("{pod}\n")).unwrap();
        // Into the cgroup first; then its own mount namespace, where
        // /etc/hostname says the pod's name.
        let child = with_hostname(&mut in_cgroup(&cg), &hf)
            .arg(workload())
            .args(["loop-open", marker, "20"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let child = Reaped(child);
        let pid = child.0.id();
        let ready = wait_for(Duration::from_secs(10), || {
            let named = std::fs::read_to_string(format!("/proc/{pid}/root/etc/hostname"))
                .is_ok_and(|h| h.trim() == pod);
            let running = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "workload");
            (named && running).then_some(())
        });
        assert!(ready.is_some(), "the pod's process never got ready");
        PodMember {
            _child: child,
            _dir: dir,
        }
    }
}
