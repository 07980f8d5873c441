//! The user-space budgets, measured (no criterion: it reports
//! percentiles and memory, which criterion does not):
//! - TUI frame render with 1,000,000 retained events, 200x50: p50 / p99;
//! - resident memory per retained event (RSS growth while filling the store);
//! - reader-side throughput: decode + batch + channel + store, events/s;
//! - re-filtering 1,000,000 retained events, one line per kind of filter;
//! - frames of the other views (search highlight, details, statistics)
//!   while events keep arriving;
//! - the top view over 10,000 containers: a read's merge, the rows'
//!   rebuild, frames, and memory per counted cell.
//!
//! Run: `cargo bench --bench budget [SECTION...]` (BENCHMARKS.md has the
//! figures).

mod common;

use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use std::sync::Arc;
use systrace_tui::consumer::tui::app::{App, Tab};
use systrace_tui::consumer::tui::keys::Action;
use systrace_tui::consumer::tui::top::{build_rows, GroupBy, TopSort, TopState};
use systrace_tui::model::container::{ContainerAddEvent, ContainerInfo, PodInfo, Runtime};
use systrace_tui::model::counts::{Counted, Delta, Key, Misses};
use systrace_tui::model::event::{Event, TraceEvent};
use systrace_tui::model::filter::Filter;
use systrace_tui::model::flow::{KernelMode, ModeTarget};
use systrace_tui::model::syscalls::Arch;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

const RETAINED: usize = 1_000_000;
/// As in src/source/kernel/reader.rs.
const BATCH: usize = 4096;
const CHANNEL_BATCHES: usize = 512;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time of `clock` (this thread, or the whole process): the work
/// itself, without the time other programs on a shared machine had the
/// cores (which wall time includes).
fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer; both clocks exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn thread_cpu() -> Duration {
    cpu_time(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Times `draw` (wall and CPU) `n` times; `between` runs untimed before each.
fn frame_times(
    app: &mut App,
    n: usize,
    mut between: impl FnMut(&mut App, usize),
    mut draw: impl FnMut(&mut App),
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for i in 0..n {
        between(app, i);
        let (t, c) = (Instant::now(), thread_cpu());
        draw(app);
        cpu.push(thread_cpu() - c);
        wall.push(t.elapsed());
    }
    wall.sort();
    cpu.sort();
    (wall, cpu)
}

/// Re-filtering the retained events (target: <= 150 ms for 1M), one line
/// per kind of test: numbers, syscall and class sets, text, regexes on the
/// command, the path and the rendered arguments, container fields, the
/// errors-only key, and clearing the filter (statistics only). Median of 3,
/// wall time and CPU time of all threads.
fn refilter() {
    let mut app = common::app_with_varied(RETAINED as u64);
    println!(
        "re-filter {} retained events (median of 3; {} threads):",
        app.store.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    );
    let cases: [(&str, Option<&str>, bool); 14] = [
        ("number", Some("errno != 0"), false),
        ("number list", Some("pid in (1001, 1002)"), false),
        ("duration", Some("duration > 100us"), false),
        ("syscall set", Some("syscall == openat"), false),
        ("class set", Some("class == file"), false),
        ("text", Some("comm == cat"), false),
        ("regex on comm", Some("comm ~ '^post'"), false),
        ("regex on path", Some("path ~ '^/etc/'"), false),
        ("container field", Some("pod == web"), false),
        ("regex on args", Some("args ~ 'libfoo1'"), false),
        (
            "args and syscall",
            Some("args ~ 'libfoo1' and syscall == openat"),
            false,
        ),
        (
            "combined",
            Some("syscall == openat and errno == ENOENT or comm == sh"),
            false,
        ),
        ("errors only (e)", None, true),
        ("no filter", None, false),
    ];
    for (kind, expr, errors_only) in cases {
        app.filter = expr.map(|e| Filter::parse(e).expect("valid filter"));
        app.errors_only = errors_only;
        let (mut times, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let c = cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID);
            app.refilter();
            cpu.push(cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID) - c);
            times.push(app.last_refilter.expect("timed"));
        }
        times.sort();
        cpu.sort();
        println!(
            "  {:>7.1} ms  (CPU {:>6.1} ms)  {:>8} shown  {kind:<17} {}",
            ms(times[1]),
            ms(cpu[1]),
            app.row_count(),
            expr.unwrap_or(if errors_only { "key e" } else { "-" })
        );
    }
}

/// Frame times of each view over the varied mix while 1000 events arrive
/// between frames, as in a busy live session.
fn views() {
    let mut app = common::app_with_varied(RETAINED as u64);
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let mut next = RETAINED as u64;
    let mut frames = |app: &mut App, label: &str| {
        let (times, cpu) = frame_times(
            app,
            300,
            |app, _| {
                app.ingest_batch(
                    (next..next + 1000)
                        .map(|i| Event::Syscall(common::varied_event(i)))
                        .collect(),
                );
                next += 1000;
            },
            |app| {
                term.draw(|f| app.render(f)).expect("draw");
            },
        );
        println!(
            "  {label:<26} p50 {:>6.2} ms  p99 {:>6.2} ms  (CPU p50 {:>5.2} ms  p99 {:>5.2} ms)",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(percentile(&cpu, 0.5)),
            ms(percentile(&cpu, 0.99)),
        );
    };
    println!("frames 200x50, {RETAINED} retained, 1000 new events per frame:");
    frames(&mut app, "stream, following");
    app.filter = Some(Filter::parse("class == file").expect("valid filter"));
    app.refilter();
    frames(&mut app, "stream, filtered");
    app.filter = None;
    app.refilter();
    app.list.search = Some(regex::Regex::new("libfoo").expect("regex"));
    frames(&mut app, "stream, search highlight");
    app.list.search = None;
    app.on_action(Action::Details);
    frames(&mut app, "details");
    app.on_action(Action::Close);
    app.tab = Tab::Stats;
    frames(&mut app, "statistics");
}

/// The kernel side of the top view's mode switches: nothing to switch here.
struct NoKernel;

impl ModeTarget for NoKernel {
    fn set_mode(&self, _: KernelMode) {}
}

/// The top view on a node with 10,000 containers (two per pod, pods in 50
/// namespaces), each making 30 syscalls, one of them failing too: 310,000
/// counted cells, as `--agg-entries 524288` keeps them. A read comes once a
/// second and frames come every 33 ms, so a frame after a read rebuilds the
/// rows and the others only draw them.
fn top() {
    const CONTAINERS: u64 = 10_000;
    const SYSCALLS: u32 = 30;
    const FRAMES_PER_READ: usize = 30;
    let counted = Counted::new(Arch::native());
    {
        let mut labels = counted.labels.lock().expect("labels");
        for c in 0..CONTAINERS {
            let mut info = ContainerInfo::new(&format!("{c:064x}"), Runtime::Containerd);
            info.name = Some(format!("app-{c}"));
            info.pod = Some(PodInfo {
                name: Some(format!("web-{}", c / 2)),
                namespace: Some(format!("team-{}", c % 50)),
                ..Default::default()
            });
            info.resolved = true;
            labels.add(&ContainerAddEvent {
                cgroup_id: 1000 + c,
                container: Arc::new(info),
            });
        }
    }
    // One read's worth: every cell gains some calls.
    let read = |round: u64| -> Vec<(Key, Delta)> {
        let mut v = Vec::new();
        for c in 0..CONTAINERS {
            for nr in 0..SYSCALLS {
                let calls = 1 + (c * 7 + u64::from(nr) * 13 + round) % 50;
                let key = Key {
                    cgroup_id: 1000 + c,
                    nr,
                    errno: 0,
                };
                v.push((key, Delta::uniform(calls, 1_000 + u64::from(nr) * 100)));
            }
            let key = Key {
                cgroup_id: 1000 + c,
                nr: 2,
                errno: 2,
            };
            v.push((key, Delta::uniform(1 + c % 3, 5_000)));
        }
        v
    };
    let first = read(0);
    let before = rss_bytes();
    counted
        .counts
        .lock()
        .expect("counts")
        .merge(&first, Misses::default(), true);
    let cells = counted.counts.lock().expect("counts").cells.len();
    println!(
        "top view: {CONTAINERS} containers x {SYSCALLS} syscalls (+1 failing) = {cells} cells, \
         {:.0} bytes per cell in user space",
        (rss_bytes() - before) as f64 / cells as f64
    );
    drop(first);
    {
        // What the cells take by their layout: the table's slots (a slot
        // and a control byte each, at its capacity) and the histograms'
        // buckets in use, malloc's 16-byte header and rounding left out.
        let c = counted.counts.lock().expect("counts");
        let slot = std::mem::size_of::<(Key, systrace_tui::model::counts::Cell)>() + 1;
        let hist: usize = c.cells.values().map(|x| 8 * x.total.hist.len()).sum();
        println!(
            "  by layout: {slot} B a slot x {} slots + {hist} B of buckets = {:.0} B per cell",
            c.cells.capacity(),
            (slot * c.cells.capacity() + hist) as f64 / cells as f64
        );
    }
    let mut app = App::new(
        1000,
        systrace_tui::consumer::tui::theme::Theme { color: true },
        systrace_tui::clock::Clock { boot_unix_ns: 0 },
        systrace_tui::consumer::tui::app::Source::Live,
    );
    app.top_view = Some(Box::new(TopState::new(
        counted.clone(),
        Box::new(NoKernel),
        KernelMode::Stream,
    )));
    systrace_tui::consumer::tui::top::open(&mut app);
    // The rows' rebuild alone, in every grouping (CPU time: the machine
    // may be shared).
    {
        let c = counted.counts.lock().expect("counts");
        let labels = counted.labels.lock().expect("labels").clone();
        for by in [GroupBy::ContainerSyscall, GroupBy::Pod, GroupBy::Syscall] {
            let t = thread_cpu();
            let rows = build_rows(&c, &labels, by, None, TopSort::Rate, false);
            println!(
                "  rows by {:<18} {:>7} rows in {:>7.1} ms CPU",
                by.label(),
                rows.len(),
                ms(thread_cpu() - t)
            );
        }
    }
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    if let Some(t) = app.top_view.as_mut() {
        t.settle(0, 50);
    }
    let mut merges = Vec::new();
    let mut reads = read(1);
    // Frames come every 33 ms, as in the TUI; a read is merged (here, in
    // place of the capture thread) every FRAMES_PER_READ frames. The rows
    // are rebuilt by the top view's worker on the other core meanwhile.
    let budget = Duration::from_millis(33);
    let mut next = Instant::now();
    // When each read was merged, by its number (`Counts::ticks`).
    let mut merged_at = std::collections::HashMap::new();
    let mut lags = Vec::new();
    let mut builds = Vec::new();
    let mut shown = app.top_view.as_ref().map_or(0, |t| t.shown_ticks);
    let (times, cpu) = frame_times(
        &mut app,
        FRAMES_PER_READ * 10,
        |app, i| {
            next += budget;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            if i % FRAMES_PER_READ == 0 {
                let t = thread_cpu();
                counted
                    .counts
                    .lock()
                    .expect("counts")
                    .merge(&reads, Misses::default(), true);
                merges.push(thread_cpu() - t);
                let tick = counted.counts.lock().expect("counts").ticks;
                merged_at.insert(tick, Instant::now());
                reads = read(i as u64 + 2);
            }
            // The rows of the last read arrived in the frame before this.
            if let Some(t) = app.top_view.as_ref() {
                if t.shown_ticks != shown {
                    shown = t.shown_ticks;
                    if let Some(at) = merged_at.get(&shown) {
                        lags.push(at.elapsed());
                    }
                    builds.push(t.build_cpu);
                }
            }
        },
        |app| {
            term.draw(|f| app.render(f)).expect("draw");
        },
    );
    merges.sort();
    lags.sort();
    builds.sort();
    let over = times.iter().filter(|t| **t > budget).count();
    let rows = app.top_view.as_ref().map_or(0, |t| t.rows.len());
    println!(
        "  a read merged: CPU p50 {:.1} ms, max {:.1} ms; frames 200x50 ({rows} rows, built by the worker): \
         CPU p50 {:.2} ms, max {:.1} ms (wall p50 {:.2} ms, max {:.1} ms; {over} of {} over 33 ms)",
        ms(percentile(&merges, 0.5)),
        ms(*merges.last().expect("reads")),
        ms(percentile(&cpu, 0.5)),
        ms(*cpu.last().expect("frames")),
        ms(percentile(&times, 0.5)),
        ms(*times.last().expect("frames")),
        times.len(),
    );
    if !builds.is_empty() {
        println!(
            "  worker: {} tables for {} reads, CPU p50 {:.1} ms, max {:.1} ms; read merged -> its rows on screen: p50 {:.0} ms, max {:.0} ms",
            builds.len(),
            merges.len(),
            ms(percentile(&builds, 0.5)),
            ms(*builds.last().expect("builds")),
            ms(percentile(&lags, 0.5)),
            ms(*lags.last().expect("lags")),
        );
    }
}

/// Reading the kernel's aggregation maps with 310,000 entries (10,000
/// containers x 31 cells, the top bench's node): real maps of the
/// program's layout (key -> slot, per-CPU cells by slot), filled here
/// (root needed), read once in batches and once key by key, alternating;
/// CPU time of the reading thread (the system calls' kernel time included).
fn agg_read() {
    use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};
    use systrace_tui::source::kernel::aggregate::{Reader, KEY_SIZE, VAL_SIZE};
    const ENTRIES: u32 = 310_000;
    let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    let agg = match MapHandle::create(
        MapType::Hash,
        Some("agg_bench"),
        KEY_SIZE as u32,
        4,
        ENTRIES,
        &opts,
    ) {
        Ok(m) => m,
        Err(e) => {
            println!("agg-read: cannot create a BPF map (root needed): {e}");
            return;
        }
    };
    let cells = match MapHandle::create(
        MapType::PercpuArray,
        Some("agg_cells_b"),
        4,
        VAL_SIZE as u32,
        ENTRIES,
        &opts,
    ) {
        Ok(m) => m,
        Err(e) => {
            println!("agg-read: cannot create the cells map: {e}");
            return;
        }
    };
    let misses = MapHandle::create(MapType::PercpuArray, Some("agg_miss"), 4, 16, 1, &opts)
        .expect("misses map");
    let cpus = libbpf_rs::num_possible_cpus().expect("cpus");
    // Fills (or advances) every entry: `round` more calls on every CPU.
    let fill = |round: u64| -> usize {
        let mut n = 0u32;
        for c in 0..10_000u64 {
            for (nr, errno) in (0..30u32).map(|n| (n, 0u32)).chain([(2, 2)]) {
                let mut k = Vec::with_capacity(KEY_SIZE);
                k.extend((1000 + c).to_ne_bytes());
                k.extend(nr.to_ne_bytes());
                k.extend(errno.to_ne_bytes());
                let mut v = vec![0u8; VAL_SIZE];
                let calls = round * (1 + (c + u64::from(nr)) % 50);
                v[0..8].copy_from_slice(&calls.to_ne_bytes());
                v[8..16].copy_from_slice(&(calls * 1_000).to_ne_bytes());
                v[16..24].copy_from_slice(&5_000u64.to_ne_bytes());
                // Three buckets in use, as a syscall's latencies spread.
                for b in [40usize, 41, 44] {
                    let at = 24 + 4 * b;
                    v[at..at + 4].copy_from_slice(&((calls / 3) as u32).to_ne_bytes());
                }
                let vals: Vec<Vec<u8>> = (0..cpus).map(|_| v.clone()).collect();
                agg.update(&k, &n.to_ne_bytes(), MapFlags::ANY)
                    .expect("key");
                cells
                    .update_percpu(&n.to_ne_bytes(), &vals, MapFlags::ANY)
                    .expect("cell");
                n += 1;
            }
        }
        n as usize
    };
    let entries = fill(1);
    println!(
        "agg-read: {entries} entries (of {ENTRIES} asked), {cpus} CPUs, CPU time per read (the reading thread):"
    );
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut round = 1;
    for rep in 0..6 {
        for (i, batched) in [true, false].into_iter().enumerate() {
            let counted = Counted::new(Arch::native());
            let mut r = Reader::new(counted.counts.clone());
            r.set_batch(batched);
            // A first read finds every entry new; the timed one finds every
            // entry moved (a busy node: all 310,000 changed in the second).
            r.read(&agg, &cells, &misses, true);
            round += 1;
            assert_eq!(fill(round), entries);
            let t = thread_cpu();
            r.read(&agg, &cells, &misses, true);
            let took = thread_cpu() - t;
            assert_eq!(r.batched(), batched, "the kernel refused a batch lookup");
            let cells = counted.counts.lock().expect("counts").cells.len();
            assert_eq!(cells, entries);
            if rep > 0 {
                times[i].push(took);
            }
        }
    }
    for (i, name) in ["batches of 4096", "key by key"].iter().enumerate() {
        times[i].sort();
        println!(
            "  {name:<16} p50 {:>7.1} ms, min {:>7.1} ms, max {:>7.1} ms",
            ms(percentile(&times[i], 0.5)),
            ms(times[i][0]),
            ms(*times[i].last().expect("reads"))
        );
    }
}

fn render_and_memory() {
    let before = rss_bytes();
    let mut app = common::app_with(RETAINED);
    let after = rss_bytes();
    println!(
        "memory: {} retained events, RSS +{:.1} MiB = {:.0} bytes/event (TraceEvent is {} bytes inline; a quarter carry a path)",
        app.store.len(),
        (after - before) as f64 / (1 << 20) as f64,
        (after - before) as f64 / RETAINED as f64,
        std::mem::size_of::<TraceEvent>(),
    );

    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let n = app.store.len();
    // Following the newest events, then scrolled into the middle of the store.
    let (times, cpu) = frame_times(
        &mut app,
        600,
        |app, i| {
            if i == 300 {
                app.on_action(Action::Top);
                for _ in 0..1000 {
                    app.on_action(Action::PageDown);
                }
            }
        },
        |app| {
            term.draw(|f| app.render(f)).expect("draw");
        },
    );
    println!(
        "render 200x50, {n} retained: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames \
         (CPU time: p50 {:.2} ms, p99 {:.2} ms)",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().expect("frames")),
        times.len(),
        ms(percentile(&cpu, 0.5)),
        ms(percentile(&cpu, 0.99)),
    );
}

/// Records decoded and batched on one thread, stored by another, as in a
/// live capture; the producer blocks instead of dropping, so the figure is
/// the rate the slower side sustains.
fn pipeline(total: u64, consume: impl FnOnce(crossbeam_channel::Receiver<Vec<Event>>) + Send) {
    let records: Vec<Vec<u8>> = (0..4096).map(common::record).collect();
    let (tx, rx) = bounded::<Vec<Event>>(CHANNEL_BATCHES);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut ids = common::identities();
            let mut batch = Vec::with_capacity(BATCH);
            for i in 0..total {
                let r = &records[(i % records.len() as u64) as usize];
                match TraceEvent::from_record(&mut ids, r, Arch::native()) {
                    Ok(Some(ev)) => batch.push(Event::Syscall(ev)),
                    Ok(None) => {}
                    Err(e) => panic!("bad record: {e}"),
                }
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    tx.send(full).expect("consumer alive");
                }
            }
            if !batch.is_empty() {
                tx.send(batch).expect("consumer alive");
            }
        });
        s.spawn(move || consume(rx));
    });
    let el = start.elapsed().as_secs_f64();
    println!(
        "  {total} events in {el:.2} s = {:.2} M events/s",
        total as f64 / el / 1e6
    );
}

fn main() {
    // `cargo bench` passes --bench; other arguments name the sections to
    // run (render, refilter, views, pipeline), all of them by default.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| only.is_empty() || only.iter().any(|a| a == name);
    if run("render") {
        render_and_memory();
    }
    if run("refilter") {
        refilter();
    }
    if run("views") {
        views();
    }
    if run("top") {
        top();
    }
    if run("agg-read") {
        agg_read();
    }
    if !run("pipeline") {
        return;
    }
    let total = 8_000_000;
    println!("pipeline: decode + batches of {BATCH} + channel + TUI store ({RETAINED} retained):");
    pipeline(total, |rx| {
        let mut app = App::new(
            RETAINED,
            systrace_tui::consumer::tui::theme::Theme { color: true },
            systrace_tui::clock::Clock { boot_unix_ns: 0 },
            systrace_tui::consumer::tui::app::Source::Live,
        );
        while let Ok(b) = rx.recv() {
            app.ingest_batch(b);
        }
        assert_eq!(app.total, total);
    });
    println!("pipeline: decode + batches + channel + headless count (--no-tui --quiet):");
    pipeline(total, |rx| {
        let mut n = 0u64;
        while let Ok(b) = rx.recv() {
            n += b.len() as u64;
            drop(b);
        }
        assert_eq!(n, total);
    });
}
