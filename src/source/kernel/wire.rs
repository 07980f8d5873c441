//! `model::raw` against the types libbpf-cargo generates from the kernel
//! program's BTF: a change to systrace.h that raw.rs does not mirror stops
//! the build here. Both builds of the program are checked (they share the
//! header, but are compiled apart).

use std::mem::{offset_of, size_of};

use crate::model::raw::{
    Cap, Plan, WireCall, WireIdent, WireShort, CAP_ARGV, CAP_ARR, CAP_BUF_IN, CAP_BUF_OUT, CAP_IOV,
    CAP_MEM, CAP_MSGHDR, CAP_NONE, CAP_SOCKADDR, CAP_SOCKADDR_OUT, CAP_STR, CHUNK_HEAD, COMM_LEN,
    F_NO_RETURN, F_TRUNCATED, K_CALL, K_IDENT, K_SHORT, LEN_RET, MAX_CAPS, P_AT_ENTER,
    P_NARGS_SHIFT, P_NO_RETURN, P_REFRESH, W_ALWAYS, W_OK, W_RET, W_RET_BYTES,
};

/// Same size, and every named field at the same offset.
macro_rules! same_layout {
    ($rust:ty, $c:ty { $($field:ident),+ $(,)? }) => {
        const _: () = {
            assert!(
                size_of::<$rust>() == size_of::<$c>(),
                concat!(stringify!($rust), " and ", stringify!($c), " differ in size")
            );
            $(assert!(
                offset_of!($rust, $field) == offset_of!($c, $field),
                concat!(stringify!($rust), ".", stringify!($field), " is not where the C has it")
            );)+
        };
    };
}

/// Each Rust constant equals the C enum's value of that name.
macro_rules! same_values {
    ($c:ty { $($rust:expr => $name:ident),+ $(,)? }) => {
        const _: () = {
            $(assert!(
                $rust as u32 == <$c>::$name.0,
                concat!(stringify!($rust), " is not ", stringify!($name))
            );)+
        };
    };
}

macro_rules! check {
    ($t:path) => {
        const _: () = {
            use $t as t;

            same_layout!(
                WireCall,
                t::st_event {
                    kind,
                    flags,
                    tail_len,
                    tid,
                    gen,
                    nr,
                    context_sw,
                    start_ns,
                    finish_ns,
                    args,
                    ret,
                }
            );
            // `pad` is `_pad` in C (offset_of! takes no renaming).
            assert!(offset_of!(WireCall, pad) == offset_of!(t::st_event, _pad));
            same_layout!(
                WireShort,
                t::st_short {
                    kind,
                    flags,
                    nargs,
                    tid,
                    gen,
                    nr,
                    context_sw,
                    start_ns,
                    finish_ns,
                    ret,
                    args,
                }
            );
            assert!(offset_of!(WireShort, pad) == offset_of!(t::st_short, _pad));
            same_layout!(
                WireIdent,
                t::st_ident {
                    kind,
                    tid,
                    gen,
                    pid,
                    cgroup_id,
                    uid,
                    gid,
                    ns_pid,
                    session,
                    pid_ns,
                    mnt_ns,
                    uts_ns,
                    ipc_ns,
                    cgroup_ns,
                    net_ns,
                    comm,
                }
            );
            assert!(offset_of!(WireIdent, pad) == offset_of!(t::st_ident, _pad));
            same_layout!(
                Cap,
                t::st_cap {
                    kind,
                    arg,
                    len_arg,
                    at_enter,
                    size,
                    max,
                    when
                }
            );
            same_layout!(Plan, t::st_plan { caps, flags });
            // The tail's chunk header is parsed by hand (`Chunks`): u16 length,
            // argument, kind.
            assert!(size_of::<t::st_chunk>() == CHUNK_HEAD);
            assert!(offset_of!(t::st_chunk, len) == 0);
            assert!(offset_of!(t::st_chunk, arg) == 2);
            assert!(offset_of!(t::st_chunk, kind) == 3);

            same_values!(t::st_limit {
                COMM_LEN => ST_COMM_LEN,
                MAX_CAPS => ST_MAX_CAPS,
                LEN_RET => ST_LEN_RET,
            });
            same_values!(t::st_record_kind {
                K_CALL => ST_K_CALL,
                K_IDENT => ST_K_IDENT,
                K_SHORT => ST_K_SHORT,
            });
            same_values!(t::st_event_flag {
                F_NO_RETURN => ST_F_NO_RETURN,
                F_TRUNCATED => ST_F_TRUNCATED,
            });
            same_values!(t::st_cap_kind {
                CAP_NONE => ST_CAP_NONE,
                CAP_STR => ST_CAP_STR,
                CAP_ARGV => ST_CAP_ARGV,
                CAP_BUF_IN => ST_CAP_BUF_IN,
                CAP_BUF_OUT => ST_CAP_BUF_OUT,
                CAP_SOCKADDR => ST_CAP_SOCKADDR,
                CAP_SOCKADDR_OUT => ST_CAP_SOCKADDR_OUT,
                CAP_MEM => ST_CAP_MEM,
                CAP_ARR => ST_CAP_ARR,
                CAP_IOV => ST_CAP_IOV,
                CAP_MSGHDR => ST_CAP_MSGHDR,
            });
            same_values!(t::st_when {
                W_ALWAYS => ST_W_ALWAYS,
                W_OK => ST_W_OK,
                W_RET => ST_W_RET,
                W_RET_BYTES => ST_W_RET_BYTES,
            });
            same_values!(t::st_plan_flag {
                P_NO_RETURN => ST_P_NO_RETURN,
                P_REFRESH => ST_P_REFRESH,
                P_AT_ENTER => ST_P_AT_ENTER,
                P_NARGS_SHIFT => ST_P_NARGS_SHIFT,
            });
        };
    };
}

check!(super::loader::skel::types);
check!(super::loader::skel_compat::types);
