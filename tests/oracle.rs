//! strace as the oracle for argument decoding: the corpus program
//! (examples/stcorpus.rs) runs under strace while systrace-tui traces the
//! same run, so both see the very same calls, pids, fds and addresses. Every
//! syscall line is compared: name, every argument strace prints (structures
//! and arrays included), and the return/errno.
//!
//! Intentional differences (skipped, counted as such in the report):
//! - strace's `/* 35 vars */`-style comments are dropped (execve's envp is
//!   shown as an address by both; times()'s seconds and utimensat's dates
//!   are comments too); getdents64's `/* N entries */` is compared.
//! - Calls listed in `ARGS_NOT_COMPARED` print their arguments differently
//!   on purpose: name and return are still compared.
//! - Return decorations of the calls in `DECORATIONS_NOT_PRINTED` are
//!   dropped when we do not print one; every other return is compared
//!   whole (`0 (Timeout)`, `1 ([{fd=3, revents=POLLIN}])`, errno texts).
//! - Strings are not cut at strace's `-s`: paths and other strings are
//!   copied up to 4096 bytes and shown whole; read/write data is cut at
//!   `--buf-size` (64 bytes by default, the corpus' `-s 64`), with `...`
//!   where the copy was cut. Both print the corpus' strings whole; on real
//!   programs a path or string longer than `-s` differs by design.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{require_root, wait_for, Collected, Scratch};

const MODES: &[&str] = &[
    "files", "net", "unix", "proc", "mem", "signals", "stat", "time", "io", "wait", "futex",
];

/// (syscall, why its arguments are not compared).
const ARGS_NOT_COMPARED: &[(&str, &str)] = &[(
    "rt_sigreturn",
    "strace reads the restored mask from the signal frame on the user stack \
         (`{mask=[]}`); the call has no argument, and the frame is found from the \
         stack pointer, which capture plans do not read (they copy from argument \
         pointers)",
)];

/// Structures strace reads that are not copied: where strace shows one
/// (`{...}`) and we show its address, the argument is skipped: (syscall, why).
const NOT_COPIED: &[(&str, &str)] = &[(
    "futex",
    "the timeout: futex is the most frequent call, and its fourth register \
     is a count or junk for most operations; copying it for every call costs \
     more than the value is worth",
)];

/// Return decorations not printed: (syscall, why).
const DECORATIONS_NOT_PRINTED: &[(&str, &str)] = &[
    (
        "select",
        "the ready sets (`in [3], out [4], left {...}`) need the three fd_sets \
         and the timeout copied again at exit: eight copies, the plan has four",
    ),
    ("pselect6", "as select"),
];

/// Arguments whose rendering differs on purpose: (syscall, index, why).
const ARG_EXCEPTIONS: &[(&str, usize, &str)] = &[];

fn corpus() -> PathBuf {
    static P: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    P.get_or_init(|| common::build_example("stcorpus")).clone()
}

/// One syscall line, split into its parts.
#[derive(Debug, Clone)]
struct Call {
    name: String,
    args: Vec<String>,
    ret: String,
}

/// Splits `name(a, {b, c}, "d,e") = ret` at top-level commas; quotes,
/// brackets, braces and parentheses nest.
fn parse_call(s: &str) -> Option<Call> {
    let open = s.find('(')?;
    let name = s[..open].trim().to_string();
    let b = s.as_bytes();
    let mut depth = 0i32;
    let mut i = open;
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    while i < b.len() {
        let c = b[i] as char;
        if in_str {
            cur.push(c);
            if c == '\\' && i + 1 < b.len() {
                cur.push(b[i + 1] as char);
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else {
            match c {
                '"' => {
                    in_str = true;
                    cur.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > 1 {
                        cur.push(c);
                    }
                }
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    cur.push(c);
                }
                ',' if depth == 1 => args.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        i += 1;
    }
    if !cur.trim().is_empty() || !args.is_empty() {
        args.push(cur);
    }
    let args = args.iter().map(|a| strip_comments(a)).collect();
    let rest = &s[i + 1..];
    let ret = rest.trim_start().strip_prefix('=')?.trim().to_string();
    Some(Call { name, args, ret })
}

/// Drops `/* ... */` comments outside strings and trims.
fn strip_comments(a: &str) -> String {
    let mut out = String::new();
    let mut rest = a;
    while let Some(p) = rest.find("/*") {
        if rest[..p].matches('"').count() % 2 == 1 {
            break;
        }
        // getdents64's count of entries is compared.
        if rest[p..]
            .find("*/")
            .is_some_and(|e| rest[p..p + e].ends_with(" entries "))
        {
            let e = p + rest[p..].find("*/").unwrap() + 2;
            out.push_str(&rest[..e]);
            rest = &rest[e..];
            continue;
        }
        out.push_str(rest[..p].trim_end());
        match rest[p..].find("*/") {
            Some(e) => rest = &rest[p + e + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// systrace-tui's line: `12:00:00.000001 comm[pid/tid] call = ret <1.2us>`.
fn parse_ours(line: &str) -> Option<(u32, Call)> {
    let lb = line.find('[')?;
    let slash = lb + line[lb..].find('/')?;
    let rb = slash + line[slash..].find("] ")?;
    let tid: u32 = line[slash + 1..rb].parse().ok()?;
    let mut body = &line[rb + 2..];
    if body.ends_with('>') {
        if let Some(p) = body.rfind(" <") {
            body = &body[..p];
        }
    }
    Some((tid, parse_call(body)?))
}

#[derive(Default)]
struct Tally {
    lines: usize,
    args_compared: usize,
    args_skipped: usize,
    decorations_dropped: usize,
    mismatches: Vec<String>,
}

fn compare(mode: &str, tid: u32, theirs: &[Call], ours: &[Call], t: &mut Tally) {
    if theirs.len() != ours.len() {
        let names = |v: &[Call]| v.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        t.mismatches.push(format!(
            "{mode} tid {tid}: strace saw {} calls, systrace-tui {}\n  strace: {:?}\n  ours:   {:?}",
            theirs.len(),
            ours.len(),
            names(theirs),
            names(ours)
        ));
    }
    for (s, o) in theirs.iter().zip(ours) {
        t.lines += 1;
        if s.name != o.name {
            t.mismatches
                .push(format!("{mode} tid {tid}: name {} vs {}", s.name, o.name));
            continue;
        }
        // Return: exact, except a decoration listed as not printed.
        let sret = match s.ret.find(" (") {
            Some(p)
                if !o.ret.contains(" (")
                    && DECORATIONS_NOT_PRINTED.iter().any(|(n, _)| *n == s.name) =>
            {
                t.decorations_dropped += 1;
                s.ret[..p].to_string()
            }
            _ => s.ret.clone(),
        };
        if sret != o.ret {
            t.mismatches.push(format!(
                "{mode} tid {tid} {}: return {:?} vs ours {:?}",
                s.name, s.ret, o.ret
            ));
        }
        if ARGS_NOT_COMPARED.iter().any(|(n, _)| *n == s.name) {
            t.args_skipped += s.args.len();
            continue;
        }
        if s.args.len() != o.args.len() {
            t.mismatches.push(format!(
                "{mode} tid {tid} {}: {} args vs ours {}\n  strace: {:?}\n  ours:   {:?}",
                s.name,
                s.args.len(),
                o.args.len(),
                s.args,
                o.args
            ));
            continue;
        }
        for (i, (sa, oa)) in s.args.iter().zip(&o.args).enumerate() {
            let excepted = ARG_EXCEPTIONS
                .iter()
                .any(|(n, k, _)| *n == s.name && *k == i);
            let not_copied = NOT_COPIED.iter().any(|(n, _)| *n == s.name)
                && sa.starts_with('{')
                && oa.starts_with("0x");
            if excepted || not_copied {
                t.args_skipped += 1;
                continue;
            }
            t.args_compared += 1;
            if sa != oa {
                t.mismatches.push(format!(
                    "{mode} tid {tid} {} arg {i}: strace {sa:?} vs ours {oa:?}",
                    s.name
                ));
            }
        }
    }
}

fn strace_calls(path: &Path) -> Vec<Call> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
        .map(|l| parse_call(l).unwrap_or_else(|| panic!("cannot parse strace line {l:?}")))
        .collect()
}

#[test]
fn parser_splits_nested_arguments() {
    let c = parse_call(
        r#"f(1, {a=1, b=[2, 3]}, "x, \"y\"", 0x7f /* 3 vars */) = -1 ENOENT (No such file)"#,
    )
    .unwrap();
    assert_eq!(c.name, "f");
    assert_eq!(c.args, ["1", "{a=1, b=[2, 3]}", r#""x, \"y\"""#, "0x7f"]);
    assert_eq!(c.ret, "-1 ENOENT (No such file)");
    let c = parse_call("getpid() = 42").unwrap();
    assert!(c.args.is_empty());
    let (tid, c) = parse_ours("12:00:00.000001 stcorpus[5/6] close(3) = 0 <1.2us>").unwrap();
    assert_eq!((tid, c.name.as_str(), c.ret.as_str()), (6, "close", "0"));
}

#[test]
fn strace_agrees_with_systrace_on_the_corpus() {
    if !require_root("strace_agrees_with_systrace_on_the_corpus") {
        return;
    }
    let strace_ok = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        strace_ok,
        "strace is not installed (scripts/deps.sh installs it)"
    );
    let prog = corpus();
    let dir = Scratch::new();

    let tracer = start_tracer(&[]);
    let out = tracer.out.clone();

    let mut files: Vec<(String, u32, PathBuf)> = Vec::new();
    for mode in MODES {
        let prefix = dir.dir().join(format!("{mode}.st"));
        let work = dir.dir().join(format!("{mode}.d"));
        std::fs::create_dir_all(&work).unwrap();
        let st = Command::new("strace")
            .args([
                "-ff",
                "-qq",
                "-e",
                "signal=none",
                "--strings-in-hex=non-ascii-chars",
            ])
            .args(["-s", "64", "-o"])
            .arg(&prefix)
            .arg(&prog)
            .arg(mode)
            .arg(&work)
            .status()
            .unwrap();
        assert!(st.success(), "corpus mode {mode} failed under strace");
        for e in std::fs::read_dir(dir.dir()).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(tid) = name.strip_prefix(&format!("{mode}.st.")) {
                files.push((mode.to_string(), tid.parse().unwrap(), p));
            }
        }
    }
    // Every traced process ends in exit_group; wait until each one's last
    // call has come through the tracer before stopping it.
    let tids: Vec<u32> = files.iter().map(|f| f.1).collect();
    let all_in = wait_for(Duration::from_secs(20), || {
        let o = out.lock().unwrap();
        tids.iter()
            .all(|t| o.contains(&format!("/{t}] exit_group(")))
            .then_some(())
    });
    tracer.stop();
    assert!(
        all_in.is_some(),
        "not every corpus process reached the tracer's output"
    );

    let mut ours: HashMap<u32, Vec<Call>> = HashMap::new();
    for l in out.lock().unwrap().lines() {
        if let Some((tid, c)) = parse_ours(l) {
            ours.entry(tid).or_default().push(c);
        }
    }
    let mut per_mode: BTreeMap<String, Tally> = BTreeMap::new();
    for (mode, tid, path) in &files {
        let theirs = strace_calls(path);
        let mine = ours.remove(tid).unwrap_or_default();
        compare(
            mode,
            *tid,
            &theirs,
            &mine,
            per_mode.entry(mode.clone()).or_default(),
        );
    }
    let mut total = Tally::default();
    for (mode, t) in &per_mode {
        eprintln!(
            "oracle {mode}: {} lines, {} args compared, {} skipped, {} decorations dropped, {} mismatches",
            t.lines,
            t.args_compared,
            t.args_skipped,
            t.decorations_dropped,
            t.mismatches.len()
        );
        total.lines += t.lines;
        total.args_compared += t.args_compared;
        total.args_skipped += t.args_skipped;
        total.decorations_dropped += t.decorations_dropped;
        total.mismatches.extend(t.mismatches.iter().cloned());
    }
    let items = total.lines + total.args_compared;
    eprintln!(
        "oracle total: {} lines and {} args compared, {} args skipped, {} decorations dropped; agreement {:.2}%",
        total.lines,
        total.args_compared,
        total.args_skipped,
        total.decorations_dropped,
        100.0 * (items - total.mismatches.len().min(items)) as f64 / items.max(1) as f64
    );
    assert!(
        total.lines > 500,
        "the corpus produced too few lines: {}",
        total.lines
    );
    assert!(
        total.mismatches.is_empty(),
        "{} mismatches:\n{}",
        total.mismatches.len(),
        total.mismatches.join("\n")
    );
}

/// Starts the tracer headless on the corpus' processes and returns once it
/// is attached, with its stdout collected in the background.
fn start_tracer(extra: &[&str]) -> Collected {
    let mut args = vec!["--comm", "^(stcorpus|true)$"];
    args.extend_from_slice(extra);
    Collected::start(&args)
}

#[test]
fn fd_paths_flag_shows_what_fds_refer_to() {
    if !require_root("fd_paths_flag_shows_what_fds_refer_to") {
        return;
    }
    let prog = corpus();
    let dir = Scratch::new();
    let tracer = start_tracer(&["-y"]);
    let out = tracer.out.clone();
    let st = Command::new(&prog)
        .arg("files")
        .arg(dir.dir())
        .status()
        .unwrap();
    assert!(st.success());
    let data = format!("{}/data.txt", dir.dir().display());
    // The files mode ends with two umask calls.
    let done = wait_for(Duration::from_secs(20), || {
        let o = out.lock().unwrap();
        (o.matches(" umask(").count() >= 2).then_some(())
    });
    tracer.stop();
    assert!(done.is_some(), "the corpus run did not reach the output");
    let o = out.lock().unwrap();
    let open = o
        .lines()
        .find(|l| l.contains("openat(") && l.contains(&data) && l.contains("O_CREAT"))
        .unwrap_or_else(|| panic!("no openat of {data} in:\n{o}"));
    assert!(open.contains(&format!(") = 3<{data}>")), "{open}");
    assert!(
        o.lines()
            .any(|l| l.contains(&format!("write(3<{data}>, \"hello, oracle"))),
        "write on the new fd is annotated:\n{o}"
    );
    // dup'ed descriptors refer to the same file; closed ones are forgotten.
    assert!(
        o.contains(&format!("dup2(3<{data}>, 20) = 20<{data}>")),
        "{o}"
    );
    assert!(o.contains("close(999) = -1 EBADF"), "{o}");
}
