//! Root-only: the Redis fan-out with a real redis-server (Debian's, started
//! here on a free loopback port in a temporary directory). The node is the
//! agent (`agent --publish`); viewers are the binary with `--source`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{CopiedExe, Reaped};

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

/// A node: the agent, publishing to Redis, and a workload of a name of
/// its own (viewers filter on it: the agent publishes the whole machine).
struct Node {
    agent: Reaped,
    exe: CopiedExe,
    comm: String,
}

impl Node {
    fn start(url: &str, name: &str) -> Node {
        let mut agent = Reaped(
            Command::new(common::bin())
                .args(["agent", "--listen", "127.0.0.1:0", "--insecure"])
                .args(["--node-name", name, "--publish", url])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let err = BufReader::new(agent.0.stderr.take().unwrap());
        let mut said = Vec::new();
        for l in err.lines().map_while(Result::ok) {
            let done = l.contains("publishing to");
            said.push(l);
            if done {
                break;
            }
        }
        assert!(
            said.iter().any(|l| l.contains("publishing to")),
            "the agent did not start publishing: {said:?}"
        );
        let comm = format!("rwl{}", std::process::id() % 100_000);
        Node {
            agent,
            exe: CopiedExe::new(&comm),
            comm,
        }
    }

    /// `n` getppid calls by the node's workload.
    fn getppid(&self, n: u64) {
        let st = Command::new(&self.exe.path)
            .args(["getppid", &n.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.agent.signal(libc::SIGTERM);
        let _ = self.agent.wait(Duration::from_secs(10));
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
    fn start(url: &str, name: Option<&str>, node: &Node, node_name: &str) -> Viewer {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lines");
        let mut c = Command::new(common::bin());
        c.args(["--source", url, "--no-tui", "--color", "never"])
            .args([
                "--filter",
                &format!("syscall == getppid and comm == {}", node.comm),
            ]);
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
        let joined = format!("node {node_name}");
        let end = std::time::Instant::now() + Duration::from_secs(10);
        let mut said = Vec::new();
        while !said.iter().any(|l: &String| l.contains(&joined)) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match v.err.recv_timeout(left) {
                Ok(l) => said.push(l),
                Err(_) => panic!("the viewer did not follow {node_name}: {said:?}"),
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

/// The lost count of a closing line ("N events captured, M lost ...").
fn lost(end: &str) -> u64 {
    let l = end.lines().find(|l| l.contains(" lost (")).expect(end);
    let before = l.split(" lost (").next().unwrap();
    before.rsplit(' ').next().unwrap().parse().expect(l)
}

#[test]
fn viewers_share_a_stream_and_a_named_one_resumes_where_it_was() {
    if !common::require_root("viewers_share_a_stream_and_a_named_one_resumes_where_it_was") {
        return;
    }
    let redis = Redis::start();
    let url = redis.url();
    let name = "redis-node-a";
    let node = Node::start(&url, name);
    let a = Viewer::start(&url, None, &node, name);
    let b = Viewer::start(&url, Some("team-b"), &node, name);

    node.getppid(1000);
    a.wait_count(1000);
    b.wait_count(1000);
    let (seen, _) = b.stop();
    assert_eq!(seen, 1000, "viewer b, first run");

    // Redis drops every connection (the agent's and viewer a's): both
    // connect again, a goes on from the stream IDs it holds, the agent
    // sends again what it could not.
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let killed: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"])
        .query(&mut con)
        .unwrap();
    assert!(killed >= 2, "killed {killed} connections");
    // While b is away.
    node.getppid(700);
    a.wait_count(1700);
    let b = Viewer::start(&url, Some("team-b"), &node, name);
    b.wait_count(700);
    // Anything more (a repeat of the first 1000) would have come first.
    let (seen, b_end) = b.stop();
    assert_eq!(seen, 700, "viewer b again: only what it had not seen");
    let (seen, a_end) = a.stop();
    assert_eq!(seen, 1700, "viewer a, all along");
    // What b was away for is not lost to it: it had it from Redis. (It
    // may lose what a lost too: the node's own losses, a busy machine.)
    assert!(lost(&b_end) <= lost(&a_end), "b: {b_end}\na: {a_end}");
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
    // The cause once, not once per layer that repeats it.
    let refused = "Connection refused";
    assert_eq!(err.matches(refused).count(), 1, "{err}");
}
