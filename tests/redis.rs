//! Root-only: the Redis fan-out with a real redis-server (Debian's, started
//! here on a free loopback port in a temporary directory). A node publishes
//! its real capture (`consumer::publish`, fed by the BPF capture of a test
//! cgroup); viewers are the binary with `--source redis://...`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Reaped, TestCgroup};
use systrace_tui::consumer::publish::{self, Publisher};
use systrace_tui::model::flow::KernelFilter;
use systrace_tui::model::syscalls::Arch;
use systrace_tui::pipeline::stop::Stop;
use systrace_tui::source::kernel::loader::LoadOptions;
use systrace_tui::source::kernel::reader::{Capture, CaptureOptions};

/// A redis-server of our own, stopped and removed on drop.
struct Redis {
    _child: Reaped,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        // A free port now; redis-server binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/deps.sh test installs it)");
        let r = Redis {
            _child: Reaped(child),
            port,
            _dir: dir,
        };
        let up = common::wait_for(Duration::from_secs(10), || {
            redis::Client::open(r.url().as_str())
                .ok()?
                .get_connection_with_timeout(Duration::from_secs(1))
                .ok()
        });
        assert!(up.is_some(), "redis-server did not come up on {}", r.url());
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// A node: the capture of one test cgroup, published to Redis.
struct Node {
    stop: Stop,
    thread: Option<std::thread::JoinHandle<()>>,
    cgroup: TestCgroup,
}

impl Node {
    fn start(url: &str, name: &str) -> Node {
        let cgroup = TestCgroup::new("st-redis");
        let cap = Capture::start(CaptureOptions {
            load: LoadOptions {
                exclude_descendants: false,
                ..Default::default()
            },
            filter: KernelFilter {
                cgroups: Some(vec![cgroup.id()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .expect("load and attach");
        let p = Publisher::connect(url, name, 1, Arch::native(), 0).expect("publisher");
        let stop = Stop::new(None);
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut cap = cap;
            publish::run(p, &cap.events.clone(), &s);
            cap.stop().unwrap();
        });
        Node {
            stop,
            thread: Some(thread),
            cgroup,
        }
    }

    /// `n` getppid calls, made inside the node's cgroup.
    fn getppid(&self, n: u64) {
        let mut w = Reaped(
            Command::new(common::workload())
                .args(["gated-getppid", &n.to_string()])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        self.cgroup.add(w.0.id());
        w.0.stdin.take().unwrap().write_all(b"x").unwrap();
        assert!(w.wait(Duration::from_secs(10)).unwrap().success());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.raise();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A viewer: the binary reading Redis, its lines in a file.
struct Viewer {
    child: Reaped,
    out: PathBuf,
    err: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Viewer {
    fn start(url: &str, name: Option<&str>, node: &str) -> Viewer {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lines");
        let mut c = Command::new(common::bin());
        c.args(["--source", url, "--no-tui", "--color", "never"])
            .args(["--filter", "syscall == getppid"]);
        if let Some(n) = name {
            c.args(["--viewer", n]);
        }
        let mut child = c
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, err) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let v = Viewer {
            child: Reaped(child),
            out,
            err,
            _dir: dir,
        };
        // Following the node: from here on, what it publishes is seen.
        let joined = format!("node {node}");
        let end = std::time::Instant::now() + Duration::from_secs(10);
        let mut said = Vec::new();
        while !said.iter().any(|l: &String| l.contains(&joined)) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match v.err.recv_timeout(left) {
                Ok(l) => said.push(l),
                Err(_) => panic!("the viewer did not follow {node}: {said:?}"),
            }
        }
        v
    }

    fn getppids(&self) -> usize {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("getppid("))
            .count()
    }

    fn wait_count(&self, n: usize) {
        let ok = common::wait_for(Duration::from_secs(20), || {
            (self.getppids() >= n).then_some(())
        });
        assert!(
            ok.is_some(),
            "saw {} of {n} getppid calls; lines: {:?}; stderr: {:?}",
            self.getppids(),
            std::fs::read_to_string(&self.out)
                .unwrap_or_default()
                .lines()
                .take(5)
                .collect::<Vec<_>>(),
            self.err.try_iter().take(10).collect::<Vec<_>>()
        );
    }

    /// Ctrl-C, and the closing line.
    fn stop(mut self) -> (usize, String) {
        self.child.signal(libc::SIGINT);
        let st = self
            .child
            .wait(Duration::from_secs(10))
            .expect("viewer stops");
        assert!(st.success(), "viewer exit {st:?}");
        let rest: Vec<String> = self.err.try_iter().collect();
        (self.getppids(), rest.join("\n"))
    }
}

#[test]
fn viewers_share_a_stream_and_a_named_one_resumes_where_it_was() {
    if !common::require_root("viewers_share_a_stream_and_a_named_one_resumes_where_it_was") {
        return;
    }
    let redis = Redis::start();
    let url = redis.url();
    let node = Node::start(&url, "redis-node-a");
    let a = Viewer::start(&url, None, "redis-node-a");
    let b = Viewer::start(&url, Some("team-b"), "redis-node-a");

    node.getppid(1000);
    a.wait_count(1000);
    b.wait_count(1000);
    let (seen, end) = b.stop();
    assert_eq!(seen, 1000, "viewer b, first run");
    assert!(end.contains(" 0 lost"), "{end}");

    // While b is away.
    node.getppid(700);
    a.wait_count(1700);
    let b = Viewer::start(&url, Some("team-b"), "redis-node-a");
    b.wait_count(700);
    // Anything more (a repeat of the first 1000) would have come first.
    let (seen, end) = b.stop();
    assert_eq!(seen, 700, "viewer b again: only what it had not seen");
    assert!(end.contains(" 0 lost"), "{end}");
    let (seen, end) = a.stop();
    assert_eq!(seen, 1700, "viewer a, all along");
    assert!(end.contains(" 0 lost"), "{end}");
    drop(node);
    drop(redis);
}

#[test]
fn a_bad_address_is_one_line_and_exit_2() {
    let out = Command::new(common::bin())
        .args(["--source", "localhost:6379", "--no-tui"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("redis://"), "{err}");
    // Nothing listens there: a clear error, exit 1.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(common::bin())
        .args(["--source", &format!("redis://127.0.0.1:{port}"), "--no-tui"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach Redis"), "{err}");
}
