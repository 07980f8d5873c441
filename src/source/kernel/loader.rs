//! Opening, loading and attaching the kernel program, and updating its
//! filter maps. Everything here runs on the capture thread, which owns the
//! skeleton for its whole life.

use std::mem::MaybeUninit;
use std::os::unix::fs::MetadataExt;

use anyhow::{anyhow, Context, Result};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{
    Link, MapCore, MapFlags, MapType, OpenObject, PrintCallback, PrintLevel, ProgramType,
};

use crate::model::decode::structs;
use crate::model::raw::{
    Cap, Plan, CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_SOCKADDR, CAP_SOCKADDR_OUT, CAP_STR,
    MAX_CAPS, P_AT_ENTER, P_NARGS_SHIFT, P_NO_RETURN, P_REFRESH,
};
use crate::model::syscalls::{self, Arch, ArgKind, RetKind};

#[allow(clippy::all, clippy::pedantic)]
pub(super) mod skel {
    include!(concat!(env!("OUT_DIR"), "/systrace.skel.rs"));
}
/// The same program built for kernels 5.8 to 5.16 (`ST_COMPAT` in the C).
#[allow(clippy::all, clippy::pedantic)]
pub(super) mod skel_compat {
    include!(concat!(env!("OUT_DIR"), "/systrace_compat.skel.rs"));
}
use skel::SystraceSkel;
use skel_compat::SystraceCompatSkel;

/// Which build of the kernel program a kernel gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// 5.17 and later: task storage, the BTF task pointer, bpf_loop.
    Modern,
    /// 5.8 to 5.16: per-thread state in a hash map keyed by thread id
    /// (removed at sched_process_exit), the task read through CO-RE
    /// helpers, bounded loops instead of bpf_loop, static functions
    /// instead of global ones (whose pointer arguments came in 5.12).
    Compat,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Modern => "modern",
            Variant::Compat => "compat",
        }
    }
}

/// What the running kernel offers, as far as the choice of program goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF): CO-RE and tp_btf.
    pub btf: bool,
    /// BPF_MAP_TYPE_RINGBUF (5.8).
    pub ringbuf: bool,
    /// BPF_MAP_TYPE_TASK_STORAGE (5.11).
    pub task_storage: bool,
    /// The bpf_loop helper (5.17; implies global functions with pointer
    /// arguments, 5.12, and bpf_get_current_task_btf, 5.11).
    pub bpf_loop: bool,
}

/// Environment variable that forces a program variant (`modern` or
/// `compat`), so the compat build can be exercised on a new kernel.
pub const VARIANT_ENV: &str = "SYSTRACE_TUI_BPF_VARIANT";

impl Features {
    /// Asks the kernel (loads tiny probe programs and maps; needs root).
    pub fn probe() -> Features {
        let btf = std::path::Path::new("/sys/kernel/btf/vmlinux").exists();
        // libbpf's probes answer "unsupported" for any failure. Where not
        // even a plain array map can be made (no permission to use BPF, as
        // in a user namespace), they say nothing about the kernel: assume
        // the features and let the load itself say what is wrong.
        if !MapType::Array.is_supported().unwrap_or(false) {
            return Features {
                btf,
                ringbuf: true,
                task_storage: true,
                bpf_loop: true,
            };
        }
        let yes = |r: libbpf_rs::Result<bool>| r.unwrap_or(false);
        Features {
            btf,
            ringbuf: yes(MapType::RingBuf.is_supported()),
            task_storage: yes(MapType::TaskStorage.is_supported()),
            bpf_loop: yes(
                ProgramType::Tracepoint.is_helper_supported(libbpf_rs::libbpf_sys::BPF_FUNC_loop)
            ),
        }
    }

    /// The program this kernel can run, or the one line saying what it
    /// lacks. `forced` is the value of VARIANT_ENV.
    pub fn choose(&self, forced: Option<&str>) -> std::result::Result<Variant, String> {
        if !self.btf {
            return Err(
                "this kernel has no BTF (/sys/kernel/btf/vmlinux): it needs Linux 5.8 or \
                        later built with CONFIG_DEBUG_INFO_BTF=y"
                    .into(),
            );
        }
        if !self.ringbuf {
            return Err(
                "this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF): it needs \
                        Linux 5.8 or later"
                    .into(),
            );
        }
        match forced {
            Some("modern") => return Ok(Variant::Modern),
            Some("compat") => return Ok(Variant::Compat),
            Some(other) => {
                return Err(format!(
                    "{VARIANT_ENV}={other}: expected `modern` or `compat`"
                ))
            }
            None => {}
        }
        Ok(if self.task_storage && self.bpf_loop {
            Variant::Modern
        } else {
            Variant::Compat
        })
    }
}

/// The loaded skeleton, whichever variant it is.
pub(crate) enum Skel {
    Modern(SystraceSkel<'static>),
    Compat(SystraceCompatSkel<'static>),
}

/// Runs the same code on either skeleton: their fields have the same names
/// and layouts but distinct types.
macro_rules! with_skel {
    ($skel:expr, $s:ident => $body:expr) => {
        match $skel {
            Skel::Modern($s) => $body,
            Skel::Compat($s) => $body,
        }
    };
}

/// Opens, sizes and loads one skeleton type (`$builder`).
macro_rules! load_skel {
    ($builder:ty, $opts:expr) => {{
        let opts: &LoadOptions = $opts;
        let obj: &'static mut MaybeUninit<OpenObject> = Box::leak(Box::new(MaybeUninit::uninit()));
        let mut open = <$builder>::default()
            .open(obj)
            .map_err(|e| explain(e, "opening the eBPF program"))?;
        let (dev, ino, tgid) = self_ns()?;
        {
            let ro = open
                .maps
                .rodata_data
                .as_deref_mut()
                .ok_or_else(|| anyhow!("eBPF program has no rodata"))?;
            ro.self_ns_dev = dev;
            ro.self_ns_ino = ino;
            ro.self_ns_tgid = tgid;
            ro.buf_max = opts.buf_max.min(4096);
            if let Some(sc) = &opts.scope {
                ro.scope_cgroup = sc.id;
                ro.scope_level = sc.level;
            }
            ro.untimed = u32::from(opts.untimed);
        }
        let cells = opts.agg_entries.max(1);
        for m in [
            &mut open.maps.agg,
            &mut open.maps.agg_cells,
            &mut open.maps.agg_free,
        ] {
            m.set_max_entries(cells)
                .map_err(|e| explain(e, "sizing the aggregation map"))?;
        }
        let ring = opts.ring_bytes.max(4096).next_power_of_two();
        open.maps
            .events
            .set_max_entries(ring)
            .map_err(|e| explain(e, "sizing the ring buffer"))?;
        if let Some(d) = open.maps.data_data.as_deref_mut() {
            d.wake_bytes = opts.wake_bytes.min(ring as u64 / 2);
        }
        if let Some(b) = open.maps.bss_data.as_deref_mut() {
            b.agg_mode = opts.mode.code();
        }
        let skel = open
            .load()
            .map_err(|e| explain(e, "loading the eBPF program"))?;
        fill_free_slots(&skel.maps.agg_free, cells)?;
        (skel, ring)
    }};
}

/// Highest syscall number the kernel-side tables cover (MAX_NR in C).
pub const MAX_NR: u32 = 1024;

/// Options that must be fixed before the program is loaded.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Ring buffer size in bytes (rounded up to a power of two).
    pub ring_bytes: u32,
    /// Bytes of read/write buffers to copy (0..=4096).
    pub buf_max: u32,
    /// Wake the reader when this many bytes are queued; below that it
    /// drains on its own timer, so a busy machine costs few wake-ups.
    pub wake_bytes: u64,
    /// Leave out, besides this process, every process it starts from now
    /// on and everything those start (the topology's `podman` calls).
    /// Off only for a program that wants to trace its own children.
    pub exclude_descendants: bool,
    /// Entries of the aggregation map ((cgroup, syscall, errno) triples).
    pub agg_entries: u32,
    /// The kernel's mode from the first call on (drill-down sets are
    /// applied with `set_mode` before attaching).
    pub mode: KernelMode,
    /// `--cgroup`: only tasks in this cgroup v2 subtree, for the whole run.
    pub scope: Option<CgroupScope>,
    /// Count without timing (nothing will show a time): each call is
    /// counted at its exit alone, with no clock read. Only with
    /// `KernelMode::Aggregate` for the whole run.
    pub untimed: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            ring_bytes: 32 << 20,
            buf_max: 64,
            wake_bytes: 2 << 20,
            exclude_descendants: true,
            agg_entries: AGG_ENTRIES,
            mode: KernelMode::Stream,
            scope: None,
            untimed: false,
        }
    }
}

/// Most entries the aggregation map gets by default.
pub const AGG_ENTRIES: u32 = 16384;

/// What the counters may reserve by default: each entry holds 536 bytes
/// per CPU, reserved at load, so on a many-core node the default shrinks
/// rather than reserve gigabytes (`--agg-entries` overrides it).
const AGG_DEFAULT_BYTES: u64 = 128 << 20;

/// The aggregation map's default size for a machine with `cpus` CPUs.
pub fn default_agg_entries_for(cpus: usize) -> u32 {
    let per_entry = AGG_CELL_BYTES * cpus.max(1) as u64;
    (AGG_DEFAULT_BYTES / per_entry).clamp(1024, u64::from(AGG_ENTRIES)) as u32
}

/// The aggregation map's default size here.
pub fn default_agg_entries() -> u32 {
    default_agg_entries_for(libbpf_rs::num_possible_cpus().unwrap_or(1))
}

/// Bytes of one counting cell (`struct st_agg_val`), per CPU.
const AGG_CELL_BYTES: u64 = super::aggregate::VAL_SIZE as u64;

trait ModeCode {
    fn code(&self) -> u32;
}

impl ModeCode for KernelMode {
    /// ST_MODE_* in systrace.h.
    fn code(&self) -> u32 {
        match self {
            KernelMode::Stream => 0,
            KernelMode::Aggregate => 1,
            KernelMode::Drill { .. } => 2,
        }
    }
}

pub use crate::model::flow::{CgroupScope, KernelFilter, KernelMode};

/// The loaded and attached program.
pub struct Tracer {
    pub(crate) skel: Skel,
    links: Vec<Link>,
    exclude_descendants: bool,
}

/// libbpf's own messages (warnings, the verifier's log): hidden unless
/// `-v`, `-vv` adds its debug log. Left alone, libbpf prints them unasked.
pub fn libbpf_log(verbosity: u8) {
    fn print(_: PrintLevel, msg: String) {
        crate::say!("{}", msg.trim_end());
    }
    let level = match verbosity {
        0 => None,
        1 => Some(PrintLevel::Info),
        _ => Some(PrintLevel::Debug),
    };
    libbpf_rs::set_print(level.map(|l| (l, print as PrintCallback)));
}

/// Turns libbpf's error into the one line a user needs.
fn explain(e: libbpf_rs::Error, what: &str) -> anyhow::Error {
    let msg = e.to_string();
    let hint = if msg.contains("Operation not permitted") || msg.contains("EPERM") {
        " (needs root: CAP_BPF and CAP_PERFMON)"
    } else if msg.contains("BTF") || msg.contains("btf") {
        " (the kernel needs BTF: /sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF=y)"
    } else {
        ""
    };
    let more = if crate::verbose::level() == 0 {
        "; -v shows libbpf's messages"
    } else {
        ""
    };
    anyhow!("{what}: {msg}{hint}{more}")
}

/// Device and inode of our pid namespace, and our pid inside it: the kernel
/// side uses them to recognise the tracer even inside a container.
fn self_ns() -> Result<(u64, u64, u32)> {
    let md = std::fs::metadata("/proc/self/ns/pid").context("reading /proc/self/ns/pid")?;
    let dev = md.dev();
    // The kernel compares against its internal dev_t (major << 20 | minor).
    let kdev = (libc::major(dev) as u64) << 20 | libc::minor(dev) as u64;
    Ok((kdev, md.ino(), std::process::id()))
}

/// The capture plan of one syscall on this machine's architecture.
pub fn plan_for(info: &syscalls::SyscallInfo) -> Plan {
    plan_for_arch(Arch::native(), info)
}

/// The capture plan of one syscall: which arguments to copy from user
/// memory. Strings, argv, buffers and sockaddrs come from the argument
/// kinds; structures from `structs::specs`, which take the argument over.
pub fn plan_for_arch(arch: Arch, info: &syscalls::SyscallInfo) -> Plan {
    let mut plan = Plan::default();
    let mut n = 0;
    let exec = matches!(info.name, "execve" | "execveat");
    let specs = structs::specs(arch, info.name);
    for (i, a) in info.args.iter().enumerate() {
        if specs.iter().any(|(k, _)| *k == i) {
            continue;
        }
        // envp is left out: argv and the path already use both slots.
        let len_is_ptr = a
            .len_arg
            .and_then(|l| info.args.get(usize::from(l)))
            .is_some_and(|l| l.kind == ArgKind::Ptr);
        let kind = match a.kind {
            ArgKind::Path | ArgKind::Str => CAP_STR,
            ArgKind::Argv => CAP_ARGV,
            ArgKind::BufIn => CAP_BUF_IN,
            ArgKind::BufOut => CAP_BUF_OUT,
            ArgKind::Sockaddr if len_is_ptr => CAP_SOCKADDR_OUT,
            ArgKind::Sockaddr => CAP_SOCKADDR,
            _ => continue,
        };
        // exec: path and argv only (envp is shown as an address).
        if n == MAX_CAPS || (exec && n == 2) {
            break;
        }
        plan.caps[n] = Cap {
            kind,
            arg: i as u8,
            len_arg: a.len_arg.unwrap_or(0),
            // The old address space is gone at sys_exit of a successful exec.
            at_enter: exec as u8,
            ..Cap::default()
        };
        n += 1;
    }
    for (i, sp) in specs {
        if n == MAX_CAPS {
            break;
        }
        plan.caps[n] = Cap {
            kind: sp.cap,
            arg: *i as u8,
            len_arg: sp.len_arg,
            at_enter: sp.at_enter as u8,
            size: sp.size,
            max: sp.max,
            when: sp.when,
        };
        n += 1;
    }
    if exec || plan.caps.iter().any(|c| c.at_enter != 0) {
        plan.flags |= P_AT_ENTER;
    }
    if matches!(info.returns, RetKind::NoReturn) {
        plan.flags |= P_NO_RETURN;
    }
    if matches!(
        info.name,
        "setns" | "unshare" | "setsid" | "execve" | "execveat"
    ) {
        plan.flags |= P_REFRESH;
    }
    // Calls without captured data are sent cut after these (the decoders
    // read no more of them than the table gives).
    plan.flags |= (info.args.len().min(6) as u32 + 1) << P_NARGS_SHIFT;
    plan
}

/// Tracer::set_filter on one skeleton type.
macro_rules! set_filter_in {
    ($skel:expr, $f:expr) => {{
        let f: &KernelFilter = $f;
        let maps = &mut $skel.maps;
        let bss = maps
            .bss_data
            .as_deref_mut()
            .ok_or_else(|| anyhow!("eBPF program has no bss"))?;
        if f.pids.is_none() {
            bss.filter_pid_on = 0;
        }
        if f.cgroups.is_none() {
            bss.filter_cgroup_on = 0;
        }
        bss.filter_nr_on = 0;
        let pids: Vec<Vec<u8>> = f
            .pids
            .iter()
            .flatten()
            .map(|p| p.to_ne_bytes().to_vec())
            .collect();
        sync_set(&maps.pid_filter, &pids).context("updating the pid filter")?;
        let cgs: Vec<Vec<u8>> = f
            .cgroups
            .iter()
            .flatten()
            .map(|c| c.to_ne_bytes().to_vec())
            .collect();
        sync_set(&maps.cgroup_filter, &cgs).context("updating the cgroup filter")?;
        let bss = maps.bss_data.as_deref_mut().expect("checked above");
        bss.nr_bits = [0; (MAX_NR / 64) as usize];
        if let Some(nrs) = &f.syscalls {
            for &nr in nrs.iter().filter(|&&n| n < MAX_NR) {
                bss.nr_bits[(nr / 64) as usize] |= 1 << (nr % 64);
            }
        }
        bss.filter_pid_on = f.pids.is_some() as u32;
        bss.filter_cgroup_after = f.cgroups.as_ref().map_or(0, |_| f.cgroups_after);
        bss.filter_cgroup_on = f.cgroups.is_some() as u32;
        bss.filter_nr_on = f.syscalls.is_some() as u32;
        Ok(())
    }};
}

/// Tracer::set_mode on one skeleton type. The drill-down sets are filled
/// before the mode switches to them, and the mode leaves them before they
/// are emptied.
macro_rules! set_mode_in {
    ($skel:expr, $m:expr) => {{
        let m: &KernelMode = $m;
        let maps = &mut $skel.maps;
        let bss = maps
            .bss_data
            .as_deref_mut()
            .ok_or_else(|| anyhow!("eBPF program has no bss"))?;
        if let KernelMode::Drill { cgroups, syscalls } = m {
            bss.agg_mode = 1;
            bss.drill_cgroup_on = 0;
            bss.drill_nr_on = 0;
            let cgs: Vec<Vec<u8>> = cgroups
                .iter()
                .flatten()
                .map(|c| c.to_ne_bytes().to_vec())
                .collect();
            sync_set(&maps.drill_cgroups, &cgs).context("updating the drill-down cgroups")?;
            let bss = maps.bss_data.as_deref_mut().expect("checked above");
            // A few cgroups are also compared in place (no hash lookup).
            let few: Vec<u64> = cgroups.iter().flatten().copied().collect();
            bss.drill_cg_few = 0;
            if few.len() <= bss.drill_cg_list.len() {
                bss.drill_cg_list = Default::default();
                bss.drill_cg_list[..few.len()].copy_from_slice(&few);
                bss.drill_cg_few = few.len() as u32;
            }
            bss.drill_nr_bits = [0; (MAX_NR / 64) as usize];
            for &nr in syscalls.iter().flatten().filter(|&&n| n < MAX_NR) {
                bss.drill_nr_bits[(nr / 64) as usize] |= 1 << (nr % 64);
            }
            bss.drill_cgroup_on = cgroups.is_some() as u32;
            bss.drill_nr_on = syscalls.is_some() as u32;
            bss.agg_mode = m.code();
        } else {
            bss.agg_mode = m.code();
        }
        // Calls entered before the change leave the CPU's fast path.
        let bss = maps.bss_data.as_deref_mut().expect("checked above");
        bss.agg_epoch = bss.agg_epoch.wrapping_add(1);
        Ok(())
    }};
}

impl Tracer {
    pub fn load(opts: &LoadOptions) -> Result<Tracer> {
        check_privileges()?;
        let features = Features::probe();
        let forced = std::env::var(VARIANT_ENV).ok();
        let variant = features
            .choose(forced.as_deref())
            .map_err(|e| anyhow!("{e}"))?;
        crate::note!(
            "systrace-tui: kernel {}: {features:?}: the {} program{}",
            kernel_release(),
            variant.name(),
            if forced.is_some() { " (forced)" } else { "" }
        );
        let (skel, ring) = match variant {
            Variant::Modern => {
                let (s, ring) = load_skel!(skel::SystraceSkelBuilder, opts);
                (Skel::Modern(s), ring)
            }
            Variant::Compat => {
                let (s, ring) = load_skel!(skel_compat::SystraceCompatSkelBuilder, opts);
                (Skel::Compat(s), ring)
            }
        };
        crate::note!(
            "systrace-tui: loaded the eBPF program: ring buffer {} MiB, {} bytes of data per call",
            ring >> 20,
            opts.buf_max.min(4096)
        );
        let arch = Arch::native();
        let mut planned = 0;
        for info in syscalls::table(arch) {
            if info.nr >= MAX_NR {
                continue;
            }
            // Every known call has a plan (its argument count); those
            // that capture or flag something are counted as planned.
            let plan = plan_for(info);
            let bare = Plan {
                flags: plan.flags >> P_NARGS_SHIFT << P_NARGS_SHIFT,
                ..Plan::default()
            };
            planned += usize::from(plan != bare);
            with_skel!(&skel, s => s.maps.plans.update(
                &info.nr.to_ne_bytes(),
                &plan.as_bytes(),
                MapFlags::ANY
            ))
            .map_err(|e| explain(e, "writing capture plans"))?;
        }
        crate::note!(
            "systrace-tui: capture plans for {planned} {} syscalls",
            arch.name()
        );
        Ok(Tracer {
            skel,
            links: Vec::new(),
            exclude_descendants: opts.exclude_descendants,
        })
    }

    /// Attaches the programs. Set filters before this, so nothing that
    /// should be filtered out is ever seen.
    pub fn attach(&mut self) -> Result<()> {
        let fork_too = self.exclude_descendants;
        self.links = with_skel!(&mut self.skel, skel => {
            // Before sys_enter, so no child the tracer starts is missed.
            let fork = if fork_too {
                Some(
                    skel.progs
                        .sched_process_fork
                        .attach_trace()
                        .map_err(|e| explain(e, "attaching to sched:sched_process_fork"))?,
                )
            } else {
                None
            };
            let exec = skel
                .progs
                .sched_process_exec
                .attach_trace()
                .map_err(|e| explain(e, "attaching to sched:sched_process_exec"))?;
            let enter = skel
                .progs
                .sys_enter
                .attach_trace()
                .map_err(|e| explain(e, "attaching to raw_syscalls:sys_enter"))?;
            let exit = skel
                .progs
                .sys_exit
                .attach_trace()
                .map_err(|e| explain(e, "attaching to raw_syscalls:sys_exit"))?;
            [Some(enter), Some(exit), Some(exec), fork]
        })
        .into_iter()
        .flatten()
        .collect();
        // Excluded tasks are counted out as they exit; the compat build's
        // hash of per-thread state is emptied as threads exit.
        if fork_too || matches!(self.skel, Skel::Compat(_)) {
            let gone = with_skel!(&mut self.skel, skel => skel
                .progs
                .sched_process_exit
                .attach_trace()
                .map_err(|e| explain(e, "attaching to sched:sched_process_exit"))?);
            self.links.push(gone);
        }
        crate::note!("systrace-tui: attached to raw_syscalls sys_enter and sys_exit (tp_btf)");
        Ok(())
    }

    /// The ring buffer the kernel side writes records into.
    pub(crate) fn events(&self) -> &dyn MapCore {
        with_skel!(&self.skel, s => &s.maps.events)
    }

    /// Host tgid of this process as the kernel side learnt it (0 until our
    /// first traced syscall).
    pub fn self_tgid(&self) -> u32 {
        with_skel!(&self.skel, s => s.maps.bss_data.as_deref().map_or(0, |b| b.self_tgid))
    }

    /// Sum over CPUs of failed ring-buffer writes.
    pub fn kernel_lost(&self) -> u64 {
        let key = 0u32.to_ne_bytes();
        let vals = with_skel!(&self.skel, s => s.maps.lost.lookup_percpu(&key, MapFlags::ANY));
        match vals {
            Ok(Some(vals)) => vals
                .iter()
                .filter_map(|v| v.get(..8))
                .map(|b| u64::from_ne_bytes(b.try_into().expect("8 bytes")))
                .sum(),
            _ => 0,
        }
    }

    /// Replaces the in-kernel filters. A set that stays on is updated in
    /// place (new keys added before stale ones go), so a filter that is
    /// only changing never lets everything through for a moment; a set
    /// being turned on is filled before its switch.
    pub fn set_filter(&mut self, f: &KernelFilter) -> Result<()> {
        with_skel!(&mut self.skel, s => set_filter_in!(s, f))
    }

    /// Switches what the kernel does with each call (counting, records,
    /// or counting with records for a drill-down set).
    pub fn set_mode(&mut self, m: &KernelMode) -> Result<()> {
        with_skel!(&mut self.skel, s => set_mode_in!(s, m))
    }

    /// The aggregation maps: keys to slots, the per-CPU counters by slot,
    /// and the per-CPU miss counters.
    pub(crate) fn agg_maps(&self) -> (&dyn MapCore, &dyn MapCore, &dyn MapCore) {
        with_skel!(&self.skel, s => (&s.maps.agg, &s.maps.agg_cells, &s.maps.agg_misses))
    }
}

/// Gives the kernel every counter slot (`agg_free`, systrace.bpf.c): it
/// takes one per new (cgroup, syscall, errno).
pub(crate) fn fill_free_slots(free: &dyn MapCore, n: u32) -> Result<()> {
    for slot in 0..n {
        free.update(&[], &slot.to_ne_bytes(), MapFlags::ANY)
            .map_err(|e| anyhow!("filling the aggregation map's free slots: {e}"))?;
    }
    Ok(())
}

/// Makes a hash set map hold exactly `keys`: adds first, then removes.
fn sync_set(map: &dyn MapCore, keys: &[Vec<u8>]) -> Result<()> {
    let want: std::collections::HashSet<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    for k in &want {
        map.update(k, &[1], MapFlags::ANY)?;
    }
    let stale: Vec<Vec<u8>> = map
        .keys()
        .filter(|k| !want.contains(k.as_slice()))
        .collect();
    for k in stale {
        let _ = map.delete(&k);
    }
    Ok(())
}

/// The running kernel's release, for messages.
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Fails early, with the message users need, when we cannot load BPF.
pub fn check_privileges() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 && !has_bpf_caps() {
        return Err(anyhow!(crate::NEEDS_ROOT));
    }
    Ok(())
}

/// CAP_BPF (39) and CAP_PERFMON (38) in the effective set, or CAP_SYS_ADMIN (21).
fn has_bpf_caps() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    let has = |bit: u32| eff & (1u64 << bit) != 0;
    has(21) || (has(38) && has(39))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::raw::{CAP_ARR, CAP_IOV, CAP_MEM, LEN_RET, W_OK, W_RET};

    const ALL: Features = Features {
        btf: true,
        ringbuf: true,
        task_storage: true,
        bpf_loop: true,
    };

    #[test]
    fn the_kernel_decides_the_program_and_what_is_missing_is_named() {
        assert_eq!(ALL.choose(None), Ok(Variant::Modern));
        // 5.8 to 5.10: ring buffer, no task storage, no bpf_loop.
        let v5_10 = Features {
            task_storage: false,
            bpf_loop: false,
            ..ALL
        };
        assert_eq!(v5_10.choose(None), Ok(Variant::Compat));
        // 5.11 to 5.16: task storage, but no bpf_loop.
        let v5_15 = Features {
            bpf_loop: false,
            ..ALL
        };
        assert_eq!(v5_15.choose(None), Ok(Variant::Compat));
        assert_eq!(ALL.choose(Some("compat")), Ok(Variant::Compat));
        assert!(ALL
            .choose(Some("new"))
            .unwrap_err()
            .contains("`modern` or `compat`"));
        let no_ring = Features {
            ringbuf: false,
            ..v5_10
        };
        let e = no_ring.choose(None).unwrap_err();
        assert!(
            e.contains("BPF_MAP_TYPE_RINGBUF") && e.contains("5.8"),
            "{e}"
        );
        // Forcing a variant does not get past a missing floor.
        assert!(no_ring.choose(Some("compat")).is_err());
        let no_btf = Features { btf: false, ..ALL };
        let e = no_btf.choose(None).unwrap_err();
        assert!(e.contains("BTF") && e.contains("5.8"), "{e}");
        assert!(!e.contains('\n'));
    }

    fn plan_on(arch: Arch, name: &str) -> Plan {
        plan_for_arch(arch, syscalls::by_name(arch, name).unwrap())
    }

    #[test]
    fn structures_are_planned_with_their_size_per_arch() {
        for (arch, stat, ev) in [(Arch::X86_64, 144, 12), (Arch::Aarch64, 128, 16)] {
            let p = plan_on(arch, "newfstatat");
            assert_eq!((p.caps[0].kind, p.caps[0].arg), (CAP_STR, 1));
            let c = p.caps[1];
            assert_eq!((c.kind, c.arg, c.size, c.when), (CAP_MEM, 2, stat, W_OK));
            let p = plan_on(arch, "epoll_pwait");
            let c = p.caps[0];
            assert_eq!(
                (c.kind, c.len_arg, c.size, c.when),
                (CAP_ARR, LEN_RET, ev, W_RET)
            );
            // Copied at enter: select overwrites its sets.
            let p = plan_on(arch, "pselect6");
            assert!(p.caps.iter().all(|c| c.at_enter == 1));
            assert_ne!(p.flags & P_AT_ENTER, 0);
        }
        // No structure, no change: the fast path stays, and only the
        // arguments the call takes are sent.
        let bare = |nargs: u32| Plan {
            flags: (nargs + 1) << P_NARGS_SHIFT,
            ..Plan::default()
        };
        assert_eq!(plan_on(Arch::X86_64, "getppid"), bare(0));
        assert_eq!(plan_on(Arch::X86_64, "close"), bare(1));
        assert_eq!(plan_on(Arch::Aarch64, "futex"), bare(6));
        assert_eq!(plan_on(Arch::X86_64, "openat").flags & P_AT_ENTER, 0);
    }

    #[test]
    fn openat_copies_its_path_and_execve_its_argv_at_enter() {
        let arch = Arch::X86_64;
        let open = plan_for(syscalls::by_name(arch, "openat").unwrap());
        assert_eq!(open.caps[0].kind, CAP_STR);
        assert_eq!(open.caps[0].arg, 1);
        assert_eq!(open.caps[0].at_enter, 0);
        let exec = plan_for(syscalls::by_name(arch, "execve").unwrap());
        assert_eq!((exec.caps[0].kind, exec.caps[0].arg), (CAP_STR, 0));
        assert_eq!((exec.caps[1].kind, exec.caps[1].arg), (CAP_ARGV, 1));
        assert_eq!(exec.caps[0].at_enter, 1);
        assert_ne!(exec.flags & P_REFRESH, 0);
        let exit = plan_for(syscalls::by_name(arch, "exit_group").unwrap());
        assert_ne!(exit.flags & P_NO_RETURN, 0);
        // The kernel sends every call that does not return with one
        // argument (a constant size for the verifier).
        for arch in Arch::ALL {
            for info in syscalls::table(arch) {
                let p = plan_for_arch(arch, info);
                if p.flags & P_NO_RETURN != 0 {
                    assert_eq!(p.flags >> P_NARGS_SHIFT, 1 + 1, "{}", info.name);
                }
            }
        }
        let getppid = plan_for(syscalls::by_name(arch, "getppid").unwrap());
        assert_eq!(getppid.caps, Plan::default().caps);
        assert_eq!(getppid.flags, 1 << P_NARGS_SHIFT);
    }

    fn caps(name: &str) -> Vec<(u8, u8, u8)> {
        let p = plan_for(syscalls::by_name(Arch::X86_64, name).unwrap());
        p.caps
            .iter()
            .filter(|c| c.kind != 0)
            .map(|c| (c.kind, c.arg, c.len_arg))
            .collect()
    }

    #[test]
    fn buffers_and_sockaddrs_are_planned_only_where_they_exist() {
        assert_eq!(caps("read"), [(CAP_BUF_OUT, 1, 2)]);
        assert_eq!(caps("write"), [(CAP_BUF_IN, 1, 2)]);
        assert_eq!(caps("pwrite64"), [(CAP_BUF_IN, 1, 2)]);
        assert_eq!(caps("connect"), [(CAP_SOCKADDR, 1, 2)]);
        assert_eq!(caps("bind"), [(CAP_SOCKADDR, 1, 2)]);
        // The kernel writes these addresses and their length through a
        // pointer; the length is copied before and after (`[110 => 16]`).
        let len = |i| (CAP_MEM, i, 0);
        assert_eq!(caps("accept4"), [(CAP_SOCKADDR_OUT, 1, 2), len(2), len(2)]);
        assert_eq!(
            caps("getpeername"),
            [(CAP_SOCKADDR_OUT, 1, 2), len(2), len(2)]
        );
        assert_eq!(
            caps("recvfrom"),
            [
                (CAP_BUF_OUT, 1, 2),
                (CAP_SOCKADDR_OUT, 4, 5),
                len(5),
                len(5)
            ]
        );
        assert_eq!(caps("sendto"), [(CAP_BUF_IN, 1, 2), (CAP_SOCKADDR, 4, 5)]);
        assert_eq!(caps("renameat"), [(CAP_STR, 1, 0), (CAP_STR, 3, 0)]);
        assert_eq!(caps("readv"), [(CAP_IOV, 1, 2)]);
        for none in ["getpid", "close", "mmap", "futex", "munmap", "brk"] {
            assert!(caps(none).is_empty(), "{none} copies nothing");
        }
    }
}

#[cfg(test)]
mod agg_default_tests {
    use super::{default_agg_entries_for, AGG_ENTRIES};

    #[test]
    fn the_counting_map_default_shrinks_with_many_cpus() {
        // Up to 15 CPUs the full default fits in 128 MiB.
        assert_eq!(default_agg_entries_for(2), AGG_ENTRIES);
        assert_eq!(default_agg_entries_for(15), AGG_ENTRIES);
        // 64 CPUs: 128 MiB / (536 B x 64).
        assert_eq!(default_agg_entries_for(64), 3912);
        // Never below 1024 entries, however many CPUs.
        assert_eq!(default_agg_entries_for(4096), 1024);
    }
}
