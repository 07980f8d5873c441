//! Linux errno names and messages, for rendering failed syscall returns.
//!
//! Numbers 1..=133 are the generic values used by x86_64 and aarch64, with
//! glibc's `strerror` texts. 512..=531 are kernel-internal codes that are
//! never meant to reach user space but do show up at syscall exit (a
//! restarted call reports ERESTARTSYS there); their texts follow strace for
//! the restart codes and the kernel's comments for the rest.

/// Highest syscall return value, negated, that encodes an errno (MAX_ERRNO).
const MAX_ERRNO: i64 = 4095;

/// Indexed by errno. 41 and 58 are unused: EWOULDBLOCK and EDEADLOCK are
/// aliases of EAGAIN (11) and EDEADLK (35).
static BASE: [Option<(&str, &str)>; 134] = [
    None,                                                                 // 0
    Some(("EPERM", "Operation not permitted")),                           // 1
    Some(("ENOENT", "No such file or directory")),                        // 2
    Some(("ESRCH", "No such process")),                                   // 3
    Some(("EINTR", "Interrupted system call")),                           // 4
    Some(("EIO", "Input/output error")),                                  // 5
    Some(("ENXIO", "No such device or address")),                         // 6
    Some(("E2BIG", "Argument list too long")),                            // 7
    Some(("ENOEXEC", "Exec format error")),                               // 8
    Some(("EBADF", "Bad file descriptor")),                               // 9
    Some(("ECHILD", "No child processes")),                               // 10
    Some(("EAGAIN", "Resource temporarily unavailable")),                 // 11
    Some(("ENOMEM", "Cannot allocate memory")),                           // 12
    Some(("EACCES", "Permission denied")),                                // 13
    Some(("EFAULT", "Bad address")),                                      // 14
    Some(("ENOTBLK", "Block device required")),                           // 15
    Some(("EBUSY", "Device or resource busy")),                           // 16
    Some(("EEXIST", "File exists")),                                      // 17
    Some(("EXDEV", "Invalid cross-device link")),                         // 18
    Some(("ENODEV", "No such device")),                                   // 19
    Some(("ENOTDIR", "Not a directory")),                                 // 20
    Some(("EISDIR", "Is a directory")),                                   // 21
    Some(("EINVAL", "Invalid argument")),                                 // 22
    Some(("ENFILE", "Too many open files in system")),                    // 23
    Some(("EMFILE", "Too many open files")),                              // 24
    Some(("ENOTTY", "Inappropriate ioctl for device")),                   // 25
    Some(("ETXTBSY", "Text file busy")),                                  // 26
    Some(("EFBIG", "File too large")),                                    // 27
    Some(("ENOSPC", "No space left on device")),                          // 28
    Some(("ESPIPE", "Illegal seek")),                                     // 29
    Some(("EROFS", "Read-only file system")),                             // 30
    Some(("EMLINK", "Too many links")),                                   // 31
    Some(("EPIPE", "Broken pipe")),                                       // 32
    Some(("EDOM", "Numerical argument out of domain")),                   // 33
    Some(("ERANGE", "Numerical result out of range")),                    // 34
    Some(("EDEADLK", "Resource deadlock avoided")),                       // 35
    Some(("ENAMETOOLONG", "File name too long")),                         // 36
    Some(("ENOLCK", "No locks available")),                               // 37
    Some(("ENOSYS", "Function not implemented")),                         // 38
    Some(("ENOTEMPTY", "Directory not empty")),                           // 39
    Some(("ELOOP", "Too many levels of symbolic links")),                 // 40
    None,                                                                 // 41
    Some(("ENOMSG", "No message of desired type")),                       // 42
    Some(("EIDRM", "Identifier removed")),                                // 43
    Some(("ECHRNG", "Channel number out of range")),                      // 44
    Some(("EL2NSYNC", "Level 2 not synchronized")),                       // 45
    Some(("EL3HLT", "Level 3 halted")),                                   // 46
    Some(("EL3RST", "Level 3 reset")),                                    // 47
    Some(("ELNRNG", "Link number out of range")),                         // 48
    Some(("EUNATCH", "Protocol driver not attached")),                    // 49
    Some(("ENOCSI", "No CSI structure available")),                       // 50
    Some(("EL2HLT", "Level 2 halted")),                                   // 51
    Some(("EBADE", "Invalid exchange")),                                  // 52
    Some(("EBADR", "Invalid request descriptor")),                        // 53
    Some(("EXFULL", "Exchange full")),                                    // 54
    Some(("ENOANO", "No anode")),                                         // 55
    Some(("EBADRQC", "Invalid request code")),                            // 56
    Some(("EBADSLT", "Invalid slot")),                                    // 57
    None,                                                                 // 58
    Some(("EBFONT", "Bad font file format")),                             // 59
    Some(("ENOSTR", "Device not a stream")),                              // 60
    Some(("ENODATA", "No data available")),                               // 61
    Some(("ETIME", "Timer expired")),                                     // 62
    Some(("ENOSR", "Out of streams resources")),                          // 63
    Some(("ENONET", "Machine is not on the network")),                    // 64
    Some(("ENOPKG", "Package not installed")),                            // 65
    Some(("EREMOTE", "Object is remote")),                                // 66
    Some(("ENOLINK", "Link has been severed")),                           // 67
    Some(("EADV", "Advertise error")),                                    // 68
    Some(("ESRMNT", "Srmount error")),                                    // 69
    Some(("ECOMM", "Communication error on send")),                       // 70
    Some(("EPROTO", "Protocol error")),                                   // 71
    Some(("EMULTIHOP", "Multihop attempted")),                            // 72
    Some(("EDOTDOT", "RFS specific error")),                              // 73
    Some(("EBADMSG", "Bad message")),                                     // 74
    Some(("EOVERFLOW", "Value too large for defined data type")),         // 75
    Some(("ENOTUNIQ", "Name not unique on network")),                     // 76
    Some(("EBADFD", "File descriptor in bad state")),                     // 77
    Some(("EREMCHG", "Remote address changed")),                          // 78
    Some(("ELIBACC", "Can not access a needed shared library")),          // 79
    Some(("ELIBBAD", "Accessing a corrupted shared library")),            // 80
    Some(("ELIBSCN", ".lib section in a.out corrupted")),                 // 81
    Some(("ELIBMAX", "Attempting to link in too many shared libraries")), // 82
    Some(("ELIBEXEC", "Cannot exec a shared library directly")),          // 83
    Some((
        "EILSEQ",
        "Invalid or incomplete multibyte or wide character",
    )), // 84
    Some(("ERESTART", "Interrupted system call should be restarted")),    // 85
    Some(("ESTRPIPE", "Streams pipe error")),                             // 86
    Some(("EUSERS", "Too many users")),                                   // 87
    Some(("ENOTSOCK", "Socket operation on non-socket")),                 // 88
    Some(("EDESTADDRREQ", "Destination address required")),               // 89
    Some(("EMSGSIZE", "Message too long")),                               // 90
    Some(("EPROTOTYPE", "Protocol wrong type for socket")),               // 91
    Some(("ENOPROTOOPT", "Protocol not available")),                      // 92
    Some(("EPROTONOSUPPORT", "Protocol not supported")),                  // 93
    Some(("ESOCKTNOSUPPORT", "Socket type not supported")),               // 94
    Some(("EOPNOTSUPP", "Operation not supported")),                      // 95
    Some(("EPFNOSUPPORT", "Protocol family not supported")),              // 96
    Some(("EAFNOSUPPORT", "Address family not supported by protocol")),   // 97
    Some(("EADDRINUSE", "Address already in use")),                       // 98
    Some(("EADDRNOTAVAIL", "Cannot assign requested address")),           // 99
    Some(("ENETDOWN", "Network is down")),                                // 100
    Some(("ENETUNREACH", "Network is unreachable")),                      // 101
    Some(("ENETRESET", "Network dropped connection on reset")),           // 102
    Some(("ECONNABORTED", "Software caused connection abort")),           // 103
    Some(("ECONNRESET", "Connection reset by peer")),                     // 104
    Some(("ENOBUFS", "No buffer space available")),                       // 105
    Some(("EISCONN", "Transport endpoint is already connected")),         // 106
    Some(("ENOTCONN", "Transport endpoint is not connected")),            // 107
    Some(("ESHUTDOWN", "Cannot send after transport endpoint shutdown")), // 108
    Some(("ETOOMANYREFS", "Too many references: cannot splice")),         // 109
    Some(("ETIMEDOUT", "Connection timed out")),                          // 110
    Some(("ECONNREFUSED", "Connection refused")),                         // 111
    Some(("EHOSTDOWN", "Host is down")),                                  // 112
    Some(("EHOSTUNREACH", "No route to host")),                           // 113
    Some(("EALREADY", "Operation already in progress")),                  // 114
    Some(("EINPROGRESS", "Operation now in progress")),                   // 115
    Some(("ESTALE", "Stale file handle")),                                // 116
    Some(("EUCLEAN", "Structure needs cleaning")),                        // 117
    Some(("ENOTNAM", "Not a XENIX named type file")),                     // 118
    Some(("ENAVAIL", "No XENIX semaphores available")),                   // 119
    Some(("EISNAM", "Is a named type file")),                             // 120
    Some(("EREMOTEIO", "Remote I/O error")),                              // 121
    Some(("EDQUOT", "Disk quota exceeded")),                              // 122
    Some(("ENOMEDIUM", "No medium found")),                               // 123
    Some(("EMEDIUMTYPE", "Wrong medium type")),                           // 124
    Some(("ECANCELED", "Operation canceled")),                            // 125
    Some(("ENOKEY", "Required key not available")),                       // 126
    Some(("EKEYEXPIRED", "Key has expired")),                             // 127
    Some(("EKEYREVOKED", "Key has been revoked")),                        // 128
    Some(("EKEYREJECTED", "Key was rejected by service")),                // 129
    Some(("EOWNERDEAD", "Owner died")),                                   // 130
    Some(("ENOTRECOVERABLE", "State not recoverable")),                   // 131
    Some(("ERFKILL", "Operation not possible due to RF-kill")),           // 132
    Some(("EHWPOISON", "Memory page has hardware error")),                // 133
];

const INTERNAL_FIRST: u32 = 512;

/// Indexed by errno - 512; 520 was never assigned.
static INTERNAL: [Option<(&str, &str)>; 20] = [
    Some(("ERESTARTSYS", "To be restarted if SA_RESTART is set")), // 512
    Some(("ERESTARTNOINTR", "To be restarted")),                   // 513
    Some(("ERESTARTNOHAND", "To be restarted if no handler")),     // 514
    Some(("ENOIOCTLCMD", "No ioctl command")),                     // 515
    Some(("ERESTART_RESTARTBLOCK", "Interrupted by signal")),      // 516
    Some(("EPROBE_DEFER", "Driver requests probe retry")),         // 517
    Some(("EOPENSTALE", "Open found a stale dentry")),             // 518
    Some(("ENOPARAM", "Parameter not supported")),                 // 519
    None,                                                          // 520
    Some(("EBADHANDLE", "Illegal NFS file handle")),               // 521
    Some(("ENOTSYNC", "Update synchronization mismatch")),         // 522
    Some(("EBADCOOKIE", "Cookie is stale")),                       // 523
    Some(("ENOTSUPP", "Operation is not supported")),              // 524
    Some(("ETOOSMALL", "Buffer or request is too small")),         // 525
    Some(("ESERVERFAULT", "An untranslatable error occurred")),    // 526
    Some(("EBADTYPE", "Type not supported by server")),            // 527
    Some((
        "EJUKEBOX",
        "Request initiated, but will not complete before timeout",
    )), // 528
    Some(("EIOCBQUEUED", "iocb queued, will get completion event")), // 529
    Some(("ERECALLCONFLICT", "Conflict with recalled state")),     // 530
    Some(("ENOGRACE", "NFS file lock reclaim refused")),           // 531
];

/// Alternative spellings accepted by [`from_name`]; [`name`] always gives
/// the canonical one, as strace prints it.
const ALIASES: [(&str, u32); 3] = [("EWOULDBLOCK", 11), ("EDEADLOCK", 35), ("ENOTSUP", 95)];

fn entry(errno: u32) -> Option<(&'static str, &'static str)> {
    let (table, i) = if errno >= INTERNAL_FIRST {
        (&INTERNAL[..], errno - INTERNAL_FIRST)
    } else {
        (&BASE[..], errno)
    };
    *table.get(usize::try_from(i).ok()?)?
}

/// The symbolic name, e.g. 2 -> "ENOENT".
pub fn name(errno: u32) -> Option<&'static str> {
    entry(errno).map(|(n, _)| n)
}

/// The message, e.g. 2 -> "No such file or directory".
pub fn description(errno: u32) -> Option<&'static str> {
    entry(errno).map(|(_, d)| d)
}

/// The number for a name or alias; ASCII case is ignored so filters typed
/// as "enoent" work.
pub fn from_name(name: &str) -> Option<u32> {
    let known = BASE
        .iter()
        .zip(0..)
        .chain(INTERNAL.iter().zip(INTERNAL_FIRST..))
        .filter_map(|(e, nr)| e.map(|(n, _)| (n, nr)));
    known
        .chain(ALIASES)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, nr)| nr)
}

/// Interprets a raw syscall return: `Some(errno)` when `ret` is in
/// -4095..=-1, the range the kernel reserves for errors (so an mmap address
/// with the top bit set is not mistaken for one).
pub fn from_return(ret: i64) -> Option<u32> {
    if (-MAX_ERRNO..=-1).contains(&ret) {
        u32::try_from(-ret).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_values() {
        assert_eq!(name(1), Some("EPERM"));
        assert_eq!(name(2), Some("ENOENT"));
        assert_eq!(description(2), Some("No such file or directory"));
        assert_eq!(name(11), Some("EAGAIN"));
        assert_eq!(name(35), Some("EDEADLK"));
        assert_eq!(name(95), Some("EOPNOTSUPP"));
        assert_eq!(description(95), Some("Operation not supported"));
        assert_eq!(name(133), Some("EHWPOISON"));
        assert_eq!(description(133), Some("Memory page has hardware error"));
        assert_eq!(name(512), Some("ERESTARTSYS"));
        assert_eq!(name(521), Some("EBADHANDLE"));
        assert_eq!(name(524), Some("ENOTSUPP"));
        assert_eq!(name(531), Some("ENOGRACE"));
    }

    #[test]
    fn holes_and_range_ends() {
        for n in [0, 41, 58, 134, 511, 520, 532, 4095, u32::MAX] {
            assert_eq!(name(n), None, "{n}");
            assert_eq!(description(n), None, "{n}");
        }
        for n in (1..=133).filter(|n| *n != 41 && *n != 58) {
            assert!(name(n).is_some() && description(n).is_some(), "{n}");
        }
        for n in (512..=531).filter(|n| *n != 520) {
            assert!(name(n).is_some() && description(n).is_some(), "{n}");
        }
    }

    #[test]
    fn names_round_trip_and_aliases() {
        for n in (1..=133).chain(512..=531) {
            if let Some(nm) = name(n) {
                assert_eq!(from_name(nm), Some(n), "{nm}");
            }
        }
        assert_eq!(from_name("EWOULDBLOCK"), Some(11));
        assert_eq!(from_name("EDEADLOCK"), Some(35));
        assert_eq!(from_name("ENOTSUP"), Some(95));
        assert_eq!(from_name("enoent"), Some(2));
        assert_eq!(from_name("ENOPE"), None);
        assert_eq!(from_name(""), None);
    }

    #[test]
    fn returns() {
        assert_eq!(from_return(-2), Some(2));
        assert_eq!(from_return(-1), Some(1));
        assert_eq!(from_return(-4095), Some(4095));
        assert_eq!(from_return(-512), Some(512));
        assert_eq!(from_return(0), None);
        assert_eq!(from_return(3), None);
        assert_eq!(from_return(-4096), None);
        assert_eq!(from_return(i64::MIN), None);
        // mmap near the top of the address space, seen as signed.
        assert_eq!(from_return(0xffff_8000_0000_0000_u64 as i64), None);
    }
}
