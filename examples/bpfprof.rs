//! Where the kernel side's time goes: loads cut-down builds of the tracer
//! (build.rs, feature "profile": `-DST_ABL=N` stops the hot path after part
//! N, `-DST_ABL_NO_CLOCK` reads no clock), one at a time, runs the getppid
//! storm under each, and reports the storm's rate and the kernel's own
//! run-time statistics (BPF_ENABLE_STATS: run_time_ns / run_cnt) of the
//! sys_enter and sys_exit programs. Differences between builds are the
//! parts' costs. See bench/profile and BENCHMARKS.md.
//!
//!   bpfprof WORKLOAD SECS ROUNDS [CASE...]
//!   BPFPROF_LOAD=open bpfprof ...   (open/read/close storm instead of getppid)
//!
//! Cases: untraced floor floor-clock (the floor reading the clock at each
//! end) abl1 abl2 abl3 abl4 noquery noclock full nowake
//! compat; planned: full with the loader's capture plans (paths, buffers
//! and structures copied, and calls without either cut after the arguments
//! they take: the other builds load no plans, so they send every call
//! whole); stage / stage1k: planned, with the fast path's records staged
//! per CPU (4 KiB / 1 KiB) and written to the ring in chunks; stagenf:
//! stage with the chunks dropped instead of written (no ring at all); agg agg-abl2 agg-abl5 agg-noclock agg-compat: the same builds
//! counting in the kernel (ST_MODE_AGG; abl5 stops sys_exit before the
//! map update); `bin:PATH`: a whole systrace-tui binary capturing everything,
//! `drill-other` / `drill-self`: counting with a drill-down set holding
//! an empty cgroup made for it / the storm's own (records for that cgroup only);
//! `aggbin:PATH`: one counting only (`--quiet`, no filter), so two builds
//! can be compared in one run.
//! The ring is drained on a 10 ms timer by a consumer that only counts.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use libbpf_rs::libbpf_sys;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Program, RingBufferBuilder};

macro_rules! skel_mod {
    ($m:ident, $file:literal) => {
        #[allow(clippy::all, clippy::pedantic, dead_code)]
        mod $m {
            include!(concat!(env!("OUT_DIR"), "/", $file));
        }
    };
}
skel_mod!(floor, "floor.skel.rs");
skel_mod!(full, "systrace.skel.rs");
skel_mod!(compat, "systrace_compat.skel.rs");
skel_mod!(abl1, "systrace_abl1.skel.rs");
skel_mod!(abl2, "systrace_abl2.skel.rs");
skel_mod!(abl3, "systrace_abl3.skel.rs");
skel_mod!(abl4, "systrace_abl4.skel.rs");
skel_mod!(abl5, "systrace_abl5.skel.rs");
skel_mod!(noclock, "systrace_noclock.skel.rs");
skel_mod!(noquery, "systrace_noquery.skel.rs");
skel_mod!(stage, "systrace_stage.skel.rs");
skel_mod!(stage1k, "systrace_stage1k.skel.rs");
skel_mod!(stagenf, "systrace_stagenf.skel.rs");

/// One measured run.
struct Run {
    rate: f64,
    enter: (u64, u64),
    exit: (u64, u64),
    bytes: u64,
}

/// run_time_ns and run_cnt of a loaded program.
fn stats(p: &Program) -> Result<(u64, u64)> {
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of_val(&info) as u32;
    // SAFETY: `info` is a valid bpf_prog_info of `len` bytes; no arrays are asked for.
    let r =
        unsafe { libbpf_sys::bpf_prog_get_info_by_fd(p.as_fd().as_raw_fd(), &mut info, &mut len) };
    if r != 0 {
        bail!("bpf_prog_get_info_by_fd: {r}");
    }
    Ok((info.run_time_ns, info.run_cnt))
}

/// The storm to run: `getppid` unless BPFPROF_LOAD says `open`.
fn load_kind() -> String {
    std::env::var("BPFPROF_LOAD").unwrap_or_else(|_| "getppid".into())
}

fn start_load(workload: &str, secs: f64) -> Result<Child> {
    Command::new(workload)
        .args(["storm", &load_kind(), &secs.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {workload}"))
}

fn load_rate(child: Child) -> Result<f64> {
    let out = child.wait_with_output()?;
    let s = String::from_utf8_lossy(&out.stdout);
    s.split_whitespace()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| anyhow!("workload said {s:?}"))
}

fn self_ns() -> Result<(u64, u64, u32)> {
    let md = std::fs::metadata("/proc/self/ns/pid")?;
    let dev = md.dev();
    let kdev = (libc::major(dev) as u64) << 20 | libc::minor(dev) as u64;
    Ok((kdev, md.ino(), std::process::id()))
}

/// Loads one build of the tracer, attaches sys_enter/sys_exit, runs the
/// storm while draining the ring, and reads the programs' statistics.
macro_rules! run_tracer {
    ($m:ident, $builder:ident, $wake:expr, $workload:expr, $secs:expr) => {
        run_tracer!($m, $builder, $wake, $workload, $secs, 0)
    };
    ($m:ident, $builder:ident, $wake:expr, $workload:expr, $secs:expr, $mode:expr) => {
        run_tracer!($m, $builder, $wake, $workload, $secs, $mode, |_| Ok(()))
    };
    ($m:ident, $builder:ident, $wake:expr, $workload:expr, $secs:expr, $mode:expr, $setup:expr) => {{
        let mut obj = MaybeUninit::uninit();
        let mut open = $m::$builder::default().open(&mut obj)?;
        let (dev, ino, tgid) = self_ns()?;
        let ro = open.maps.rodata_data.as_deref_mut().expect("rodata");
        ro.self_ns_dev = dev;
        ro.self_ns_ino = ino;
        ro.self_ns_tgid = tgid;
        ro.buf_max = 64;
        open.maps.events.set_max_entries(32 << 20)?;
        if let Some(d) = open.maps.data_data.as_deref_mut() {
            d.wake_bytes = $wake;
        }
        if let Some(b) = open.maps.bss_data.as_deref_mut() {
            b.agg_mode = $mode;
            b.drill_cgroup_on = u32::from($mode == 2);
        }
        let mut skel = open.load()?;
        if $mode != 0 {
            use libbpf_rs::MapCore;
            // Every counter slot to the kernel (the loader does the same).
            for slot in 0..skel.maps.agg_free.max_entries() {
                skel.maps
                    .agg_free
                    .update(&[], &slot.to_ne_bytes(), libbpf_rs::MapFlags::ANY)?;
            }
        }
        let setup = $setup;
        let r: Result<()> = setup(&mut skel.maps);
        r?;
        let _e = skel.progs.sys_enter.attach_trace()?;
        let _x = skel.progs.sys_exit.attach_trace()?;
        let bytes = std::cell::Cell::new(0u64);
        let mut rb = RingBufferBuilder::new();
        rb.add(&skel.maps.events, |d: &[u8]| {
            bytes.set(bytes.get() + d.len() as u64);
            0
        })?;
        let rb = rb.build()?;
        let e0 = stats(&skel.progs.sys_enter)?;
        let x0 = stats(&skel.progs.sys_exit)?;
        let mut child = start_load($workload, $secs)?;
        while child.try_wait()?.is_none() {
            // Without wake-ups epoll never fires: drain on the timer.
            let _ = rb.poll(Duration::from_millis(10));
            let _ = rb.consume();
        }
        let e1 = stats(&skel.progs.sys_enter)?;
        let x1 = stats(&skel.progs.sys_exit)?;
        let _ = rb.consume();
        Run {
            rate: load_rate(child)?,
            enter: (e1.0 - e0.0, e1.1 - e0.1),
            exit: (x1.0 - x0.0, x1.1 - x0.1),
            bytes: bytes.get(),
        }
    }};
}

/// run_time_ns and run_cnt of the newest loaded program called `name`.
fn newest(name: &str) -> Option<(u32, u64, u64)> {
    libbpf_rs::query::ProgInfoIter::default()
        .filter(|p| p.name.to_str() == Some(name))
        .map(|p| (p.id, p.run_time_ns, p.run_cnt))
        .max_by_key(|p| p.0)
}

/// A whole tracer binary (`bin:PATH`): started with full capture (the
/// `--comm` filter needs records), its programs found as the newest ones
/// named sys_enter / sys_exit, measured like the builds above.
fn run_binary(bin: &str, workload: &str, secs: f64, counting: bool) -> Result<Run> {
    let comm = std::path::Path::new(workload)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("workload");
    let filter = format!("^{comm}$");
    let mut args = vec!["--no-tui", "--quiet"];
    if !counting {
        args.extend(["--comm", &filter]);
    }
    let mut tracer = Command::new(bin)
        .args(&args)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {bin}"))?;
    let mut err = std::io::BufReader::new(tracer.stderr.take().expect("piped"));
    let mut line = String::new();
    loop {
        line.clear();
        if std::io::BufRead::read_line(&mut err, &mut line)? == 0 {
            bail!("{bin} ended before tracing");
        }
        if line.contains("systrace-tui: tracing") {
            break;
        }
    }
    // Keep reading its stderr so it never blocks on a full pipe.
    let drain = std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let e0 = newest("sys_enter").ok_or_else(|| anyhow!("no sys_enter program"))?;
    let x0 = newest("sys_exit").ok_or_else(|| anyhow!("no sys_exit program"))?;
    let rate = load_rate(start_load(workload, secs)?)?;
    let e1 = newest("sys_enter")
        .filter(|p| p.0 == e0.0)
        .ok_or_else(|| anyhow!("program gone"))?;
    let x1 = newest("sys_exit")
        .filter(|p| p.0 == x0.0)
        .ok_or_else(|| anyhow!("program gone"))?;
    // SAFETY: a plain signal to the child we started.
    unsafe { libc::kill(tracer.id() as i32, libc::SIGINT) };
    tracer.wait()?;
    let _ = drain.join();
    Ok(Run {
        rate,
        enter: (e1.1 - e0.1, e1.2 - e0.2),
        exit: (x1.1 - x0.1, x1.2 - x0.2),
        bytes: 0,
    })
}

/// The cgroup v2 id (its directory's inode) of a process, from /proc/PID/cgroup.
fn cgroup_of(pid: &str) -> Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    let rel = s
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or_else(|| anyhow!("no cgroup v2 line for {pid}"))?;
    // Hybrid hierarchies mount cgroup v2 at unified/.
    for root in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        if let Ok(md) = std::fs::metadata(format!("{root}{rel}")) {
            return Ok(md.ino());
        }
    }
    bail!("cgroup {rel} of {pid} not found")
}

/// An empty cgroup made for the run (removed when dropped): the drilled one.
struct TempCgroup(String);

impl TempCgroup {
    fn new() -> Result<TempCgroup> {
        let root = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
            .into_iter()
            .find(|r| std::path::Path::new(&format!("{r}/cgroup.procs")).exists())
            .ok_or_else(|| anyhow!("no cgroup v2 mount"))?;
        let dir = format!("{root}/bpfprof-drill-{}", std::process::id());
        std::fs::create_dir(&dir).with_context(|| format!("creating {dir}"))?;
        Ok(TempCgroup(dir))
    }

    fn id(&self) -> Result<u64> {
        Ok(std::fs::metadata(&self.0)?.ino())
    }
}

impl Drop for TempCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The storm is a child of this process: same cgroup.
fn own_cgroup() -> Result<u64> {
    cgroup_of("self")
}

/// ST_MODE_DRILL with the drill-down set holding `cg` only.
/// Drill-down on `cg`: in the hash, and with `in_place` also in the
/// program's short list (as the loader does for up to 8 cgroups).
fn drill_on(m: &mut full::SystraceMaps<'_>, cg: u64, in_place: bool) -> Result<()> {
    use libbpf_rs::MapCore;
    m.drill_cgroups
        .update(&cg.to_ne_bytes(), &[1u8], libbpf_rs::MapFlags::ANY)?;
    if in_place {
        let bss = m.bss_data.as_deref_mut().expect("bss");
        bss.drill_cg_list[0] = cg;
        bss.drill_cg_few = 1;
    }
    Ok(())
}

/// The capture plans, as the loader writes them (any build's maps).
macro_rules! plans_on {
    ($m:expr) => {{
        use libbpf_rs::MapCore;
        use systrace_tui::model::syscalls::{self, Arch};
        use systrace_tui::source::kernel::loader::{plan_for, MAX_NR};
        let r: Result<()> = (|| {
            for info in syscalls::table(Arch::native()) {
                if info.nr < MAX_NR {
                    $m.plans.update(
                        &info.nr.to_ne_bytes(),
                        &plan_for(info).as_bytes(),
                        libbpf_rs::MapFlags::ANY,
                    )?;
                }
            }
            Ok(())
        })();
        r
    }};
}

fn run_case(case: &str, workload: &str, secs: f64) -> Result<Run> {
    const WAKE: u64 = 2 << 20;
    if let Some(bin) = case.strip_prefix("bin:") {
        return run_binary(bin, workload, secs, false);
    }
    if let Some(bin) = case.strip_prefix("aggbin:") {
        return run_binary(bin, workload, secs, true);
    }
    Ok(match case {
        "untraced" => Run {
            rate: load_rate(start_load(workload, secs)?)?,
            enter: (0, 0),
            exit: (0, 0),
            bytes: 0,
        },
        "floor" | "floor-clock" => {
            let mut obj = MaybeUninit::uninit();
            let skel = floor::FloorSkelBuilder::default().open(&mut obj)?.load()?;
            let p = &skel.progs;
            let (enter, exit) = if case == "floor" {
                (&p.floor_enter, &p.floor_exit)
            } else {
                (&p.clock_enter, &p.clock_exit)
            };
            let _e = enter.attach_trace()?;
            let _x = exit.attach_trace()?;
            let e0 = stats(enter)?;
            let x0 = stats(exit)?;
            let rate = load_rate(start_load(workload, secs)?)?;
            let e1 = stats(enter)?;
            let x1 = stats(exit)?;
            Run {
                rate,
                enter: (e1.0 - e0.0, e1.1 - e0.1),
                exit: (x1.0 - x0.0, x1.1 - x0.1),
                bytes: 0,
            }
        }
        "abl1" => run_tracer!(abl1, SystraceAbl1SkelBuilder, WAKE, workload, secs),
        "abl2" => run_tracer!(abl2, SystraceAbl2SkelBuilder, WAKE, workload, secs),
        "abl3" => run_tracer!(abl3, SystraceAbl3SkelBuilder, WAKE, workload, secs),
        "abl4" => run_tracer!(abl4, SystraceAbl4SkelBuilder, WAKE, workload, secs),
        "noquery" => run_tracer!(noquery, SystraceNoquerySkelBuilder, WAKE, workload, secs),
        "noclock" => run_tracer!(noclock, SystraceNoclockSkelBuilder, WAKE, workload, secs),
        "full" => run_tracer!(full, SystraceSkelBuilder, WAKE, workload, secs),
        "nowake" => run_tracer!(full, SystraceSkelBuilder, u64::MAX, workload, secs),
        // "full" with the capture plans the loader writes: the paths,
        // buffers and structures copied (the other builds copy none).
        "planned" => run_tracer!(
            full,
            SystraceSkelBuilder,
            WAKE,
            workload,
            secs,
            0,
            |m: &mut full::SystraceMaps<'_>| plans_on!(m)
        ),
        // "planned" with the fast path's short and identity records staged
        // per CPU (4 KiB / 1 KiB) and written to the ring as one chunk
        // record when full (-DST_STAGE; the consumer only counts bytes).
        "stage" => run_tracer!(
            stage,
            SystraceStageSkelBuilder,
            WAKE,
            workload,
            secs,
            0,
            |m: &mut stage::SystraceStageMaps<'_>| plans_on!(m)
        ),
        "stage1k" => run_tracer!(
            stage1k,
            SystraceStage1kSkelBuilder,
            WAKE,
            workload,
            secs,
            0,
            |m: &mut stage1k::SystraceStage1kMaps<'_>| plans_on!(m)
        ),
        // "stage" with every full chunk dropped, not written: the
        // staging's own cost, without the ring.
        "stagenf" => run_tracer!(
            stagenf,
            SystraceStagenfSkelBuilder,
            WAKE,
            workload,
            secs,
            0,
            |m: &mut stagenf::SystraceStagenfMaps<'_>| plans_on!(m)
        ),
        "compat" => run_tracer!(compat, SystraceCompatSkelBuilder, WAKE, workload, secs),
        // Counting in the kernel (ST_MODE_AGG): no records at all.
        "agg" => run_tracer!(full, SystraceSkelBuilder, WAKE, workload, secs, 1),
        "agg-abl2" => run_tracer!(abl2, SystraceAbl2SkelBuilder, WAKE, workload, secs, 1),
        "agg-abl5" => run_tracer!(abl5, SystraceAbl5SkelBuilder, WAKE, workload, secs, 1),
        "agg-noclock" => run_tracer!(noclock, SystraceNoclockSkelBuilder, WAKE, workload, secs, 1),
        "agg-compat" => run_tracer!(compat, SystraceCompatSkelBuilder, WAKE, workload, secs, 1),
        // Drill-down on another (empty) cgroup: the storm is only counted,
        // after the enter's check of the drill-down set (`-hash`: looked up
        // in the hash, as sets of more than 8 cgroups are); `drill-self`: on
        // the storm's own cgroup, counted and streamed.
        "drill-other" | "drill-other-hash" | "drill-self" => {
            let tmp;
            let cg = if case == "drill-self" {
                own_cgroup()?
            } else {
                tmp = TempCgroup::new()?;
                let other = tmp.id()?;
                if other == own_cgroup()? {
                    bail!("the storm runs in the drilled cgroup");
                }
                other
            };
            let in_place = case != "drill-other-hash";
            run_tracer!(
                full,
                SystraceSkelBuilder,
                WAKE,
                workload,
                secs,
                2,
                |m: &mut full::SystraceMaps<'_>| drill_on(m, cg, in_place)
            )
        }
        other => bail!("unknown case {other}"),
    })
}

fn per_run((ns, cnt): (u64, u64)) -> String {
    if cnt == 0 {
        "-".into()
    } else {
        format!("{:.1}", ns as f64 / cnt as f64)
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        bail!("usage: bpfprof WORKLOAD SECS ROUNDS [CASE...]");
    }
    let workload = &args[1];
    let secs: f64 = args[2].parse().context("SECS")?;
    let rounds: usize = args[3].parse().context("ROUNDS")?;
    let mut cases: Vec<&str> = args[4..].iter().map(String::as_str).collect();
    if cases.is_empty() {
        cases = vec![
            "untraced", "floor", "abl1", "abl2", "abl3", "abl4", "noquery", "noclock", "full",
            "nowake", "compat",
        ];
    }
    // The kernel keeps run-time statistics while this descriptor is open.
    // SAFETY: plain syscall wrapper; the result is checked.
    let fd = unsafe { libbpf_sys::bpf_enable_stats(libbpf_sys::BPF_STATS_RUN_TIME) };
    if fd < 0 {
        bail!("BPF_ENABLE_STATS failed ({fd}): needs root and kernel 5.8+");
    }
    // SAFETY: a fresh descriptor we own.
    let _stats = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut all: Vec<(String, Vec<Run>)> = cases.iter().map(|c| (c.to_string(), vec![])).collect();
    // Round-robin, so a drifting background load hits every case alike.
    for _ in 0..rounds {
        for (c, runs) in all.iter_mut() {
            runs.push(run_case(c, workload, secs)?);
        }
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let base = all
        .iter()
        .find(|(c, _)| c == "untraced")
        .map(|(_, r)| med(r.iter().map(|r| r.rate).collect()));
    let width = all.iter().map(|(c, _)| c.len()).max().unwrap_or(9).max(9);
    println!(
        "{:<width$} rate/s        ratio  ns/syscall  enter_ns  exit_ns  bytes/call",
        "case"
    );
    for (c, runs) in &all {
        let rate = med(runs.iter().map(|r| r.rate).collect());
        let (ratio, extra) = match base {
            Some(b) => (
                format!("{:.3}", rate / b),
                format!("{:.1}", 1e9 / rate - 1e9 / b),
            ),
            None => ("-".into(), "-".into()),
        };
        // The run with the median rate gives the kernel figures.
        let r = runs
            .iter()
            .min_by(|a, b| (a.rate - rate).abs().total_cmp(&(b.rate - rate).abs()))
            .expect("one run at least");
        let calls = r.exit.1.max(1);
        println!(
            "{c:<width$} {rate:>12.0} {ratio:>8} {extra:>11} {:>9} {:>8} {:>11.1}",
            per_run(r.enter),
            per_run(r.exit),
            r.bytes as f64 / calls as f64
        );
    }
    Ok(())
}
