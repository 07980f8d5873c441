//! The overhead benchmark's floor: attaches two empty programs at
//! raw_syscalls sys_enter / sys_exit (src/source/kernel/floor.bpf.c), says
//! "floor: attached" on stderr, and holds them until SIGINT or SIGTERM.
//! Every syscall on the machine then pays for the attach point and nothing
//! else: the physical limit any tracer there can reach. With `--clock`
//! the two programs read the clock instead: the limit of any tracer that
//! times each call.

use std::mem::MaybeUninit;

use anyhow::{Context, Result};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

#[allow(clippy::all, clippy::pedantic)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/floor.skel.rs"));
}

fn main() -> Result<()> {
    systrace_tui::source::kernel::loader::check_privileges()?;
    // Signals are registered before attaching, so a stop that comes right
    // after "attached" is never missed.
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let mut obj = MaybeUninit::uninit();
    let open = skel::FloorSkelBuilder::default()
        .open(&mut obj)
        .context("opening the floor program")?;
    let skel = open.load().context("loading the floor program")?;
    // --clock: the programs that read the clock at each end instead.
    let clock = std::env::args().nth(1).as_deref() == Some("--clock");
    let p = &skel.progs;
    let (enter, exit) = if clock {
        (&p.clock_enter, &p.clock_exit)
    } else {
        (&p.floor_enter, &p.floor_exit)
    };
    let _enter = enter
        .attach_trace()
        .context("attaching to raw_syscalls:sys_enter")?;
    let _exit = exit
        .attach_trace()
        .context("attaching to raw_syscalls:sys_exit")?;
    eprintln!("floor: attached");
    signals.forever().next();
    Ok(())
}
