//! Root-only: exact loss accounting. Alone in its own test binary because it
//! sets the slow-consumer knob for the whole process.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use systrace_tui::model::event::Event;
use systrace_tui::model::syscalls::{self, Arch};
use systrace_tui::source::kernel::loader::{KernelFilter, LoadOptions};
use systrace_tui::source::kernel::reader::{Capture, CaptureOptions};

/// Received + lost (kernel ring + user-space channel) must equal exactly the
/// syscalls the workload made, also when the consumer is too slow and
/// events really are lost.
#[test]
fn received_plus_lost_equals_syscalls_made() {
    if !common::require_root("received_plus_lost_equals_syscalls_made") {
        return;
    }
    // Test-only knob: the reader sleeps after each batch it hands on.
    std::env::set_var("SYSTRACE_TEST_SLOW_CONSUMER_MS", "1");
    // Enough calls that the stalled consumer's channel overflows even when the
    // machine is busy and the reader gets fewer wake-ups (3M was marginal).
    const N: u64 = 20_000_000;
    let mut child = Command::new(common::workload())
        .args(["gated-getppid", &N.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let getppid = syscalls::by_name(Arch::native(), "getppid").unwrap().nr;
    // Only this process's getppid calls: everything received or lost is one of them.
    let opts = CaptureOptions {
        load: LoadOptions {
            ring_bytes: 64 << 10,
            ..Default::default()
        },
        filter: KernelFilter {
            pids: Some(vec![pid]),
            syscalls: Some(vec![getppid]),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut cap = Capture::start(opts).expect("load and attach");
    child.stdin.take().unwrap().write_all(b"g").unwrap();
    let mut received = 0u64;
    let mut lost_seen = None;
    // Play a stalled consumer until the channel overflows too (the reader
    // counts it), then drain.
    common::wait_for(Duration::from_secs(60), || {
        (cap.stats.lost().channel > 0).then_some(())
    })
    .expect("the stalled consumer's channel overflowed");
    let mut exited = false;
    loop {
        while let Ok(batch) = cap.events.try_recv() {
            for ev in batch {
                match ev {
                    Event::Syscall(e) => {
                        assert_eq!((e.id.pid, e.nr), (pid, getppid));
                        received += 1;
                    }
                    Event::Lost(l) => lost_seen = Some(l),
                    // The bare capture emits no container events.
                    Event::ContainerAdd(_) | Event::ContainerDel(_) | Event::Node(_) => {}
                }
            }
        }
        if !exited {
            exited = child.try_wait().unwrap().is_some();
            if !exited {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        }
        break;
    }
    assert!(child.wait().unwrap().success());
    cap.stop().unwrap();
    while let Ok(batch) = cap.events.try_recv() {
        for ev in batch {
            match ev {
                Event::Syscall(_) => received += 1,
                Event::Lost(l) => lost_seen = Some(l),
                Event::ContainerAdd(_) | Event::ContainerDel(_) | Event::Node(_) => {}
            }
        }
    }
    let lost = cap.stats.lost();
    eprintln!(
        "made {N}: received {received}, lost in kernel {}, lost in user space {}",
        lost.kernel, lost.channel
    );
    assert!(
        lost.kernel > 0,
        "the slowed reader should have lost events in the ring"
    );
    assert!(
        lost.channel > 0,
        "the stalled consumer should have lost batches"
    );
    assert_eq!(
        received + lost.kernel + lost.channel,
        N,
        "received {received} + kernel lost {} + channel lost {} != {N}",
        lost.kernel,
        lost.channel
    );
    // The lost marker in the stream agrees with the counters.
    if let Some(l) = lost_seen {
        assert!(l.total() <= lost.total());
    }
}
