/* The one wire format between the kernel program and user space.
 * Mirrored once in src/model/raw.rs; src/source/kernel/wire.rs fails the
 * build when the two differ. Binary session files (*.strc) hold these
 * records as they are: a change here is a new binary session version
 * (src/session/binary.rs). */
#ifndef SYSTRACE_H
#define SYSTRACE_H

/* The constants are enums, not #defines: the program keeps a variable of
 * each enum type (`st_wire` in systrace.bpf.c), so they reach the object's
 * BTF and the Rust types generated from it, against which
 * src/source/kernel/wire.rs checks src/model/raw.rs at compile time. */

enum st_limit {
	ST_COMM_LEN = 16,
	ST_MAX_CAPS = 4,
	ST_MAX_ARGV = 16,
	ST_MAX_IOV = 8,
	ST_LEN_RET = 0xff, /* len_arg: the count is the return value */
};

/* Record flags */
enum st_event_flag {
	ST_F_NO_RETURN = 0x1, /* emitted at sys_enter: exit/exit_group */
	ST_F_TRUNCATED = 0x2, /* a captured string/buffer was cut short */
};

/* Capture plan per syscall number (map `plans`): what to copy from user
 * memory. User space fills it from the syscall signature table, so the
 * knowledge of which syscall has which pointer lives in one place. */
enum st_cap_kind {
	ST_CAP_NONE = 0,
	ST_CAP_STR = 1,	 /* NUL-terminated string (path) */
	ST_CAP_ARGV = 2,	 /* char *const argv[]: strings, NUL separated */
	ST_CAP_BUF_IN = 3,	 /* buffer, length in arg `len_arg` */
	ST_CAP_BUF_OUT = 4,	 /* buffer filled by the kernel, length = return */
	ST_CAP_SOCKADDR = 5,	 /* struct sockaddr, length in arg `len_arg` */
	ST_CAP_SOCKADDR_OUT = 6, /* struct sockaddr filled by the kernel, length
				  * read at exit through the pointer in `len_arg` */
	ST_CAP_MEM = 7,		 /* a structure: `size` bytes */
	ST_CAP_ARR = 8,		 /* an array of `size`-byte elements, at most `max`;
				  * the count is in arg `len_arg`, or the return value */
	ST_CAP_IOV = 9,		 /* struct iovec[arg `len_arg`], then each element's
				  * bytes (at most buf_max each; at most the return
				  * value in all when `when` is ST_W_RET) */
	ST_CAP_MSGHDR = 10,	 /* struct msghdr, its name, iovec array and data as
				  * ST_CAP_IOV */
};

/* When a MEM/ARR/IOV capture is taken (the decoder decides what to show). */
enum st_when {
	ST_W_ALWAYS = 0,    /* an input: whatever the call returned */
	ST_W_OK = 1,	    /* an output: only when the call succeeded */
	ST_W_RET = 2,	    /* an output of `ret` bytes / elements (ret > 0) */
	ST_W_RET_BYTES = 3, /* ST_CAP_MEM: an output of min(ret, size) bytes (ret > 0) */
};

struct st_cap {
	unsigned char kind;
	unsigned char arg;
	unsigned char len_arg;
	unsigned char at_enter; /* copy at sys_enter (execve: old mm gone at exit;
				 * select: its sets are overwritten) */
	unsigned short size;    /* MEM: bytes; ARR: bytes per element */
	unsigned char max;      /* ARR: most elements copied */
	unsigned char when;     /* ST_W_* */
};

/* Plan flags */
enum st_plan_flag {
	ST_P_NO_RETURN = 0x1, /* never reaches sys_exit: emit at enter */
	ST_P_REFRESH = 0x2,   /* may change namespaces/session/pid: re-read them */
	ST_P_AT_ENTER = 0x4,  /* some cap is copied at sys_enter */
	/* flags >> ST_P_NARGS_SHIFT: 1 + the number of arguments the call
	 * takes (0: not known, all six are sent) */
	ST_P_NARGS_SHIFT = 8,
};

/* caps[] is filled from the front: caps[0].kind == ST_CAP_NONE means no
 * capture at all (the fast path). */
struct st_plan {
	struct st_cap caps[ST_MAX_CAPS];
	unsigned int flags;
};

/* Each captured item in the variable tail starts with this header. */
struct st_chunk {
	unsigned short len;   /* bytes that follow */
	unsigned char arg;    /* argument index the data belongs to */
	unsigned char kind;   /* ST_CAP_* */
};

/* Record kinds: the first u16 of every ring-buffer record. */
enum st_record_kind {
	ST_K_CALL = 1,	/* struct st_event (+ tail) */
	ST_K_IDENT = 2, /* struct st_ident */
	ST_K_SHORT = 3, /* struct st_short, cut after its nargs arguments */
};

/* Fixed part of every syscall record; captured chunks follow it (tail_len
 * bytes). Who made the call beyond its thread id (process, credentials,
 * namespaces, cgroup, command name) is sent apart, in an st_ident record
 * that comes before the first call made under it: `gen` names it. */
struct st_event {
	unsigned short kind; /* ST_K_CALL */
	unsigned short flags;
	unsigned short tail_len;
	unsigned short _pad;
	unsigned int tid;
	unsigned int gen;        /* the identity of `tid` this call was made under */
	unsigned int nr;
	unsigned int context_sw; /* context switches during the call */
	unsigned long long start_ns;
	unsigned long long finish_ns;
	unsigned long long args[6];
	long long ret;
};

/* A call without captured data, cut after the arguments the call takes:
 * 48 + 8 * nargs bytes instead of 96 (a getppid is 48). Half the bytes
 * written into the ring is a third less time reserving and filling them. */
struct st_short {
	unsigned short kind; /* ST_K_SHORT */
	unsigned short flags;
	unsigned short nargs;
	unsigned short _pad;
	unsigned int tid;
	unsigned int gen;
	unsigned int nr;
	unsigned int context_sw;
	unsigned long long start_ns;
	unsigned long long finish_ns;
	long long ret;
	unsigned long long args[6];
};

/* A thread's identity, sent when it is first seen and whenever a part of
 * it changed (exec, setns, unshare, setsid, set*id, a new cgroup or command
 * name): generation `gen` of thread `tid`. */
struct st_ident {
	unsigned short kind; /* ST_K_IDENT */
	unsigned short _pad;
	unsigned int tid;
	unsigned int gen;
	unsigned int pid; /* tgid, host pid namespace */
	unsigned long long cgroup_id;
	unsigned int uid;
	unsigned int gid;
	unsigned int ns_pid; /* tgid as seen in its own pid namespace */
	unsigned int session;
	unsigned int pid_ns;
	unsigned int mnt_ns;
	unsigned int uts_ns;
	unsigned int ipc_ns;
	unsigned int cgroup_ns;
	unsigned int net_ns;
	char comm[ST_COMM_LEN];
};

/* Never read or written: one variable of each wire type and enum, so all
 * of them reach the BTF (a type the program does not use is left out). */
struct st_wire {
	enum st_limit limit;
	enum st_event_flag event_flag;
	enum st_cap_kind cap_kind;
	enum st_when when;
	enum st_plan_flag plan_flag;
	enum st_record_kind record_kind;
	struct st_chunk chunk;
	struct st_event call;
	struct st_short short_call;
	struct st_ident ident;
};

/* In-kernel aggregation (map `agg`, per CPU): one entry per (cgroup,
 * syscall, errno), counted at sys_exit without a ring-buffer record.
 * Mirrored in src/source/kernel/aggregate.rs. */
#define ST_MODE_STREAM 0 /* every call as a record (no aggregation) */
#define ST_MODE_AGG 1    /* aggregation only */
#define ST_MODE_DRILL 2  /* aggregation, and records for the drill-down set */

/* Latency buckets: 4 per power of two (log-linear), [0,4) exact; the last
 * bucket holds everything from 2^33 ns (8.6 s) on. */
#define ST_AGG_BUCKETS 128

struct st_agg_key {
	unsigned long long cgroup_id;
	unsigned int nr;
	unsigned int err; /* errno of a failed call, 0 for success */
};

struct st_agg_val {
	unsigned long long count;
	unsigned long long total_ns;
	unsigned long long max_ns;
	/* u32: user space reads on a timer and takes differences modulo 2^32 */
	unsigned int hist[ST_AGG_BUCKETS];
};

/* Per CPU: calls aggregation could not count in its map (it was full),
 * and exits whose enter was never seen (in flight when tracing started). */
struct st_agg_misses {
	unsigned long long full;
	unsigned long long unentered;
};

#endif
