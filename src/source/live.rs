//! Live capture: the kernel's events with the machine's containers, as one
//! source. Needs root to start; privileges are dropped once attached.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, Result};
use crossbeam_channel::Receiver;

use super::kernel::loader::{CgroupScope, LoadOptions};
use super::kernel::reader::{Capture, CaptureOptions};
use super::topology::names::Sources;
use super::topology::{Topology, TopologyOptions};
use super::{Counting, End, Source};
use crate::clock::Clock;
use crate::model::counts::Counted;
use crate::model::event::Event;
use crate::model::flow::{usage, KernelFilter, KernelMode, Origin, Recycler};
use crate::model::selection::Selection;
use crate::model::syscalls::Arch;
use crate::say;
use crate::session::format::{Filters, Header};
use crate::session::writer::live_header;

/// What live capture needs.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Ring buffer size in MiB as asked for (the kernel rounds it up).
    pub ring_mb: u32,
    pub buf_size: u32,
    /// `-p`: must exist when tracing starts.
    pub pids: Vec<u32>,
    pub cri_sockets: Vec<PathBuf>,
    /// The container flags given, by name (for messages).
    pub container_flags: Vec<&'static str>,
    /// What the kernel can do of `-p` and `--filter`.
    pub kernel: KernelFilter,
    /// The containers to keep: the flags, and the container part of
    /// `--filter`. The topology turns it into the kernel's cgroup set.
    pub selection: Option<Selection>,
    /// Entries of the kernel's counting map.
    pub agg_entries: u32,
    /// What the kernel does with each call from the start.
    pub mode: KernelMode,
    /// `--metrics`: where to serve them, and how many containers get
    /// labels of their own.
    pub metrics: Option<(SocketAddr, usize)>,
    /// `--cgroup`: only this cgroup v2 subtree, in the kernel.
    pub scope: Option<CgroupScope>,
    /// Counted without times (see `LoadOptions::untimed`).
    pub untimed: bool,
}

pub struct Live {
    capture: Capture,
    topology: Option<JoinHandle<()>>,
    events: Receiver<Vec<Event>>,
    clock: Clock,
    counted: Counted,
    mode: KernelMode,
}

impl Live {
    pub fn start(opts: &LiveOptions) -> Result<Live> {
        check_flags(opts)?;
        let clock = Clock::measure();
        let topo = topology(opts)?;
        let counted = Counted::new(Arch::native());
        let mut copts = capture_options(opts, &counted);
        if let Some(t) = &topo {
            copts.filter = t.kernel_filter();
        }
        crate::note!("systrace-tui: kernel filter: {}", describe(&copts.filter));
        if let Some(sc) = &opts.scope {
            crate::note!(
                "systrace-tui: only cgroup {} and below (id {}, level {})",
                crate::model::escape::plain(sc.path.as_bytes(), 256),
                sc.id,
                sc.level
            );
        }
        let capture = Capture::start(copts)?;
        // The capture thread dropped its own; threads started from here
        // inherit these.
        crate::privs::drop_privileges()?;
        let (events, topology) = match topo {
            Some(t) => {
                let (rx, h) = t.spawn(
                    capture.events.clone(),
                    Some(Box::new(capture.filter_handle())),
                )?;
                (rx, Some(h))
            }
            None => (capture.events.clone(), None),
        };
        Ok(Live {
            capture,
            topology,
            events,
            clock,
            counted,
            mode: opts.mode.clone(),
        })
    }
}

impl Live {
    /// The capture, for what serves it elsewhere (the agent's hub).
    pub fn capture(&self) -> &Capture {
        &self.capture
    }
}

impl Source for Live {
    fn events(&self) -> &Receiver<Vec<Event>> {
        &self.events
    }

    fn recycler(&self) -> Option<Recycler> {
        Some(self.capture.recycler.clone())
    }

    fn origin(&self) -> Origin {
        Origin::Live
    }

    fn clock(&self) -> Clock {
        self.clock
    }

    fn header(&self, filters: Filters) -> Header {
        live_header(self.clock, filters)
    }

    fn counting(&self) -> Option<Counting> {
        Some(Counting {
            counted: self.counted.clone(),
            mode: self.mode.clone(),
            modes: Box::new(self.capture.mode_handle()),
        })
    }

    fn stop(&mut self) -> Result<()> {
        self.capture.stop()
    }

    fn finish(self: Box<Self>) -> Result<End> {
        let Live {
            mut capture,
            topology,
            events,
            ..
        } = *self;
        drop(events);
        capture.stop()?;
        if let Some(h) = topology {
            h.join()
                .map_err(|_| anyhow!("the topology thread panicked"))?;
        }
        Ok(End {
            lost: capture.stats.lost(),
            ..End::default()
        })
    }
}

fn capture_options(opts: &LiveOptions, counted: &Counted) -> CaptureOptions {
    let ring = opts.ring_mb.next_power_of_two();
    if ring != opts.ring_mb {
        say!(
            "systrace-tui: --ring-mb {}: using {ring} MiB (the kernel's ring buffer is a power of two)",
            opts.ring_mb
        );
    }
    CaptureOptions {
        load: LoadOptions {
            ring_bytes: ring << 20,
            buf_max: opts.buf_size,
            agg_entries: opts.agg_entries,
            mode: opts.mode.clone(),
            scope: opts.scope.clone(),
            untimed: opts.untimed,
            ..Default::default()
        },
        filter: opts.kernel.clone(),
        drop_privileges: true,
        counts: Some(counted.counts.clone()),
        // Without records to drain, the reader need not wake so often.
        drain_every: if opts.mode == KernelMode::Aggregate {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(10)
        },
        ..Default::default()
    }
}

/// The container topology for this run. Without a cgroup2 hierarchy there
/// is none (everything is "host"), unless a container flag needs it.
fn topology(opts: &LiveOptions) -> Result<Option<Topology>> {
    let topts = TopologyOptions {
        sources: Sources {
            cri_sockets: super::topology::cri::sockets(&opts.cri_sockets),
            ..Default::default()
        },
        selection: opts.selection.clone(),
        ..Default::default()
    };
    match Topology::new(topts, opts.kernel.clone()) {
        Ok(t) => Ok(Some(t)),
        // Without the flags, a host without cgroup v2 still runs: a --filter
        // test on container names then just never matches.
        Err(e) if opts.container_flags.is_empty() => {
            say!("systrace-tui: containers are not shown: {e:#}");
            Ok(None)
        }
        Err(e) => {
            // Name the flags given, so the one line says what to drop.
            let flags = &opts.container_flags;
            let verb = if flags.len() == 1 { "needs" } else { "need" };
            Err(e.context(format!(
                "{} {verb} the cgroup v2 hierarchy",
                flags.join(" and ")
            )))
        }
    }
}

/// Flag values that only the running system can judge.
fn check_flags(opts: &LiveOptions) -> Result<()> {
    for pid in &opts.pids {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return Err(usage(format!("-p {pid}: no such process")));
        }
    }
    for s in &opts.cri_sockets {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata(s) {
            Ok(m) if m.file_type().is_socket() => {}
            Ok(_) => return Err(usage(format!("--cri-socket {}: not a socket", s.display()))),
            Err(e) => return Err(usage(format!("--cri-socket {}: {e}", s.display()))),
        }
    }
    Ok(())
}

/// The kernel's filter sets in a few words, for `-v`.
fn describe(f: &KernelFilter) -> String {
    let set = |what: &str, len: Option<usize>| match len {
        None => format!("{what} all"),
        Some(n) => format!("{what} {n}"),
    };
    [
        set("processes", f.pids.as_ref().map(Vec::len)),
        set("cgroups", f.cgroups.as_ref().map(Vec::len)),
        set("syscalls", f.syscalls.as_ref().map(Vec::len)),
    ]
    .join(", ")
}
