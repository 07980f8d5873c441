//! Privilege hygiene: once the eBPF program is loaded and attached, a thread
//! keeps only what reading the ring buffer, /proc and runtime sockets needs.
//! Capabilities are per thread, so every thread that held them calls this.

use anyhow::{Context, Result};
use caps::{CapSet, Capability, CapsHashSet};

/// What stays: reading other users' /proc/PID/fd and files, and (on kernels
/// before 6.5, where every bpf() command checks it) CAP_BPF for filter-map
/// updates.
pub fn kept() -> CapsHashSet {
    let mut keep = CapsHashSet::new();
    keep.insert(Capability::CAP_DAC_OVERRIDE);
    keep.insert(Capability::CAP_DAC_READ_SEARCH);
    keep.insert(Capability::CAP_SYS_PTRACE);
    if !kernel_at_least(6, 5) {
        keep.insert(Capability::CAP_BPF);
        keep.insert(Capability::CAP_SYS_ADMIN);
    }
    keep
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    let rel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut it = rel
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// Reduces the calling thread's effective and permitted sets (and the
/// process's bounding set) to `kept()`.
pub fn drop_privileges() -> Result<()> {
    let has = caps::read(None, CapSet::Permitted).context("reading capabilities")?;
    if has.is_empty() {
        return Ok(());
    }
    let keep: CapsHashSet = kept().intersection(&has).copied().collect();
    for cap in caps::all() {
        if !keep.contains(&cap) {
            // Ignored: without CAP_SETPCAP the bounding set cannot shrink.
            let _ = caps::drop(None, CapSet::Bounding, cap);
        }
    }
    caps::set(None, CapSet::Inheritable, &CapsHashSet::new()).context("clearing capabilities")?;
    caps::set(None, CapSet::Effective, &keep).context("dropping capabilities")?;
    caps::set(None, CapSet::Permitted, &keep).context("dropping capabilities")?;
    Ok(())
}
