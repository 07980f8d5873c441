//! Argument signatures, one per syscall name, shared by every arch table.
//!
//! Names and order follow the kernel's `SYSCALL_DEFINEn` prototypes. A name
//! missing here is a build error in the arch tables, which keeps the tables
//! complete. Numbers that never had a mainline implementation have no
//! prototype to follow and are left without arguments.

// Constants are named exactly like the syscalls so the tables can refer to
// them by the same identifier.
#![allow(non_upper_case_globals)]

use super::ArgKind::{self, *};
use super::FlagSet as F;
use super::{ArgSpec, RetKind as R, SyscallClass as C};

#[derive(Clone, Copy)]
pub(super) struct Sig {
    pub(super) class: C,
    pub(super) args: &'static [ArgSpec],
    pub(super) ret: R,
}

const fn s(class: C, ret: R, args: &'static [ArgSpec]) -> Sig {
    Sig { class, args, ret }
}

const fn a(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        len_arg: None,
    }
}

const fn fl(name: &'static str, set: F) -> ArgSpec {
    a(name, Flags(set))
}

const fn with_len(name: &'static str, kind: ArgKind, len: u8) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        len_arg: Some(len),
    }
}

const fn buf_in(name: &'static str, len: u8) -> ArgSpec {
    with_len(name, BufIn, len)
}

const fn buf_out(name: &'static str, len: u8) -> ArgSpec {
    with_len(name, BufOut, len)
}

const fn sockaddr(name: &'static str, len: u8) -> ArgSpec {
    with_len(name, Sockaddr, len)
}

const NONE: &[ArgSpec] = &[];
const FD: ArgSpec = a("fd", Fd);
const DFD: ArgSpec = a("dfd", DirFd);
const FLAGS: ArgSpec = fl("flags", F::Other);
const AT_FLAGS: ArgSpec = fl("flags", F::AtFlags);
const PATHNAME: ArgSpec = a("pathname", Path);
const FILENAME: ArgSpec = a("filename", Path);
const MODE: ArgSpec = a("mode", Mode);
const PID: ArgSpec = a("pid", Pid);
const SIG: ArgSpec = a("sig", Signal);
const SIGSETSIZE: ArgSpec = a("sigsetsize", Size);
const ADDR: ArgSpec = a("addr", Ptr);
const LEN: ArgSpec = a("len", Size);
const CLOCKID: ArgSpec = fl("clockid", F::ClockId);

// ---------------------------------------------------------------- files

pub(super) const read: Sig = s(C::File, R::Size, &[FD, buf_out("buf", 2), a("count", Size)]);
pub(super) const write: Sig = s(C::File, R::Size, &[FD, buf_in("buf", 2), a("count", Size)]);
pub(super) const pread64: Sig = s(
    C::File,
    R::Size,
    &[FD, buf_out("buf", 2), a("count", Size), a("pos", Off)],
);
pub(super) const pwrite64: Sig = s(
    C::File,
    R::Size,
    &[FD, buf_in("buf", 2), a("count", Size), a("pos", Off)],
);
const IOV: &[ArgSpec] = &[FD, a("iov", Struct), a("iovcnt", UInt)];
pub(super) const readv: Sig = s(C::File, R::Size, IOV);
pub(super) const writev: Sig = s(C::File, R::Size, IOV);
// On 64-bit the whole offset is in pos_l; pos_h (unused) is left out, as
// strace shows the call: `preadv(3, [...], 2, 100)`.
const IOV_POS: &[ArgSpec] = &[FD, a("iov", Struct), a("iovcnt", UInt), a("offset", Off)];
pub(super) const preadv: Sig = s(C::File, R::Size, IOV_POS);
pub(super) const pwritev: Sig = s(C::File, R::Size, IOV_POS);
const IOV_POS_FLAGS: &[ArgSpec] = &[
    FD,
    a("iov", Struct),
    a("iovcnt", UInt),
    a("offset", Off),
    // Not shown (see `decode_iter`): kept so flags stays argument 5.
    a("pos_h", Off),
    FLAGS,
];
pub(super) const preadv2: Sig = s(C::File, R::Size, IOV_POS_FLAGS);
pub(super) const pwritev2: Sig = s(C::File, R::Size, IOV_POS_FLAGS);

pub(super) const open: Sig = s(C::File, R::Fd, &[FILENAME, fl("flags", F::OpenFlags), MODE]);
pub(super) const openat: Sig = s(
    C::File,
    R::Fd,
    &[DFD, FILENAME, fl("flags", F::OpenFlags), MODE],
);
pub(super) const openat2: Sig = s(
    C::File,
    R::Fd,
    &[DFD, FILENAME, a("how", Struct), a("size", Size)],
);
pub(super) const creat: Sig = s(C::File, R::Fd, &[PATHNAME, MODE]);
pub(super) const open_by_handle_at: Sig = s(
    C::File,
    R::Fd,
    &[
        a("mount_fd", Fd),
        a("handle", Struct),
        fl("flags", F::OpenFlags),
    ],
);
pub(super) const name_to_handle_at: Sig = s(
    C::File,
    R::Int,
    &[
        DFD,
        PATHNAME,
        a("handle", Struct),
        a("mount_id", Ptr),
        AT_FLAGS,
    ],
);
pub(super) const close: Sig = s(C::File, R::Int, &[FD]);
pub(super) const close_range: Sig = s(C::File, R::Int, &[a("fd", Fd), a("max_fd", UInt), FLAGS]);
pub(super) const dup: Sig = s(C::File, R::Fd, &[a("oldfd", Fd)]);
pub(super) const dup2: Sig = s(C::File, R::Fd, &[a("oldfd", Fd), a("newfd", Fd)]);
pub(super) const dup3: Sig = s(
    C::File,
    R::Fd,
    &[a("oldfd", Fd), a("newfd", Fd), fl("flags", F::OpenFlags)],
);
pub(super) const lseek: Sig = s(
    C::File,
    R::Int,
    &[FD, a("offset", Off), fl("whence", F::Whence)],
);
pub(super) const ioctl: Sig = s(
    C::File,
    R::Int,
    &[FD, fl("request", F::Ioctl), a("arg", Hex)],
);
pub(super) const fcntl: Sig = s(
    C::File,
    R::Int,
    &[FD, fl("cmd", F::FcntlCmd), a("arg", Hex)],
);
pub(super) const flock: Sig = s(C::File, R::Int, &[FD, fl("operation", F::Other)]);
pub(super) const fsync: Sig = s(C::File, R::Int, &[FD]);
pub(super) const fdatasync: Sig = s(C::File, R::Int, &[FD]);
pub(super) const sync: Sig = s(C::File, R::Int, NONE);
pub(super) const syncfs: Sig = s(C::File, R::Int, &[FD]);
pub(super) const sync_file_range: Sig = s(
    C::File,
    R::Int,
    &[FD, a("offset", Off), a("nbytes", Off), FLAGS],
);
pub(super) const truncate: Sig = s(C::File, R::Int, &[a("path", Path), a("length", Off)]);
pub(super) const ftruncate: Sig = s(C::File, R::Int, &[FD, a("length", Off)]);
pub(super) const fallocate: Sig = s(
    C::File,
    R::Int,
    &[FD, fl("mode", F::Other), a("offset", Off), a("len", Off)],
);
pub(super) const fadvise64: Sig = s(
    C::File,
    R::Int,
    &[FD, a("offset", Off), a("len", Off), a("advice", Int)],
);
pub(super) const readahead: Sig = s(C::File, R::Int, &[FD, a("offset", Off), a("count", Size)]);
pub(super) const cachestat: Sig = s(
    C::File,
    R::Int,
    &[FD, a("cstat_range", Struct), a("cstat", Struct), FLAGS],
);

// Directory entries are arrays of structs, not text.
const DENTS: &[ArgSpec] = &[FD, a("dirp", Struct), a("count", UInt)];
pub(super) const getdents: Sig = s(C::File, R::Size, DENTS);
pub(super) const getdents64: Sig = s(C::File, R::Size, DENTS);

pub(super) const stat: Sig = s(C::File, R::Int, &[PATHNAME, a("statbuf", Struct)]);
pub(super) const lstat: Sig = s(C::File, R::Int, &[PATHNAME, a("statbuf", Struct)]);
pub(super) const fstat: Sig = s(C::File, R::Int, &[FD, a("statbuf", Struct)]);
pub(super) const newfstatat: Sig = s(
    C::File,
    R::Int,
    &[DFD, PATHNAME, a("statbuf", Struct), AT_FLAGS],
);
pub(super) const statx: Sig = s(
    C::File,
    R::Int,
    &[
        DFD,
        PATHNAME,
        AT_FLAGS,
        a("mask", Hex),
        a("statxbuf", Struct),
    ],
);
pub(super) const statfs: Sig = s(C::File, R::Int, &[a("path", Path), a("buf", Struct)]);
pub(super) const fstatfs: Sig = s(C::File, R::Int, &[FD, a("buf", Struct)]);
pub(super) const ustat: Sig = s(C::File, R::Int, &[a("dev", Hex), a("ubuf", Struct)]);

pub(super) const access: Sig = s(C::File, R::Int, &[PATHNAME, fl("mode", F::AccessMode)]);
pub(super) const faccessat: Sig = s(C::File, R::Int, &[DFD, PATHNAME, fl("mode", F::AccessMode)]);
pub(super) const faccessat2: Sig = s(
    C::File,
    R::Int,
    &[DFD, PATHNAME, fl("mode", F::AccessMode), AT_FLAGS],
);

pub(super) const getcwd: Sig = s(C::File, R::Size, &[buf_out("buf", 1), a("size", Size)]);
pub(super) const chdir: Sig = s(C::File, R::Int, &[a("path", Path)]);
pub(super) const fchdir: Sig = s(C::File, R::Int, &[FD]);
pub(super) const chroot: Sig = s(C::File, R::Int, &[a("path", Path)]);
pub(super) const umask: Sig = s(C::File, R::Int, &[a("mask", Mode)]);

pub(super) const mkdir: Sig = s(C::File, R::Int, &[PATHNAME, MODE]);
pub(super) const mkdirat: Sig = s(C::File, R::Int, &[DFD, PATHNAME, MODE]);
pub(super) const rmdir: Sig = s(C::File, R::Int, &[PATHNAME]);
pub(super) const mknod: Sig = s(C::File, R::Int, &[PATHNAME, MODE, a("dev", Hex)]);
pub(super) const mknodat: Sig = s(C::File, R::Int, &[DFD, PATHNAME, MODE, a("dev", Hex)]);
pub(super) const unlink: Sig = s(C::File, R::Int, &[PATHNAME]);
pub(super) const unlinkat: Sig = s(C::File, R::Int, &[DFD, PATHNAME, AT_FLAGS]);
pub(super) const rename: Sig = s(C::File, R::Int, &[a("oldpath", Path), a("newpath", Path)]);
pub(super) const renameat: Sig = s(
    C::File,
    R::Int,
    &[
        a("olddirfd", DirFd),
        a("oldpath", Path),
        a("newdirfd", DirFd),
        a("newpath", Path),
    ],
);
pub(super) const renameat2: Sig = s(
    C::File,
    R::Int,
    &[
        a("olddirfd", DirFd),
        a("oldpath", Path),
        a("newdirfd", DirFd),
        a("newpath", Path),
        FLAGS,
    ],
);
pub(super) const link: Sig = s(C::File, R::Int, &[a("oldpath", Path), a("newpath", Path)]);
pub(super) const linkat: Sig = s(
    C::File,
    R::Int,
    &[
        a("olddirfd", DirFd),
        a("oldpath", Path),
        a("newdirfd", DirFd),
        a("newpath", Path),
        AT_FLAGS,
    ],
);
pub(super) const symlink: Sig = s(C::File, R::Int, &[a("target", Path), a("linkpath", Path)]);
pub(super) const symlinkat: Sig = s(
    C::File,
    R::Int,
    &[a("target", Path), a("newdirfd", DirFd), a("linkpath", Path)],
);
pub(super) const readlink: Sig = s(
    C::File,
    R::Size,
    &[PATHNAME, buf_out("buf", 2), a("bufsiz", Size)],
);
pub(super) const readlinkat: Sig = s(
    C::File,
    R::Size,
    &[DFD, PATHNAME, buf_out("buf", 3), a("bufsiz", Size)],
);

pub(super) const chmod: Sig = s(C::File, R::Int, &[PATHNAME, MODE]);
pub(super) const fchmod: Sig = s(C::File, R::Int, &[FD, MODE]);
pub(super) const fchmodat: Sig = s(C::File, R::Int, &[DFD, PATHNAME, MODE]);
pub(super) const fchmodat2: Sig = s(C::File, R::Int, &[DFD, PATHNAME, MODE, AT_FLAGS]);
const OWNER: ArgSpec = a("owner", Uid);
const GROUP: ArgSpec = a("group", Gid);
pub(super) const chown: Sig = s(C::File, R::Int, &[PATHNAME, OWNER, GROUP]);
pub(super) const lchown: Sig = s(C::File, R::Int, &[PATHNAME, OWNER, GROUP]);
pub(super) const fchown: Sig = s(C::File, R::Int, &[FD, OWNER, GROUP]);
pub(super) const fchownat: Sig = s(C::File, R::Int, &[DFD, PATHNAME, OWNER, GROUP, AT_FLAGS]);

pub(super) const utime: Sig = s(C::File, R::Int, &[FILENAME, a("times", Struct)]);
pub(super) const utimes: Sig = s(C::File, R::Int, &[FILENAME, a("times", Struct)]);
pub(super) const futimesat: Sig = s(C::File, R::Int, &[DFD, FILENAME, a("times", Struct)]);
pub(super) const utimensat: Sig = s(
    C::File,
    R::Int,
    &[DFD, PATHNAME, a("times", Struct), AT_FLAGS],
);

pub(super) const sendfile: Sig = s(
    C::File,
    R::Size,
    &[
        a("out_fd", Fd),
        a("in_fd", Fd),
        a("offset", Ptr),
        a("count", Size),
    ],
);
pub(super) const splice: Sig = s(
    C::File,
    R::Size,
    &[
        a("fd_in", Fd),
        a("off_in", Ptr),
        a("fd_out", Fd),
        a("off_out", Ptr),
        LEN,
        FLAGS,
    ],
);
pub(super) const tee: Sig = s(
    C::File,
    R::Size,
    &[a("fd_in", Fd), a("fd_out", Fd), LEN, FLAGS],
);
pub(super) const vmsplice: Sig = s(
    C::File,
    R::Size,
    &[FD, a("iov", Struct), a("nr_segs", UInt), FLAGS],
);
pub(super) const copy_file_range: Sig = s(
    C::File,
    R::Size,
    &[
        a("fd_in", Fd),
        a("off_in", Ptr),
        a("fd_out", Fd),
        a("off_out", Ptr),
        LEN,
        FLAGS,
    ],
);

const XATTR_NAME: ArgSpec = a("name", Str);
const XATTR_SET: &[ArgSpec] = &[
    a("path", Path),
    XATTR_NAME,
    buf_in("value", 3),
    a("size", Size),
    FLAGS,
];
pub(super) const setxattr: Sig = s(C::File, R::Int, XATTR_SET);
pub(super) const lsetxattr: Sig = s(C::File, R::Int, XATTR_SET);
pub(super) const fsetxattr: Sig = s(
    C::File,
    R::Int,
    &[FD, XATTR_NAME, buf_in("value", 3), a("size", Size), FLAGS],
);
const XATTR_GET: &[ArgSpec] = &[
    a("path", Path),
    XATTR_NAME,
    buf_out("value", 3),
    a("size", Size),
];
pub(super) const getxattr: Sig = s(C::File, R::Size, XATTR_GET);
pub(super) const lgetxattr: Sig = s(C::File, R::Size, XATTR_GET);
pub(super) const fgetxattr: Sig = s(
    C::File,
    R::Size,
    &[FD, XATTR_NAME, buf_out("value", 3), a("size", Size)],
);
const XATTR_LIST: &[ArgSpec] = &[a("path", Path), buf_out("list", 2), a("size", Size)];
pub(super) const listxattr: Sig = s(C::File, R::Size, XATTR_LIST);
pub(super) const llistxattr: Sig = s(C::File, R::Size, XATTR_LIST);
pub(super) const flistxattr: Sig = s(C::File, R::Size, &[FD, buf_out("list", 2), a("size", Size)]);
pub(super) const removexattr: Sig = s(C::File, R::Int, &[a("path", Path), XATTR_NAME]);
pub(super) const lremovexattr: Sig = s(C::File, R::Int, &[a("path", Path), XATTR_NAME]);
pub(super) const fremovexattr: Sig = s(C::File, R::Int, &[FD, XATTR_NAME]);
const XATTRAT_ARGS: &[ArgSpec] = &[
    DFD,
    PATHNAME,
    fl("at_flags", F::AtFlags),
    XATTR_NAME,
    a("uargs", Struct),
    a("usize", Size),
];
pub(super) const setxattrat: Sig = s(C::File, R::Int, XATTRAT_ARGS);
pub(super) const getxattrat: Sig = s(C::File, R::Size, XATTRAT_ARGS);
pub(super) const listxattrat: Sig = s(
    C::File,
    R::Size,
    &[
        DFD,
        PATHNAME,
        fl("at_flags", F::AtFlags),
        buf_out("list", 4),
        a("size", Size),
    ],
);
pub(super) const removexattrat: Sig = s(
    C::File,
    R::Int,
    &[DFD, PATHNAME, fl("at_flags", F::AtFlags), XATTR_NAME],
);
const FILE_ATTR: &[ArgSpec] = &[
    DFD,
    FILENAME,
    a("fattr", Struct),
    a("usize", Size),
    fl("at_flags", F::AtFlags),
];
pub(super) const file_getattr: Sig = s(C::File, R::Int, FILE_ATTR);
pub(super) const file_setattr: Sig = s(C::File, R::Int, FILE_ATTR);

pub(super) const inotify_init: Sig = s(C::File, R::Fd, NONE);
pub(super) const inotify_init1: Sig = s(C::File, R::Fd, &[fl("flags", F::OpenFlags)]);
pub(super) const inotify_add_watch: Sig = s(C::File, R::Int, &[FD, PATHNAME, fl("mask", F::Other)]);
pub(super) const inotify_rm_watch: Sig = s(C::File, R::Int, &[FD, a("wd", Int)]);
pub(super) const fanotify_init: Sig =
    s(C::File, R::Fd, &[FLAGS, fl("event_f_flags", F::OpenFlags)]);
pub(super) const fanotify_mark: Sig = s(
    C::File,
    R::Int,
    &[a("fanotify_fd", Fd), FLAGS, a("mask", Hex), DFD, PATHNAME],
);

// ---------------------------------------------------------------- memory

pub(super) const mmap: Sig = s(
    C::Memory,
    R::Ptr,
    &[
        ADDR,
        a("length", Size),
        fl("prot", F::MmapProt),
        fl("flags", F::MmapFlags),
        FD,
        // Page-aligned, so hex reads better (and strace shows it so).
        a("offset", Hex),
    ],
);
pub(super) const munmap: Sig = s(C::Memory, R::Int, &[ADDR, a("length", Size)]);
pub(super) const mprotect: Sig = s(C::Memory, R::Int, &[ADDR, LEN, fl("prot", F::MmapProt)]);
pub(super) const pkey_mprotect: Sig = s(
    C::Memory,
    R::Int,
    &[ADDR, LEN, fl("prot", F::MmapProt), a("pkey", Int)],
);
pub(super) const pkey_alloc: Sig = s(C::Memory, R::Int, &[FLAGS, a("access_rights", Hex)]);
pub(super) const pkey_free: Sig = s(C::Memory, R::Int, &[a("pkey", Int)]);
pub(super) const brk: Sig = s(C::Memory, R::Ptr, &[a("brk", Ptr)]);
pub(super) const mremap: Sig = s(
    C::Memory,
    R::Ptr,
    &[
        a("old_address", Ptr),
        a("old_size", Size),
        a("new_size", Size),
        FLAGS,
        a("new_address", Ptr),
    ],
);
pub(super) const msync: Sig = s(C::Memory, R::Int, &[ADDR, LEN, FLAGS]);
pub(super) const mincore: Sig = s(C::Memory, R::Int, &[ADDR, LEN, a("vec", Ptr)]);
pub(super) const madvise: Sig = s(C::Memory, R::Int, &[ADDR, LEN, fl("advice", F::Madvise)]);
pub(super) const process_madvise: Sig = s(
    C::Memory,
    R::Size,
    &[
        a("pidfd", Fd),
        a("iovec", Struct),
        a("vlen", Size),
        fl("advice", F::Madvise),
        FLAGS,
    ],
);
pub(super) const mlock: Sig = s(C::Memory, R::Int, &[ADDR, LEN]);
pub(super) const mlock2: Sig = s(C::Memory, R::Int, &[ADDR, LEN, FLAGS]);
pub(super) const munlock: Sig = s(C::Memory, R::Int, &[ADDR, LEN]);
pub(super) const mlockall: Sig = s(C::Memory, R::Int, &[FLAGS]);
pub(super) const munlockall: Sig = s(C::Memory, R::Int, NONE);
pub(super) const remap_file_pages: Sig = s(
    C::Memory,
    R::Int,
    &[
        ADDR,
        a("size", Size),
        fl("prot", F::MmapProt),
        a("pgoff", Size),
        fl("flags", F::MmapFlags),
    ],
);
pub(super) const mbind: Sig = s(
    C::Memory,
    R::Int,
    &[
        ADDR,
        LEN,
        a("mode", Int),
        a("nodemask", Ptr),
        a("maxnode", UInt),
        FLAGS,
    ],
);
pub(super) const set_mempolicy: Sig = s(
    C::Memory,
    R::Int,
    &[a("mode", Int), a("nodemask", Ptr), a("maxnode", UInt)],
);
pub(super) const get_mempolicy: Sig = s(
    C::Memory,
    R::Int,
    &[
        a("mode", Ptr),
        a("nodemask", Ptr),
        a("maxnode", UInt),
        ADDR,
        FLAGS,
    ],
);
pub(super) const set_mempolicy_home_node: Sig =
    s(C::Memory, R::Int, &[ADDR, LEN, a("home_node", UInt), FLAGS]);
pub(super) const migrate_pages: Sig = s(
    C::Memory,
    R::Int,
    &[
        PID,
        a("maxnode", UInt),
        a("old_nodes", Ptr),
        a("new_nodes", Ptr),
    ],
);
pub(super) const move_pages: Sig = s(
    C::Memory,
    R::Int,
    &[
        PID,
        a("count", UInt),
        a("pages", Ptr),
        a("nodes", Ptr),
        a("status", Ptr),
        FLAGS,
    ],
);
pub(super) const memfd_create: Sig = s(C::Memory, R::Fd, &[a("name", Str), FLAGS]);
pub(super) const memfd_secret: Sig = s(C::Memory, R::Fd, &[FLAGS]);
pub(super) const userfaultfd: Sig = s(C::Memory, R::Fd, &[fl("flags", F::OpenFlags)]);
pub(super) const membarrier: Sig = s(C::Memory, R::Int, &[a("cmd", Int), FLAGS, a("cpu_id", Int)]);
const PROCESS_VM: &[ArgSpec] = &[
    PID,
    a("local_iov", Struct),
    a("liovcnt", UInt),
    a("remote_iov", Struct),
    a("riovcnt", UInt),
    FLAGS,
];
pub(super) const process_vm_readv: Sig = s(C::Memory, R::Size, PROCESS_VM);
pub(super) const process_vm_writev: Sig = s(C::Memory, R::Size, PROCESS_VM);
pub(super) const process_mrelease: Sig = s(C::Memory, R::Int, &[a("pidfd", Fd), FLAGS]);
pub(super) const map_shadow_stack: Sig = s(C::Memory, R::Ptr, &[ADDR, a("size", Size), FLAGS]);
pub(super) const mseal: Sig = s(C::Memory, R::Int, &[ADDR, LEN, FLAGS]);

// ---------------------------------------------------------------- processes

pub(super) const clone: Sig = s(
    C::Process,
    R::Pid,
    &[
        fl("flags", F::CloneFlags),
        a("stack", Ptr),
        a("parent_tid", Ptr),
        a("child_tid", Ptr),
        a("tls", Hex),
    ],
);
/// clone for arches with CONFIG_CLONE_BACKWARDS (arm64): tls before child_tid.
pub(super) const clone_backwards: Sig = s(
    C::Process,
    R::Pid,
    &[
        fl("flags", F::CloneFlags),
        a("stack", Ptr),
        a("parent_tid", Ptr),
        a("tls", Hex),
        a("child_tid", Ptr),
    ],
);
pub(super) const clone3: Sig = s(C::Process, R::Pid, &[a("cl_args", Struct), a("size", Size)]);
pub(super) const fork: Sig = s(C::Process, R::Pid, NONE);
pub(super) const vfork: Sig = s(C::Process, R::Pid, NONE);
// A successful exec still reaches sys_exit, returning 0 in the new image.
pub(super) const execve: Sig = s(
    C::Process,
    R::Int,
    &[PATHNAME, a("argv", Argv), a("envp", Argv)],
);
pub(super) const execveat: Sig = s(
    C::Process,
    R::Int,
    &[DFD, PATHNAME, a("argv", Argv), a("envp", Argv), AT_FLAGS],
);
pub(super) const exit: Sig = s(C::Process, R::NoReturn, &[a("status", Int)]);
pub(super) const exit_group: Sig = s(C::Process, R::NoReturn, &[a("status", Int)]);
pub(super) const wait4: Sig = s(
    C::Process,
    R::Pid,
    &[
        PID,
        a("wstatus", Ptr),
        fl("options", F::Other),
        a("rusage", Struct),
    ],
);
pub(super) const waitid: Sig = s(
    C::Process,
    R::Int,
    &[
        a("idtype", Int),
        a("id", Pid),
        a("infop", Struct),
        fl("options", F::Other),
        a("rusage", Struct),
    ],
);

pub(super) const getpid: Sig = s(C::Process, R::Pid, NONE);
pub(super) const getppid: Sig = s(C::Process, R::Pid, NONE);
pub(super) const gettid: Sig = s(C::Process, R::Pid, NONE);
pub(super) const getpgrp: Sig = s(C::Process, R::Pid, NONE);
pub(super) const getpgid: Sig = s(C::Process, R::Pid, &[PID]);
pub(super) const setpgid: Sig = s(C::Process, R::Int, &[PID, a("pgid", Pid)]);
pub(super) const getsid: Sig = s(C::Process, R::Pid, &[PID]);
pub(super) const setsid: Sig = s(C::Process, R::Pid, NONE);
pub(super) const set_tid_address: Sig = s(C::Process, R::Pid, &[a("tidptr", Ptr)]);

pub(super) const getuid: Sig = s(C::Process, R::Int, NONE);
pub(super) const geteuid: Sig = s(C::Process, R::Int, NONE);
pub(super) const getgid: Sig = s(C::Process, R::Int, NONE);
pub(super) const getegid: Sig = s(C::Process, R::Int, NONE);
pub(super) const setuid: Sig = s(C::Process, R::Int, &[a("uid", Uid)]);
pub(super) const setgid: Sig = s(C::Process, R::Int, &[a("gid", Gid)]);
pub(super) const setreuid: Sig = s(C::Process, R::Int, &[a("ruid", Uid), a("euid", Uid)]);
pub(super) const setregid: Sig = s(C::Process, R::Int, &[a("rgid", Gid), a("egid", Gid)]);
pub(super) const setresuid: Sig = s(
    C::Process,
    R::Int,
    &[a("ruid", Uid), a("euid", Uid), a("suid", Uid)],
);
pub(super) const setresgid: Sig = s(
    C::Process,
    R::Int,
    &[a("rgid", Gid), a("egid", Gid), a("sgid", Gid)],
);
pub(super) const getresuid: Sig = s(
    C::Process,
    R::Int,
    &[a("ruid", Ptr), a("euid", Ptr), a("suid", Ptr)],
);
pub(super) const getresgid: Sig = s(
    C::Process,
    R::Int,
    &[a("rgid", Ptr), a("egid", Ptr), a("sgid", Ptr)],
);
// Both return the previous id, not an error code.
pub(super) const setfsuid: Sig = s(C::Process, R::Int, &[a("fsuid", Uid)]);
pub(super) const setfsgid: Sig = s(C::Process, R::Int, &[a("fsgid", Gid)]);
pub(super) const getgroups: Sig = s(C::Process, R::Int, &[a("size", Int), a("list", Ptr)]);
pub(super) const setgroups: Sig = s(C::Process, R::Int, &[a("size", Int), a("list", Ptr)]);

pub(super) const getpriority: Sig = s(C::Process, R::Int, &[a("which", Int), a("who", Int)]);
pub(super) const setpriority: Sig = s(
    C::Process,
    R::Int,
    &[a("which", Int), a("who", Int), a("prio", Int)],
);
pub(super) const ioprio_set: Sig = s(
    C::Process,
    R::Int,
    &[a("which", Int), a("who", Int), a("ioprio", Hex)],
);
pub(super) const ioprio_get: Sig = s(C::Process, R::Int, &[a("which", Int), a("who", Int)]);
pub(super) const sched_yield: Sig = s(C::Process, R::Int, NONE);
pub(super) const sched_setparam: Sig = s(C::Process, R::Int, &[PID, a("param", Struct)]);
pub(super) const sched_getparam: Sig = s(C::Process, R::Int, &[PID, a("param", Struct)]);
pub(super) const sched_setscheduler: Sig = s(
    C::Process,
    R::Int,
    &[PID, a("policy", Int), a("param", Struct)],
);
pub(super) const sched_getscheduler: Sig = s(C::Process, R::Int, &[PID]);
pub(super) const sched_get_priority_max: Sig = s(C::Process, R::Int, &[a("policy", Int)]);
pub(super) const sched_get_priority_min: Sig = s(C::Process, R::Int, &[a("policy", Int)]);
pub(super) const sched_rr_get_interval: Sig = s(C::Process, R::Int, &[PID, a("tp", Struct)]);
pub(super) const sched_setaffinity: Sig = s(
    C::Process,
    R::Int,
    &[PID, a("cpusetsize", UInt), a("mask", Ptr)],
);
// Returns the number of bytes copied into the mask.
pub(super) const sched_getaffinity: Sig = s(
    C::Process,
    R::Size,
    &[PID, a("cpusetsize", UInt), a("mask", Ptr)],
);
pub(super) const sched_setattr: Sig = s(C::Process, R::Int, &[PID, a("attr", Struct), FLAGS]);
pub(super) const sched_getattr: Sig = s(
    C::Process,
    R::Int,
    &[PID, a("attr", Struct), a("size", UInt), FLAGS],
);

pub(super) const ptrace: Sig = s(
    C::Process,
    R::Int,
    &[a("request", Int), PID, ADDR, a("data", Hex)],
);
pub(super) const prctl: Sig = s(
    C::Process,
    R::Int,
    &[
        fl("option", F::PrctlOption),
        a("arg2", Hex),
        a("arg3", Hex),
        a("arg4", Hex),
        a("arg5", Hex),
    ],
);
pub(super) const arch_prctl: Sig = s(C::Process, R::Int, &[a("code", Hex), ADDR]);
pub(super) const personality: Sig = s(C::Process, R::Int, &[a("persona", Hex)]);
pub(super) const getrlimit: Sig = s(C::Process, R::Int, &[a("resource", Int), a("rlim", Struct)]);
pub(super) const setrlimit: Sig = s(C::Process, R::Int, &[a("resource", Int), a("rlim", Struct)]);
pub(super) const prlimit64: Sig = s(
    C::Process,
    R::Int,
    &[
        PID,
        a("resource", Int),
        a("new_limit", Struct),
        a("old_limit", Struct),
    ],
);
pub(super) const getrusage: Sig = s(C::Process, R::Int, &[a("who", Int), a("usage", Struct)]);
pub(super) const unshare: Sig = s(C::Process, R::Int, &[fl("flags", F::CloneFlags)]);
pub(super) const setns: Sig = s(C::Process, R::Int, &[FD, fl("nstype", F::CloneFlags)]);
pub(super) const kcmp: Sig = s(
    C::Process,
    R::Int,
    &[
        a("pid1", Pid),
        a("pid2", Pid),
        a("type", Int),
        a("idx1", Hex),
        a("idx2", Hex),
    ],
);
pub(super) const getcpu: Sig = s(
    C::Process,
    R::Int,
    &[a("cpu", Ptr), a("node", Ptr), a("tcache", Ptr)],
);
pub(super) const rseq: Sig = s(
    C::Process,
    R::Int,
    &[a("rseq", Struct), a("rseq_len", Hex), FLAGS, a("sig", Hex)],
);
pub(super) const pidfd_open: Sig = s(C::Process, R::Fd, &[PID, FLAGS]);
// targetfd is a descriptor in the other process, so it is shown as a number.
pub(super) const pidfd_getfd: Sig = s(
    C::Process,
    R::Fd,
    &[a("pidfd", Fd), a("targetfd", Int), FLAGS],
);
pub(super) const uselib: Sig = s(C::Process, R::Int, &[a("library", Path)]);
pub(super) const set_thread_area: Sig = s(C::Process, R::Int, &[a("u_info", Struct)]);
pub(super) const get_thread_area: Sig = s(C::Process, R::Int, &[a("u_info", Struct)]);
pub(super) const listns: Sig = s(
    C::Process,
    R::Int,
    &[
        a("req", Struct),
        a("ns_ids", Ptr),
        a("nr_ns_ids", Size),
        FLAGS,
    ],
);

// ---------------------------------------------------------------- signals

pub(super) const kill: Sig = s(C::Signal, R::Int, &[PID, SIG]);
pub(super) const tkill: Sig = s(C::Signal, R::Int, &[a("tid", Pid), SIG]);
pub(super) const tgkill: Sig = s(C::Signal, R::Int, &[a("tgid", Pid), a("tid", Pid), SIG]);
pub(super) const pidfd_send_signal: Sig = s(
    C::Signal,
    R::Int,
    &[a("pidfd", Fd), SIG, a("info", Struct), FLAGS],
);
pub(super) const rt_sigaction: Sig = s(
    C::Signal,
    R::Int,
    &[SIG, a("act", Struct), a("oact", Struct), SIGSETSIZE],
);
pub(super) const rt_sigprocmask: Sig = s(
    C::Signal,
    R::Int,
    &[
        fl("how", F::SigprocmaskHow),
        a("set", Struct),
        a("oldset", Struct),
        SIGSETSIZE,
    ],
);
// Returns into the interrupted context; the value is that context's register.
pub(super) const rt_sigreturn: Sig = s(C::Signal, R::Int, NONE);
pub(super) const rt_sigpending: Sig = s(C::Signal, R::Int, &[a("set", Struct), SIGSETSIZE]);
// Returns the number of the accepted signal.
pub(super) const rt_sigtimedwait: Sig = s(
    C::Signal,
    R::Int,
    &[
        a("set", Struct),
        a("info", Struct),
        a("timeout", Struct),
        SIGSETSIZE,
    ],
);
pub(super) const rt_sigqueueinfo: Sig =
    s(C::Signal, R::Int, &[a("tgid", Pid), SIG, a("info", Struct)]);
pub(super) const rt_tgsigqueueinfo: Sig = s(
    C::Signal,
    R::Int,
    &[a("tgid", Pid), a("tid", Pid), SIG, a("info", Struct)],
);
pub(super) const rt_sigsuspend: Sig = s(C::Signal, R::Int, &[a("mask", Struct), SIGSETSIZE]);
pub(super) const sigaltstack: Sig = s(C::Signal, R::Int, &[a("ss", Struct), a("old_ss", Struct)]);
pub(super) const pause: Sig = s(C::Signal, R::Int, NONE);
pub(super) const restart_syscall: Sig = s(C::Signal, R::Int, NONE);
pub(super) const signalfd: Sig = s(
    C::Signal,
    R::Fd,
    &[FD, a("mask", Struct), a("sizemask", Size)],
);
pub(super) const signalfd4: Sig = s(
    C::Signal,
    R::Fd,
    &[
        FD,
        a("mask", Struct),
        a("sizemask", Size),
        fl("flags", F::OpenFlags),
    ],
);

// ---------------------------------------------------------------- network

const SOCKFD: ArgSpec = a("sockfd", Fd);
const MSG_FLAGS: ArgSpec = fl("flags", F::Other);
pub(super) const socket: Sig = s(
    C::Network,
    R::Fd,
    &[
        fl("domain", F::SocketDomain),
        fl("type", F::SocketType),
        a("protocol", Int),
    ],
);
pub(super) const socketpair: Sig = s(
    C::Network,
    R::Int,
    &[
        fl("domain", F::SocketDomain),
        fl("type", F::SocketType),
        a("protocol", Int),
        a("sv", Ptr),
    ],
);
pub(super) const connect: Sig = s(
    C::Network,
    R::Int,
    &[SOCKFD, sockaddr("addr", 2), a("addrlen", SockLen)],
);
pub(super) const bind: Sig = s(
    C::Network,
    R::Int,
    &[SOCKFD, sockaddr("addr", 2), a("addrlen", SockLen)],
);
pub(super) const listen: Sig = s(C::Network, R::Int, &[SOCKFD, a("backlog", Int)]);
pub(super) const accept: Sig = s(
    C::Network,
    R::Fd,
    &[SOCKFD, sockaddr("addr", 2), a("addrlen", Ptr)],
);
pub(super) const accept4: Sig = s(
    C::Network,
    R::Fd,
    &[
        SOCKFD,
        sockaddr("addr", 2),
        a("addrlen", Ptr),
        fl("flags", F::OpenFlags),
    ],
);
pub(super) const getsockname: Sig = s(
    C::Network,
    R::Int,
    &[SOCKFD, sockaddr("addr", 2), a("addrlen", Ptr)],
);
pub(super) const getpeername: Sig = s(
    C::Network,
    R::Int,
    &[SOCKFD, sockaddr("addr", 2), a("addrlen", Ptr)],
);
pub(super) const sendto: Sig = s(
    C::Network,
    R::Size,
    &[
        SOCKFD,
        buf_in("buf", 2),
        LEN,
        MSG_FLAGS,
        sockaddr("dest_addr", 5),
        a("addrlen", SockLen),
    ],
);
pub(super) const recvfrom: Sig = s(
    C::Network,
    R::Size,
    &[
        SOCKFD,
        buf_out("buf", 2),
        LEN,
        MSG_FLAGS,
        sockaddr("src_addr", 5),
        a("addrlen", Ptr),
    ],
);
pub(super) const sendmsg: Sig = s(C::Network, R::Size, &[SOCKFD, a("msg", Struct), MSG_FLAGS]);
pub(super) const recvmsg: Sig = s(C::Network, R::Size, &[SOCKFD, a("msg", Struct), MSG_FLAGS]);
// Both return the number of messages, not bytes.
pub(super) const sendmmsg: Sig = s(
    C::Network,
    R::Int,
    &[SOCKFD, a("msgvec", Struct), a("vlen", UInt), MSG_FLAGS],
);
pub(super) const recvmmsg: Sig = s(
    C::Network,
    R::Int,
    &[
        SOCKFD,
        a("msgvec", Struct),
        a("vlen", UInt),
        MSG_FLAGS,
        a("timeout", Struct),
    ],
);
pub(super) const shutdown: Sig = s(C::Network, R::Int, &[SOCKFD, fl("how", F::Shutdown)]);
pub(super) const setsockopt: Sig = s(
    C::Network,
    R::Int,
    &[
        SOCKFD,
        fl("level", F::SockLevel),
        a("optname", Int),
        buf_in("optval", 4),
        a("optlen", SockLen),
    ],
);
pub(super) const getsockopt: Sig = s(
    C::Network,
    R::Int,
    &[
        SOCKFD,
        fl("level", F::SockLevel),
        a("optname", Int),
        a("optval", Ptr),
        a("optlen", Ptr),
    ],
);

// ---------------------------------------------------------------- ipc

pub(super) const pipe: Sig = s(C::Ipc, R::Int, &[a("pipefd", Ptr)]);
pub(super) const pipe2: Sig = s(
    C::Ipc,
    R::Int,
    &[a("pipefd", Ptr), fl("flags", F::OpenFlags)],
);
const IPC_KEY: ArgSpec = a("key", Hex);
pub(super) const shmget: Sig = s(
    C::Ipc,
    R::Int,
    &[IPC_KEY, a("size", Size), fl("shmflg", F::Other)],
);
pub(super) const shmat: Sig = s(
    C::Ipc,
    R::Ptr,
    &[a("shmid", Int), a("shmaddr", Ptr), fl("shmflg", F::Other)],
);
pub(super) const shmdt: Sig = s(C::Ipc, R::Int, &[a("shmaddr", Ptr)]);
pub(super) const shmctl: Sig = s(
    C::Ipc,
    R::Int,
    &[a("shmid", Int), a("cmd", Int), a("buf", Struct)],
);
pub(super) const semget: Sig = s(
    C::Ipc,
    R::Int,
    &[IPC_KEY, a("nsems", Int), fl("semflg", F::Other)],
);
pub(super) const semop: Sig = s(
    C::Ipc,
    R::Int,
    &[a("semid", Int), a("sops", Struct), a("nsops", UInt)],
);
pub(super) const semtimedop: Sig = s(
    C::Ipc,
    R::Int,
    &[
        a("semid", Int),
        a("sops", Struct),
        a("nsops", UInt),
        a("timeout", Struct),
    ],
);
pub(super) const semctl: Sig = s(
    C::Ipc,
    R::Int,
    &[
        a("semid", Int),
        a("semnum", Int),
        a("cmd", Int),
        a("arg", Hex),
    ],
);
pub(super) const msgget: Sig = s(C::Ipc, R::Int, &[IPC_KEY, fl("msgflg", F::Other)]);
pub(super) const msgsnd: Sig = s(
    C::Ipc,
    R::Int,
    &[
        a("msqid", Int),
        a("msgp", Struct),
        a("msgsz", Size),
        fl("msgflg", F::Other),
    ],
);
pub(super) const msgrcv: Sig = s(
    C::Ipc,
    R::Size,
    &[
        a("msqid", Int),
        a("msgp", Struct),
        a("msgsz", Size),
        a("msgtyp", Int),
        fl("msgflg", F::Other),
    ],
);
pub(super) const msgctl: Sig = s(
    C::Ipc,
    R::Int,
    &[a("msqid", Int), a("cmd", Int), a("buf", Struct)],
);
const MQDES: ArgSpec = a("mqdes", Fd);
pub(super) const mq_open: Sig = s(
    C::Ipc,
    R::Fd,
    &[
        a("name", Str),
        fl("oflag", F::OpenFlags),
        MODE,
        a("attr", Struct),
    ],
);
pub(super) const mq_unlink: Sig = s(C::Ipc, R::Int, &[a("name", Str)]);
pub(super) const mq_timedsend: Sig = s(
    C::Ipc,
    R::Int,
    &[
        MQDES,
        buf_in("msg_ptr", 2),
        a("msg_len", Size),
        a("msg_prio", UInt),
        a("abs_timeout", Struct),
    ],
);
pub(super) const mq_timedreceive: Sig = s(
    C::Ipc,
    R::Size,
    &[
        MQDES,
        buf_out("msg_ptr", 2),
        a("msg_len", Size),
        a("msg_prio", Ptr),
        a("abs_timeout", Struct),
    ],
);
pub(super) const mq_notify: Sig = s(C::Ipc, R::Int, &[MQDES, a("sevp", Struct)]);
pub(super) const mq_getsetattr: Sig = s(
    C::Ipc,
    R::Int,
    &[MQDES, a("newattr", Struct), a("oldattr", Struct)],
);
// Futexes synchronise threads and processes through shared memory.
const UADDR: ArgSpec = a("uaddr", Ptr);
pub(super) const futex: Sig = s(
    C::Ipc,
    R::Int,
    &[
        UADDR,
        fl("futex_op", F::FutexOp),
        a("val", UInt),
        a("timeout", Struct),
        a("uaddr2", Ptr),
        a("val3", UInt),
    ],
);
pub(super) const futex_waitv: Sig = s(
    C::Ipc,
    R::Int,
    &[
        a("waiters", Struct),
        a("nr_futexes", UInt),
        FLAGS,
        a("timeout", Struct),
        CLOCKID,
    ],
);
pub(super) const futex_wake: Sig = s(
    C::Ipc,
    R::Int,
    &[UADDR, a("mask", Hex), a("nr", Int), FLAGS],
);
pub(super) const futex_wait: Sig = s(
    C::Ipc,
    R::Int,
    &[
        UADDR,
        a("val", UInt),
        a("mask", Hex),
        FLAGS,
        a("timeout", Struct),
        CLOCKID,
    ],
);
pub(super) const futex_requeue: Sig = s(
    C::Ipc,
    R::Int,
    &[
        a("waiters", Struct),
        FLAGS,
        a("nr_wake", Int),
        a("nr_requeue", Int),
    ],
);
pub(super) const set_robust_list: Sig = s(C::Ipc, R::Int, &[a("head", Struct), LEN]);
pub(super) const get_robust_list: Sig = s(
    C::Ipc,
    R::Int,
    &[PID, a("head_ptr", Ptr), a("len_ptr", Ptr)],
);

// ---------------------------------------------------------------- io

pub(super) const poll: Sig = s(
    C::Io,
    R::Int,
    &[a("fds", Struct), a("nfds", UInt), a("timeout", Int)],
);
pub(super) const ppoll: Sig = s(
    C::Io,
    R::Int,
    &[
        a("fds", Struct),
        a("nfds", UInt),
        a("tmo_p", Struct),
        a("sigmask", Struct),
        SIGSETSIZE,
    ],
);
pub(super) const select: Sig = s(
    C::Io,
    R::Int,
    &[
        a("nfds", Int),
        a("readfds", Ptr),
        a("writefds", Ptr),
        a("exceptfds", Ptr),
        a("timeout", Struct),
    ],
);
// The sixth argument points to a {sigset pointer, size} pair.
pub(super) const pselect6: Sig = s(
    C::Io,
    R::Int,
    &[
        a("nfds", Int),
        a("readfds", Ptr),
        a("writefds", Ptr),
        a("exceptfds", Ptr),
        a("timeout", Struct),
        a("sigmask", Struct),
    ],
);
const EPFD: ArgSpec = a("epfd", Fd);
pub(super) const epoll_create: Sig = s(C::Io, R::Fd, &[a("size", Int)]);
pub(super) const epoll_create1: Sig = s(C::Io, R::Fd, &[fl("flags", F::OpenFlags)]);
pub(super) const epoll_ctl: Sig = s(
    C::Io,
    R::Int,
    &[EPFD, fl("op", F::EpollCtlOp), FD, a("event", Struct)],
);
pub(super) const epoll_wait: Sig = s(
    C::Io,
    R::Int,
    &[
        EPFD,
        a("events", Struct),
        a("maxevents", Int),
        a("timeout", Int),
    ],
);
pub(super) const epoll_pwait: Sig = s(
    C::Io,
    R::Int,
    &[
        EPFD,
        a("events", Struct),
        a("maxevents", Int),
        a("timeout", Int),
        a("sigmask", Struct),
        SIGSETSIZE,
    ],
);
pub(super) const epoll_pwait2: Sig = s(
    C::Io,
    R::Int,
    &[
        EPFD,
        a("events", Struct),
        a("maxevents", Int),
        a("timeout", Struct),
        a("sigmask", Struct),
        SIGSETSIZE,
    ],
);
// Reserved x86_64 numbers with no implementation ever merged.
pub(super) const epoll_ctl_old: Sig = s(C::Io, R::Int, NONE);
pub(super) const epoll_wait_old: Sig = s(C::Io, R::Int, NONE);
pub(super) const eventfd: Sig = s(C::Io, R::Fd, &[a("initval", UInt)]);
pub(super) const eventfd2: Sig = s(
    C::Io,
    R::Fd,
    &[a("initval", UInt), fl("flags", F::OpenFlags)],
);
const AIO_CTX: ArgSpec = a("ctx_id", Hex);
pub(super) const io_setup: Sig = s(C::Io, R::Int, &[a("nr_events", UInt), a("ctx_idp", Ptr)]);
pub(super) const io_destroy: Sig = s(C::Io, R::Int, &[AIO_CTX]);
pub(super) const io_submit: Sig = s(C::Io, R::Int, &[AIO_CTX, a("nr", Int), a("iocbpp", Ptr)]);
pub(super) const io_cancel: Sig = s(
    C::Io,
    R::Int,
    &[AIO_CTX, a("iocb", Struct), a("result", Struct)],
);
pub(super) const io_getevents: Sig = s(
    C::Io,
    R::Int,
    &[
        AIO_CTX,
        a("min_nr", Int),
        a("nr", Int),
        a("events", Struct),
        a("timeout", Struct),
    ],
);
pub(super) const io_pgetevents: Sig = s(
    C::Io,
    R::Int,
    &[
        AIO_CTX,
        a("min_nr", Int),
        a("nr", Int),
        a("events", Struct),
        a("timeout", Struct),
        a("usig", Struct),
    ],
);
pub(super) const io_uring_setup: Sig = s(C::Io, R::Fd, &[a("entries", UInt), a("params", Struct)]);
pub(super) const io_uring_enter: Sig = s(
    C::Io,
    R::Int,
    &[
        FD,
        a("to_submit", UInt),
        a("min_complete", UInt),
        FLAGS,
        a("arg", Ptr),
        a("argsz", Size),
    ],
);
pub(super) const io_uring_register: Sig = s(
    C::Io,
    R::Int,
    &[FD, a("opcode", UInt), a("arg", Ptr), a("nr_args", UInt)],
);

// ---------------------------------------------------------------- time

pub(super) const nanosleep: Sig = s(C::Time, R::Int, &[a("req", Struct), a("rem", Struct)]);
pub(super) const clock_gettime: Sig = s(C::Time, R::Int, &[CLOCKID, a("tp", Struct)]);
pub(super) const clock_settime: Sig = s(C::Time, R::Int, &[CLOCKID, a("tp", Struct)]);
pub(super) const clock_getres: Sig = s(C::Time, R::Int, &[CLOCKID, a("res", Struct)]);
pub(super) const clock_nanosleep: Sig = s(
    C::Time,
    R::Int,
    &[CLOCKID, FLAGS, a("request", Struct), a("remain", Struct)],
);
pub(super) const clock_adjtime: Sig = s(C::Time, R::Int, &[CLOCKID, a("buf", Struct)]);
pub(super) const adjtimex: Sig = s(C::Time, R::Int, &[a("buf", Struct)]);
pub(super) const gettimeofday: Sig = s(C::Time, R::Int, &[a("tv", Struct), a("tz", Struct)]);
pub(super) const settimeofday: Sig = s(C::Time, R::Int, &[a("tv", Struct), a("tz", Struct)]);
pub(super) const time: Sig = s(C::Time, R::Int, &[a("tloc", Ptr)]);
pub(super) const times: Sig = s(C::Time, R::Int, &[a("buf", Struct)]);
pub(super) const alarm: Sig = s(C::Time, R::Int, &[a("seconds", UInt)]);
pub(super) const getitimer: Sig = s(C::Time, R::Int, &[a("which", Int), a("curr_value", Struct)]);
pub(super) const setitimer: Sig = s(
    C::Time,
    R::Int,
    &[
        a("which", Int),
        a("new_value", Struct),
        a("old_value", Struct),
    ],
);
const TIMERID: ArgSpec = a("timerid", Int);
pub(super) const timer_create: Sig = s(
    C::Time,
    R::Int,
    &[CLOCKID, a("sevp", Struct), a("timerid", Ptr)],
);
pub(super) const timer_settime: Sig = s(
    C::Time,
    R::Int,
    &[
        TIMERID,
        FLAGS,
        a("new_value", Struct),
        a("old_value", Struct),
    ],
);
pub(super) const timer_gettime: Sig = s(C::Time, R::Int, &[TIMERID, a("curr_value", Struct)]);
pub(super) const timer_getoverrun: Sig = s(C::Time, R::Int, &[TIMERID]);
pub(super) const timer_delete: Sig = s(C::Time, R::Int, &[TIMERID]);
pub(super) const timerfd_create: Sig = s(C::Time, R::Fd, &[CLOCKID, fl("flags", F::OpenFlags)]);
pub(super) const timerfd_settime: Sig = s(
    C::Time,
    R::Int,
    &[FD, FLAGS, a("new_value", Struct), a("old_value", Struct)],
);
pub(super) const timerfd_gettime: Sig = s(C::Time, R::Int, &[FD, a("curr_value", Struct)]);

// ---------------------------------------------------------------- security

pub(super) const capget: Sig = s(
    C::Security,
    R::Int,
    &[a("hdrp", Struct), a("datap", Struct)],
);
pub(super) const capset: Sig = s(
    C::Security,
    R::Int,
    &[a("hdrp", Struct), a("datap", Struct)],
);
// seccomp and bpf may return a new fd, so their returns stay plain integers.
pub(super) const seccomp: Sig = s(
    C::Security,
    R::Int,
    &[a("operation", UInt), FLAGS, a("args", Ptr)],
);
pub(super) const bpf: Sig = s(
    C::Security,
    R::Int,
    &[a("cmd", Int), a("attr", Struct), a("size", UInt)],
);
pub(super) const add_key: Sig = s(
    C::Security,
    R::Int,
    &[
        a("type", Str),
        a("description", Str),
        buf_in("payload", 3),
        a("plen", Size),
        a("keyring", Int),
    ],
);
pub(super) const request_key: Sig = s(
    C::Security,
    R::Int,
    &[
        a("type", Str),
        a("description", Str),
        a("callout_info", Str),
        a("dest_keyring", Int),
    ],
);
pub(super) const keyctl: Sig = s(
    C::Security,
    R::Int,
    &[
        a("operation", Int),
        a("arg2", Hex),
        a("arg3", Hex),
        a("arg4", Hex),
        a("arg5", Hex),
    ],
);
pub(super) const landlock_create_ruleset: Sig = s(
    C::Security,
    R::Fd,
    &[a("attr", Struct), a("size", Size), FLAGS],
);
pub(super) const landlock_add_rule: Sig = s(
    C::Security,
    R::Int,
    &[
        a("ruleset_fd", Fd),
        a("rule_type", Int),
        a("rule_attr", Ptr),
        FLAGS,
    ],
);
pub(super) const landlock_restrict_self: Sig =
    s(C::Security, R::Int, &[a("ruleset_fd", Fd), FLAGS]);
pub(super) const lsm_get_self_attr: Sig = s(
    C::Security,
    R::Int,
    &[a("attr", UInt), a("ctx", Struct), a("size", Ptr), FLAGS],
);
pub(super) const lsm_set_self_attr: Sig = s(
    C::Security,
    R::Int,
    &[a("attr", UInt), a("ctx", Struct), a("size", UInt), FLAGS],
);
pub(super) const lsm_list_modules: Sig =
    s(C::Security, R::Int, &[a("ids", Ptr), a("size", Ptr), FLAGS]);

// ---------------------------------------------------------------- system

pub(super) const uname: Sig = s(C::System, R::Int, &[a("buf", Struct)]);
pub(super) const sysinfo: Sig = s(C::System, R::Int, &[a("info", Struct)]);
pub(super) const syslog: Sig = s(
    C::System,
    R::Int,
    &[a("type", Int), buf_out("bufp", 2), a("len", Int)],
);
pub(super) const getrandom: Sig = s(
    C::System,
    R::Size,
    &[buf_out("buf", 1), a("buflen", Size), FLAGS],
);
pub(super) const reboot: Sig = s(
    C::System,
    R::Int,
    &[
        a("magic", Hex),
        a("magic2", Hex),
        a("cmd", Hex),
        a("arg", Ptr),
    ],
);
pub(super) const kexec_load: Sig = s(
    C::System,
    R::Int,
    &[
        a("entry", Ptr),
        a("nr_segments", UInt),
        a("segments", Struct),
        FLAGS,
    ],
);
pub(super) const kexec_file_load: Sig = s(
    C::System,
    R::Int,
    &[
        a("kernel_fd", Fd),
        a("initrd_fd", Fd),
        a("cmdline_len", Size),
        a("cmdline", Str),
        FLAGS,
    ],
);
pub(super) const init_module: Sig = s(
    C::System,
    R::Int,
    &[a("module_image", Ptr), LEN, a("param_values", Str)],
);
pub(super) const finit_module: Sig = s(C::System, R::Int, &[FD, a("param_values", Str), FLAGS]);
pub(super) const delete_module: Sig = s(C::System, R::Int, &[a("name", Str), FLAGS]);
// Removed in Linux 2.6; numbers kept, calls fail with ENOSYS.
pub(super) const create_module: Sig = s(C::System, R::Ptr, &[a("name", Str), a("size", Size)]);
pub(super) const get_kernel_syms: Sig = s(C::System, R::Int, &[a("table", Struct)]);
pub(super) const query_module: Sig = s(
    C::System,
    R::Int,
    &[
        a("name", Str),
        a("which", Int),
        buf_out("buf", 3),
        a("bufsize", Size),
        a("ret", Ptr),
    ],
);
pub(super) const nfsservctl: Sig = s(
    C::System,
    R::Int,
    &[a("cmd", Int), a("argp", Struct), a("resp", Struct)],
);
pub(super) const _sysctl: Sig = s(C::System, R::Int, &[a("args", Struct)]);
pub(super) const sysfs: Sig = s(
    C::System,
    R::Int,
    &[a("option", Int), a("arg1", Hex), a("arg2", Hex)],
);
pub(super) const mount: Sig = s(
    C::System,
    R::Int,
    &[
        a("source", Str),
        a("target", Path),
        a("filesystemtype", Str),
        fl("mountflags", F::Other),
        a("data", Ptr),
    ],
);
pub(super) const umount2: Sig = s(C::System, R::Int, &[a("target", Path), FLAGS]);
pub(super) const pivot_root: Sig = s(
    C::System,
    R::Int,
    &[a("new_root", Path), a("put_old", Path)],
);
pub(super) const swapon: Sig = s(
    C::System,
    R::Int,
    &[a("path", Path), fl("swapflags", F::Other)],
);
pub(super) const swapoff: Sig = s(C::System, R::Int, &[a("path", Path)]);
pub(super) const acct: Sig = s(C::System, R::Int, &[FILENAME]);
pub(super) const vhangup: Sig = s(C::System, R::Int, NONE);
pub(super) const sethostname: Sig = s(C::System, R::Int, &[buf_in("name", 1), LEN]);
pub(super) const setdomainname: Sig = s(C::System, R::Int, &[buf_in("name", 1), LEN]);
pub(super) const iopl: Sig = s(C::System, R::Int, &[a("level", UInt)]);
pub(super) const ioperm: Sig = s(
    C::System,
    R::Int,
    &[a("from", Hex), a("num", UInt), a("turn_on", Int)],
);
pub(super) const modify_ldt: Sig = s(
    C::System,
    R::Int,
    &[a("func", Int), a("ptr", Ptr), a("bytecount", Size)],
);
pub(super) const quotactl: Sig = s(
    C::System,
    R::Int,
    &[a("cmd", UInt), a("special", Path), a("id", Int), ADDR],
);
pub(super) const quotactl_fd: Sig = s(C::System, R::Int, &[FD, a("cmd", UInt), a("id", Int), ADDR]);
pub(super) const lookup_dcookie: Sig = s(
    C::System,
    R::Size,
    &[a("cookie", Hex), buf_out("buffer", 2), LEN],
);
pub(super) const perf_event_open: Sig = s(
    C::System,
    R::Fd,
    &[
        a("attr", Struct),
        PID,
        a("cpu", Int),
        a("group_fd", Fd),
        FLAGS,
    ],
);
pub(super) const open_tree: Sig = s(C::System, R::Fd, &[DFD, FILENAME, FLAGS]);
pub(super) const open_tree_attr: Sig = s(
    C::System,
    R::Fd,
    &[DFD, FILENAME, FLAGS, a("attr", Struct), a("size", Size)],
);
pub(super) const move_mount: Sig = s(
    C::System,
    R::Int,
    &[
        a("from_dfd", DirFd),
        a("from_pathname", Path),
        a("to_dfd", DirFd),
        a("to_pathname", Path),
        FLAGS,
    ],
);
pub(super) const fsopen: Sig = s(C::System, R::Fd, &[a("fsname", Str), FLAGS]);
pub(super) const fsconfig: Sig = s(
    C::System,
    R::Int,
    &[
        FD,
        a("cmd", UInt),
        a("key", Str),
        a("value", Ptr),
        a("aux", Int),
    ],
);
pub(super) const fsmount: Sig = s(
    C::System,
    R::Fd,
    &[a("fs_fd", Fd), FLAGS, fl("attr_flags", F::Other)],
);
pub(super) const fspick: Sig = s(C::System, R::Fd, &[DFD, a("path", Path), FLAGS]);
pub(super) const mount_setattr: Sig = s(
    C::System,
    R::Int,
    &[
        DFD,
        a("path", Path),
        AT_FLAGS,
        a("attr", Struct),
        a("size", Size),
    ],
);
pub(super) const statmount: Sig = s(
    C::System,
    R::Int,
    &[
        a("req", Struct),
        a("buf", Struct),
        a("bufsize", Size),
        FLAGS,
    ],
);
pub(super) const listmount: Sig = s(
    C::System,
    R::Int,
    &[
        a("req", Struct),
        a("mnt_ids", Ptr),
        a("nr_mnt_ids", Size),
        FLAGS,
    ],
);
// Entered from uprobe trampolines, not by programs.
pub(super) const uretprobe: Sig = s(C::System, R::Int, NONE);
pub(super) const uprobe: Sig = s(C::System, R::Int, NONE);

// ---------------------------------------------------------------- never implemented

// Reserved x86_64 numbers for out-of-tree projects (STREAMS, AFS, TUX,
// LSM, vserver). Mainline has no prototype for them.
pub(super) const getpmsg: Sig = s(C::Other, R::Int, NONE);
pub(super) const putpmsg: Sig = s(C::Other, R::Int, NONE);
pub(super) const afs_syscall: Sig = s(C::Other, R::Int, NONE);
pub(super) const tuxcall: Sig = s(C::Other, R::Int, NONE);
pub(super) const security: Sig = s(C::Other, R::Int, NONE);
pub(super) const vserver: Sig = s(C::Other, R::Int, NONE);
