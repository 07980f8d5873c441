//! How completely the decoder renders each syscall's arguments (the
//! decoded-syscall count).

use super::*;

/// How completely the decoder renders a syscall's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Coverage {
    /// Some argument is shown as a raw hex value for want of a decoder.
    Partial,
    /// Every argument is typed: numbers, fds, pointers to structures not
    /// copied (as addresses, like strace for unread memory).
    Typed,
    /// Typed, and at least one argument is symbolic or copied data (flags,
    /// names, strings, buffers, sockaddrs, modes, signals).
    Symbolic,
}

/// The decoder's coverage of `info` (used for the decoded-syscall count).
pub fn coverage(info: &SyscallInfo) -> Coverage {
    let mut symbolic = false;
    for a in info.args {
        let tabled = by_name_table(info.name, a.name).is_some();
        // Values strace itself shows in hex.
        let hex_by_design = matches!(
            (info.name, a.name),
            ("mmap", "offset") | ("clone", "tls") | ("rseq", "rseq_len" | "sig")
        );
        match a.kind {
            ArgKind::Hex if tabled => symbolic = true,
            ArgKind::Hex if hex_by_design => {}
            ArgKind::Hex => return Coverage::Partial,
            ArgKind::Flags(FlagSet::Other) if !tabled => return Coverage::Partial,
            ArgKind::Flags(_)
            | ArgKind::Path
            | ArgKind::Str
            | ArgKind::BufIn
            | ArgKind::BufOut
            | ArgKind::Argv
            | ArgKind::Sockaddr
            | ArgKind::Mode
            | ArgKind::Signal
            | ArgKind::DirFd => symbolic = true,
            _ if tabled => symbolic = true,
            _ => {}
        }
    }
    if symbolic {
        Coverage::Symbolic
    } else {
        Coverage::Typed
    }
}

#[cfg(test)]
mod coverage_tests {
    use super::*;
    use crate::model::syscalls::{by_name, table};

    #[test]
    fn tables_worked_out_once_are_the_ones_named() {
        fn same(a: Option<Table>, b: Option<Table>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(Table::B(x)), Some(Table::B(y))) => std::ptr::eq(x, y),
                (Some(Table::N(x)), Some(Table::N(y))) => std::ptr::eq(x, y),
                _ => false,
            }
        }
        let mut tabled = 0;
        for arch in Arch::ALL {
            for info in table(arch) {
                for (i, spec) in info.args.iter().enumerate() {
                    let named = by_name_table(info.name, spec.name);
                    tabled += usize::from(named.is_some());
                    assert!(
                        same(arg_table(arch, info, i), named),
                        "{} {}",
                        info.name,
                        spec.name
                    );
                }
                assert!(arg_table(arch, info, 6).is_none());
            }
        }
        assert!(tabled > 50, "{tabled}");
        // The order of decoding is the order of the list.
        let ev = crate::model::testing::EventBuilder::named("openat")
            .args(&[0xffff_ff9c, 0, 0o101, 0o644])
            .build();
        let names: Vec<&str> = decode_iter(&ev).map(|a| a.name).collect();
        assert_eq!(names, ["dfd", "filename", "flags", "mode"]);
    }

    #[test]
    fn at_least_200_syscalls_are_decoded_with_types() {
        for arch in Arch::ALL {
            let t = table(arch);
            let count = |c: Coverage| t.iter().filter(|s| coverage(s) >= c).count();
            let (typed, symbolic) = (count(Coverage::Typed), count(Coverage::Symbolic));
            eprintln!(
                "{}: {} syscalls, {typed} fully typed, {symbolic} of them with symbolic or copied arguments",
                arch.name(),
                t.len()
            );
            assert!(typed >= 200, "{}: only {typed} typed", arch.name());
            if arch == Arch::X86_64 {
                assert!(symbolic >= 200, "only {symbolic} with symbolic arguments");
            }
        }
        let x = |n| coverage(by_name(Arch::X86_64, n).unwrap());
        assert_eq!(x("openat"), Coverage::Symbolic);
        assert_eq!(x("getpid"), Coverage::Typed);
        assert_eq!(x("ioctl"), Coverage::Partial);
    }
}
