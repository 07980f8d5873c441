// SPDX-License-Identifier: GPL-2.0
/* Syscall capture at raw_syscalls sys_enter / sys_exit.
 *
 * Enter stores start time, args and context-switch count in task-local
 * storage (no hash map on the hot path); exit emits one record per completed
 * syscall into a ring buffer. Wake-ups are batched: user space is only woken
 * when the ring passes a fill threshold, otherwise it drains on a timer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "systrace.h"

char LICENSE[] SEC("license") = "GPL";

#define TAIL_MAX 8192 /* power of two: offsets are masked with it */
#define STR_MAX 4096  /* PATH_MAX */
#define BUF_MAX 4096
#define ARGV_STR_MAX 1024 /* per argv entry */
#define SOCKADDR_MAX 128  /* sizeof(struct sockaddr_storage) */
#define MAX_NR 1024

/* Profiling builds only (examples/bpfprof.rs, cargo feature "profile"):
 * ST_ABL=N cuts the syscall hot path after part N (5: counting's sys_exit
 * before the map update), so each part's cost is
 * a difference of two builds; ST_ABL_NO_CLOCK reads no clock,
 * ST_ABL_NO_QUERY submits without asking the ring's fill; ST_STAGE
 * (ST_STAGE_BYTES) gathers the fast path's records per CPU and writes them
 * to the ring in chunks (see stage_room; ST_STAGE_NO_FLUSH drops the chunks
 * instead, to time the staging alone). The shipped programs define
 * none of them. */
#ifndef ST_ABL
#define ST_ABL 99
#endif
#ifdef ST_ABL_NO_CLOCK
#define ST_NOW() 0
#else
#define ST_NOW() bpf_ktime_get_ns()
#endif

/* Set before load. */
const volatile u64 self_ns_dev = 0;
const volatile u64 self_ns_ino = 0;
const volatile u32 self_ns_tgid = 0;
const volatile u32 buf_max = 64;
/* --cgroup: only tasks in this cgroup v2 subtree (its id, and its depth
 * below the root). Fixed before load: when 0, the verifier removes the
 * test, so an unscoped run pays nothing for it. */
const volatile u64 scope_cgroup = 0;
const volatile u32 scope_level = 0;
/* Counts without times (-q: nothing shows a time). Each call is counted
 * at its exit from the registers, with no clock read and no state kept
 * from its enter; enter counts only the calls that never return. Fixed
 * before load: every other run pays nothing for it. */
const volatile u32 untimed = 0;

/* See struct st_wire in systrace.h. */
struct st_wire st_wire = {};

/* Changed at run time by user space. */
u32 self_tgid = 0; /* host tgid of the tracer, learnt on its first syscall */
u32 filter_pid_on = 0;
u32 filter_cgroup_on = 0;
/* With the cgroup filter on: cgroups with a larger id than this pass too
 * (0: none). Cgroup ids only grow, so these are the cgroups made since
 * user space last looked: a container that starts and exits before it
 * could be named still reaches the topology, which then narrows the set. */
u64 filter_cgroup_after = 0;
u32 filter_nr_on = 0;
u64 nr_bits[MAX_NR / 64] = {};
u64 wake_bytes = 1 << 20; /* wake the reader once this much is queued */
/* ST_MODE_*: what sys_exit does with a call (read at every exit). */
u32 agg_mode = ST_MODE_STREAM;
/* Tasks marked excluded by sched_process_fork and not yet exited. */
s64 excluded_live = 0;
/* ST_MODE_DRILL: records only for these cgroups / syscalls (when on). */
u32 drill_cgroup_on = 0;
/* Bumped by user space at every change of agg_mode or the drill-down set:
 * an enter->exit slot (agg_slots) from before a change is not used. */
u32 agg_epoch = 0;
u32 drill_nr_on = 0;
u64 drill_nr_bits[MAX_NR / 64] = {};
/* A drill-down set of up to DRILL_FEW cgroups (a pod's containers) is also
 * here, compared in place: every other pod's calls then pay a few
 * comparisons at enter instead of a hash lookup. 0: look in the hash. */
#define DRILL_FEW 8
u32 drill_cg_few = 0;
u64 drill_cg_list[DRILL_FEW] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Failed ring-buffer writes, per CPU: reported as lost events. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_NR);
	__type(key, u32);
	__type(value, struct st_plan);
} plans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, u8);
} pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, u8);
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, u8);
} drill_cgroups SEC(".maps");

/* Counted calls: `agg` maps (cgroup, syscall, errno) to a slot of
 * `agg_cells`, the per-CPU counters. A slot is taken from `agg_free`
 * (filled with every slot number by user space after load) when a key is
 * first seen and never given back, so user space reads a key's counters
 * at one place for the maps' whole life. Most calls never reach the hash:
 * each CPU remembers the slot of the last key per syscall number
 * (agg_slot.hint), and an array lookup finds the counters. The sizes are
 * set by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct st_agg_key);
	__type(value, u32);
} agg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, struct st_agg_val);
} agg_cells SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16384);
	__type(value, u32);
} agg_free SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct st_agg_misses);
} agg_misses SEC(".maps");

/* A counted call's enter->exit state kept on the CPU as well, for the
 * exit that follows without the task having left it (nearly every call
 * that does not block): an inlined array lookup there instead of a
 * task-storage helper call. It names the task by thread id, start time
 * and context-switch count: a task switched out since its enter has a
 * higher count (and whatever entered meanwhile names another task), so it
 * takes task storage as before. An exit that uses it clears it; one that
 * does not (streaming) leaves it stale, but under an older agg_epoch. */
/* Where a key's counters are (see `agg`): slot + 1, 0 for none yet. */
struct agg_hint {
	u64 cgroup_id;
	u32 nr;
	u32 err;
	u32 slot1;
	u32 _pad;
};

#define AGG_HINTS 64 /* per CPU, by syscall number: power of two */

struct agg_slot {
	u64 task_start;
	u64 csw;
	u64 start_ns;
	u32 tid;
	u32 nr;
	u32 epoch;
	u32 _pad;
	struct agg_hint hint[AGG_HINTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct agg_slot);
} agg_slots SEC(".maps");

/* Per task: the syscall in flight plus identity that only changes through
 * a few syscalls (setns, unshare, setsid, execve), so it is read once and
 * refreshed after those instead of on every event. */
struct task_state {
	u64 start_ns;
	u64 args[6];
	u64 csw;
	u32 nr;
	u32 active;
	u32 full; /* this call is streamed as a record, not only counted */
	u32 excluded; /* started by the tracer or a task it started */
	u32 ident_valid;
	u32 ns_pid;
	u32 session;
	u32 pid_ns;
	u32 mnt_ns;
	u32 uts_ns;
	u32 ipc_ns;
	u32 cgroup_ns;
	u32 net_ns;
	/* What the last st_ident sent said (valid while `sent`); compared
	 * at every record, a change sends a new generation. */
	u32 gen;
	u32 sent;
	u64 pid_tgid;
	u64 ugid;
	u64 cg;
	u64 comm[2];
};

#ifdef ST_COMPAT
/* Before 5.11 there is no task storage: a hash keyed by thread id, its
 * entry removed when the thread exits (sched_process_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 17);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, u32);
	__type(value, struct task_state);
} tasks SEC(".maps");
#else
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");
#endif

/* A record being assembled: header followed by room for captured data. The
 * tail has room past TAIL_MAX so a masked offset plus one bounded copy
 * always stays inside it. */
struct scratch {
	struct st_event ev;
	u8 tail[TAIL_MAX * 3];
	u32 have; /* exec at enter: bit i set when caps[i] needs nothing more */
	u32 fl;   /* capture(): record flags gathered so far */
	u32 done; /* capture(): nothing left to copy for this cap */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scratch);
} scratch_buf SEC(".maps");

/* execve's path and argv, held from sys_enter until exit. A read at enter
 * fails on pages not mapped yet (a fresh fork's parent data, a file page
 * never touched); sched_process_exec fills in what is missing from the
 * kernel's copy, a failed exec retries at exit. Keyed by tid; an exec from
 * a non-leader thread is re-keyed to the pid it continues under. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, u32);
	__type(value, struct scratch);
} pending SEC(".maps");

/* Records written per CPU since the ring's fill was last asked. Asking
 * reads the reader's position, a cache line the reader keeps writing: once
 * every QUERY_EVERY records is enough for a wake-up threshold of megabytes. */
#define QUERY_EVERY 32
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} since_query SEC(".maps");

/* The submit flag: wake the reader only when the ring holds wake_bytes. */
static __always_inline u64 wake_flag(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&since_query, &zero);
	if (n) {
		*n += 1;
		if (*n & (QUERY_EVERY - 1))
			return BPF_RB_NO_WAKEUP;
	}
	u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wake_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_lost_n(u64 calls)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += calls;
}

static __always_inline void count_lost(void)
{
	count_lost_n(1);
}

#ifdef ST_STAGE
/* Profiling build only: the fast path's short records (and the identity
 * records it sends) are appended to a per-CPU staging buffer, and the
 * buffer goes to the ring as one record (bpf_ringbuf_output) when the next
 * record would not fit: one reserve and commit per chunk instead of per
 * call. A chunk is its 8-byte head (kind ST_K_CHUNK, the calls in it, the
 * bytes after the head) followed by the records back to back, each 8-byte
 * aligned and sized by its own kind (st_short: nargs; st_ident: fixed).
 * Nothing flushes an idle CPU's leftovers and user space does not parse
 * chunks: this build is for measuring the kernel side (examples/bpfprof). */
#ifndef ST_STAGE_BYTES
#define ST_STAGE_BYTES 4096 /* power of two */
#endif
#define ST_K_CHUNK 4
#define STAGE_MASK ((ST_STAGE_BYTES - 1) & ~7)
struct stage {
	u16 kind;  /* ST_K_CHUNK */
	u16 calls; /* call records in buf, for the loss count */
	u32 len;   /* bytes used in buf */
	/* Room past ST_STAGE_BYTES for the largest record (96 bytes), so a
	 * masked offset plus a constant size stays inside for the verifier. */
	u8 buf[ST_STAGE_BYTES + 96];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct stage);
} stage_buf SEC(".maps");

static __always_inline void stage_flush(struct stage *st, u32 len)
{
#ifdef ST_STAGE_NO_FLUSH
	/* The chunk dropped instead of written: the staging's own cost. */
	st->len = 0;
	st->calls = 0;
	return;
#endif
	if (len > ST_STAGE_BYTES)
		len = ST_STAGE_BYTES;
	st->kind = ST_K_CHUNK;
	st->len = len;
	if (bpf_ringbuf_output(&events, st, 8 + len, wake_flag()) != 0)
		count_lost_n(st->calls);
	st->len = 0;
	st->calls = 0;
}

/* Room for a record of `sz` bytes (a constant, a multiple of 8) in the
 * CPU's staging buffer, flushing it first when the record would not fit. */
static __always_inline void *stage_room(struct stage *st, u32 sz)
{
	u32 len = st->len;
	if (len > ST_STAGE_BYTES - sz) {
		stage_flush(st, len);
		len = 0;
	}
	barrier_var(len);
	len &= STAGE_MASK; /* a no-op the verifier can see */
	st->len = len + sz;
	return st->buf + len;
}

static __always_inline struct stage *stage_get(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&stage_buf, &zero);
}
#endif

#ifdef ST_COMPAT
/* The compat build (5.8 to 5.16) has no BTF task pointer: the current task
 * is a plain address read through CO-RE helpers, and its state is found by
 * thread id. */
static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

static __always_inline struct task_state *task_state_get(struct task_struct *task, u32 tid,
							 bool create)
{
	struct task_state *ts = bpf_map_lookup_elem(&tasks, &tid);
	if (ts || !create)
		return ts;
	struct task_state fresh = {};
	if (bpf_map_update_elem(&tasks, &tid, &fresh, BPF_NOEXIST) != 0) {
		count_lost(); /* the map is full: this thread goes untraced */
		return NULL;
	}
	return bpf_map_lookup_elem(&tasks, &tid);
}

static __always_inline u32 task_tid(struct task_struct *task)
{
	return BPF_CORE_READ(task, pid);
}

static __always_inline u64 task_pid_tgid(struct task_struct *task)
{
	return bpf_get_current_pid_tgid();
}

static __always_inline u64 task_cgroup_id(struct task_struct *task)
{
	return bpf_get_current_cgroup_id();
}

static __always_inline u64 task_uid_gid(struct task_struct *task)
{
	return bpf_get_current_uid_gid();
}
#else
static __always_inline struct task_struct *current_task(void)
{
	return bpf_get_current_task_btf();
}

/* `tid` is unused: task storage hangs off the task itself. */
static __always_inline struct task_state *task_state_get(struct task_struct *task, u32 tid,
							 bool create)
{
	return bpf_task_storage_get(&tasks, task, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline u32 task_tid(struct task_struct *task)
{
	return task->pid;
}

/* What bpf_get_current_pid_tgid(), _cgroup_id() and _uid_gid() return,
 * read as plain loads through the BTF task pointer: a helper call each
 * costs more than the loads, and these run at every call. */
static __always_inline u64 task_pid_tgid(struct task_struct *task)
{
	return (u64)task->tgid << 32 | (u32)task->pid;
}

static __always_inline u64 task_cgroup_id(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

static __always_inline u64 task_uid_gid(struct task_struct *task)
{
	const struct cred *c = task->cred;
	return (u64)c->gid.val << 32 | c->uid.val;
}
#endif

/* The capture plan of call `nr`: none for a number past the table. The map
 * is indexed by nr & (MAX_NR - 1), and a wrapped number is not the call
 * whose plan it would find (its captures, argument count, no-return). */
static __always_inline struct st_plan *plan_of(u32 nr)
{
	u32 key = nr & (MAX_NR - 1);
	if (nr >= MAX_NR)
		return NULL;
	return bpf_map_lookup_elem(&plans, &key);
}

static __always_inline bool is_self(u32 tgid)
{
	if (self_tgid)
		return tgid == self_tgid;
	/* Not learnt yet: compare inside the tracer's own pid namespace, since
	 * its getpid() there says nothing about its host pid. */
	struct bpf_pidns_info ns = {};
	if (bpf_get_ns_current_pid_tgid(self_ns_dev, self_ns_ino, &ns, sizeof(ns)) == 0 &&
	    ns.tgid == self_ns_tgid) {
		self_tgid = tgid;
		return true;
	}
	return false;
}

/* The user's filters. Checked at enter, and again at exit so that a call
 * that entered before a filter changed cannot slip through. */
static __always_inline bool filter_ok(struct task_struct *task, u32 tgid, u32 nr)
{
	if (scope_cgroup && bpf_get_current_ancestor_cgroup_id(scope_level) != scope_cgroup)
		return false;
	if (filter_pid_on && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	if (filter_cgroup_on) {
		u64 cg = task_cgroup_id(task);
		if (!bpf_map_lookup_elem(&cgroup_filter, &cg) &&
		    !(filter_cgroup_after && cg > filter_cgroup_after))
			return false;
	}
	if (filter_nr_on) {
		if (nr >= MAX_NR)
			return false;
		u32 i = nr;
		barrier_var(i); /* keep the mask: the verifier needs to see the bound */
		i &= MAX_NR - 1;
		if (!(nr_bits[i >> 6] & (1ULL << (i & 63))))
			return false;
	}
	return true;
}

static __always_inline bool wanted(struct task_struct *task, u32 tgid, u32 nr)
{
	return !is_self(tgid) && filter_ok(task, tgid, nr);
}

/* Started by the tracer or a task it started (sched_process_fork marks
 * them; only tasks with state can be). While none is alive, which is most
 * of the time, no task's state is looked up for it. */
static __always_inline bool excluded(struct task_struct *task, u32 tid)
{
	if (!excluded_live)
		return false;
	struct task_state *ts = task_state_get(task, tid, false);
	return ts && ts->excluded;
}

static __always_inline void read_ident(struct task_struct *task, struct task_state *ts)
{
	struct pid *tp = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct upid up = {};
	bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]);
	ts->ns_pid = up.nr;
	ts->pid_ns = BPF_CORE_READ(up.ns, ns.inum);
	struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
	ts->mnt_ns = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
	ts->uts_ns = BPF_CORE_READ(nsp, uts_ns, ns.inum);
	ts->ipc_ns = BPF_CORE_READ(nsp, ipc_ns, ns.inum);
	ts->cgroup_ns = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
	ts->net_ns = BPF_CORE_READ(nsp, net_ns, ns.inum);
	struct pid *sid = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID]);
	ts->session = BPF_CORE_READ(sid, numbers[0].nr);
	ts->ident_valid = 1;
	ts->sent = 0;
}

/* `task` comes from bpf_get_current_task_btf(): plain loads, no helper calls. */
static __always_inline u64 ctx_switches(struct task_struct *task)
{
#ifdef ST_COMPAT
	return BPF_CORE_READ(task, nvcsw) + BPF_CORE_READ(task, nivcsw);
#else
	return task->nvcsw + task->nivcsw;
#endif
}

#if defined(__TARGET_ARCH_arm64)
/* The committed vmlinux.h is x86's. Everything else this program reads is
 * relocated by name at load time (CO-RE), but the register file is not: on
 * arm64 pt_regs starts with the UAPI user_pt_regs, whose layout is ABI. */
struct st_user_pt_regs {
	u64 regs[31];
	u64 sp;
	u64 pc;
	u64 pstate;
};
#endif

static __always_inline void read_args(struct pt_regs *regs, u64 *args)
{
#if defined(__TARGET_ARCH_arm64)
	bpf_probe_read_kernel(args, 6 * sizeof(u64), &((struct st_user_pt_regs *)regs)->regs[0]);
#else
	/* A tp_btf argument is a typed kernel pointer: plain loads, no helper. */
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
#endif
}

/* The command name as two words (the record compares, not prints, it). */
static __always_inline void comm_words(struct task_struct *task, u64 *w)
{
#ifdef ST_COMPAT
	bpf_get_current_comm(w, 2 * sizeof(u64));
#else
	/* Two plain loads from the BTF task pointer instead of a helper call. */
	__builtin_memcpy(w, task->comm, 2 * sizeof(u64));
#endif
}

/* Makes sure user space knows who is calling before a call record goes
 * out: compares what may change behind the task's back (credentials,
 * cgroup, command name) with what was last sent, and sends a new
 * generation when anything differs. False when that record could not be
 * written: the caller drops its call and counts it lost, so no call ever
 * arrives under an identity user space has not seen. */
#ifdef ST_STAGE
#define ident_sync(task, ts, pid_tgid) ident_sync_to(task, ts, pid_tgid, NULL)
/* `st`: the staging buffer the record goes to, NULL for the ring. */
static __always_inline bool ident_sync_to(struct task_struct *task, struct task_state *ts,
					  u64 pid_tgid, struct stage *st)
#else
static __always_inline bool ident_sync(struct task_struct *task, struct task_state *ts,
				       u64 pid_tgid)
#endif
{
	u64 ugid = task_uid_gid(task);
	u64 cg = task_cgroup_id(task);
	u64 comm[2];
	comm_words(task, comm);
	if (ts->sent && ts->pid_tgid == pid_tgid && ts->ugid == ugid && ts->cg == cg &&
	    ts->comm[0] == comm[0] && ts->comm[1] == comm[1])
		return true;
	if (!ts->ident_valid)
		read_ident(task, ts);
	ts->pid_tgid = pid_tgid;
	ts->ugid = ugid;
	ts->cg = cg;
	ts->comm[0] = comm[0];
	ts->comm[1] = comm[1];
	ts->gen += 1;
	ts->sent = 0;
#ifdef ST_STAGE
	struct st_ident *id = st ? stage_room(st, sizeof(*id))
				 : bpf_ringbuf_reserve(&events, sizeof(*id), 0);
#else
	struct st_ident *id = bpf_ringbuf_reserve(&events, sizeof(*id), 0);
#endif
	if (!id)
		return false;
	id->kind = ST_K_IDENT;
	id->_pad = 0;
	id->tid = (u32)pid_tgid;
	id->gen = ts->gen;
	id->pid = pid_tgid >> 32;
	id->cgroup_id = cg;
	id->uid = (u32)ugid;
	id->gid = ugid >> 32;
	id->ns_pid = ts->ns_pid;
	id->session = ts->session;
	id->pid_ns = ts->pid_ns;
	id->mnt_ns = ts->mnt_ns;
	id->uts_ns = ts->uts_ns;
	id->ipc_ns = ts->ipc_ns;
	id->cgroup_ns = ts->cgroup_ns;
	id->net_ns = ts->net_ns;
	__builtin_memcpy(id->comm, comm, sizeof(comm));
#ifdef ST_STAGE
	if (!st)
#endif
		bpf_ringbuf_submit(id, BPF_RB_NO_WAKEUP);
	ts->sent = 1;
	return true;
}

static __always_inline void fill_header(struct st_event *ev, struct task_state *ts, u64 pid_tgid,
					u32 nr, u64 now, u64 csw_now)
{
	ev->kind = ST_K_CALL;
	ev->flags = 0;
	ev->tail_len = 0;
	ev->_pad = 0;
	ev->tid = (u32)pid_tgid;
	ev->gen = ts->gen;
	ev->nr = nr;
	ev->context_sw = csw_now - ts->csw;
	ev->start_ns = ts->start_ns;
	ev->finish_ns = now;
	__builtin_memcpy(ev->args, ts->args, sizeof(ev->args));
}

static __always_inline void fill_short(struct st_short *ev, struct task_state *ts, u64 pid_tgid,
				       u32 nr, u64 now, u64 csw_now, s64 ret, u16 nargs)
{
	ev->kind = ST_K_SHORT;
	ev->flags = 0;
	ev->nargs = nargs;
	ev->_pad = 0;
	ev->tid = (u32)pid_tgid;
	ev->gen = ts->gen;
	ev->nr = nr;
	ev->context_sw = csw_now - ts->csw;
	ev->start_ns = ts->start_ns;
	ev->finish_ns = now;
	ev->ret = ret;
}

/* One case of the switch on (1 + argument count): the reserved size must
 * be a constant for the verifier. */
#ifdef ST_STAGE
#define EMIT_SHORT(N)                                                                   \
	case (N) + 1: {                                                                 \
		struct st_short *sv =                                                   \
			stage_room(st, __builtin_offsetof(struct st_short, args) + 8 * (N)); \
		fill_short(sv, ts, pid_tgid, nr, now, csw, ret, N);                     \
		__builtin_memcpy(sv->args, ts->args, 8 * (N));                          \
		st->calls += 1;                                                         \
		return 0;                                                               \
	}
#else
#define EMIT_SHORT(N)                                                                   \
	case (N) + 1: {                                                                 \
		struct st_short *sv = bpf_ringbuf_reserve(                              \
			&events, __builtin_offsetof(struct st_short, args) + 8 * (N), 0); \
		if (!sv) {                                                              \
			count_lost();                                                   \
			return 0;                                                       \
		}                                                                       \
		fill_short(sv, ts, pid_tgid, nr, now, csw, ret, N);                     \
		__builtin_memcpy(sv->args, ts->args, 8 * (N));                          \
		bpf_ringbuf_submit(sv, wake_flag());                                    \
		return 0;                                                               \
	}
#endif

struct st_iovec {
	u64 base;
	u64 len;
};

/* The layout of a struct msghdr in user memory (64-bit ABIs). */
struct st_msghdr {
	u64 name;
	u32 namelen;
	u32 pad0;
	u64 iov;
	u64 iovlen;
	u64 control;
	u64 controllen;
	u32 flags;
	u32 pad1;
};

#define IOV_DATA_MAX 2048 /* bytes of iovec data per chunk */

struct iov_ctx {
	u8 *dst;
	u32 at;   /* where the iovec array starts in dst */
	u32 used; /* bytes of dst written */
	u64 left; /* bytes the call moved that are not accounted for yet */
	u64 cnt;
};

/* Copies element i's bytes after what is already in the chunk. */
static long iov_step(u64 i, void *data)
{
	struct iov_ctx *c = data;
	if (i >= c->cnt || c->used > IOV_DATA_MAX + 512)
		return 1;
	u8 *dst = c->dst;
	struct st_iovec *v = (void *)(dst + ((c->at + i * sizeof(struct st_iovec)) & 511));
	u64 n = v->len;
	if (n > c->left)
		n = c->left;
	if (n > buf_max)
		n = buf_max;
	if (n > BUF_MAX)
		n = BUF_MAX;
	u32 used = c->used;
	barrier_var(used);
	used &= 4095;
	u16 *lenp = (void *)(dst + used);
	if (n && bpf_probe_read_user(dst + used + 2, n & (BUF_MAX * 2 - 1), (const void *)v->base) != 0)
		n = 0;
	*lenp = n;
	c->used = used + 2 + n;
	c->left -= n;
	return 0;
}

#ifdef ST_COMPAT
/* What capture_compat works on, for the global functions it calls (per
 * CPU; a tracing program is not preempted by another): `pend` 1 for this
 * thread's pending exec, else the per-CPU scratch; `off` where the
 * current chunk starts in its tail. */
struct compat_cur {
	u32 pend;
	u32 off;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct compat_cur);
} compat_pend SEC(".maps");

/* iov_step for element i of the current chunk; returns the bytes of the
 * chunk used after it, or `used` when it stopped. */
__noinline u32 iov_compat(u32 i, u32 at, u32 used, u64 left)
{
	u32 zero = 0;
	u32 tid = bpf_get_current_pid_tgid();
	struct compat_cur *cur = bpf_map_lookup_elem(&compat_pend, &zero);
	if (!cur)
		return used;
	struct scratch *s = cur->pend ? bpf_map_lookup_elem(&pending, &tid)
				      : bpf_map_lookup_elem(&scratch_buf, &zero);
	if (!s)
		return used;
	u32 o = cur->off;
	struct iov_ctx c = {
		.dst = s->tail + (o & (TAIL_MAX - 1)) + sizeof(struct st_chunk),
		.at = at,
		.used = used,
		.left = left,
		.cnt = i + 1,
	};
	if (iov_step(i, &c))
		return used;
	return c.used;
}
#endif

/* ST_CAP_IOV: [u32 n][n struct iovec][per element: u16 copied, bytes].
 * ST_CAP_MSGHDR: [struct msghdr][u32 name bytes][name] then the above.
 * Returns the chunk's length, or 0 when nothing could be read. */
static __always_inline long capture_iov(u8 *dst, const struct st_cap *cap, const u64 *args,
					s64 ret, const void *src)
{
	u32 used = 0;
	const void *vec = src;
	u64 cnt = 0;
	if (cap->kind == ST_CAP_MSGHDR) {
		struct st_msghdr *mh = (void *)dst;
		if (bpf_probe_read_user(mh, sizeof(*mh), src) != 0)
			return 0;
		used = sizeof(*mh);
		u32 nl = mh->namelen;
		if (nl > SOCKADDR_MAX || !mh->name)
			nl = 0;
		if (nl && bpf_probe_read_user(dst + used + 4, nl & (SOCKADDR_MAX * 2 - 1),
					      (const void *)mh->name) != 0)
			nl = 0;
		*(u32 *)(dst + used) = nl;
		used += 4 + nl;
		vec = (const void *)mh->iov;
		cnt = mh->iovlen;
	} else {
		if (cap->len_arg >= 6)
			return 0;
		cnt = args[cap->len_arg & 7];
	}
	if (cnt > ST_MAX_IOV)
		cnt = ST_MAX_IOV;
	used &= 255; /* at most sizeof(msghdr) + 4 + SOCKADDR_MAX */
	if (!vec || cnt == 0 ||
	    bpf_probe_read_user(dst + used + 4, (cnt * sizeof(struct st_iovec)) & 255, vec) != 0) {
		*(u32 *)(dst + used) = 0;
		return used + 4;
	}
	*(u32 *)(dst + used) = cnt;
	u32 at = used + 4;
	used = at + cnt * sizeof(struct st_iovec);
	/* An output holds `ret` bytes in all; an input, what each element says. */
	struct iov_ctx c = {
		.dst = dst,
		.at = at,
		.used = used,
		.left = cap->when == ST_W_RET ? (u64)ret : ~0ULL,
		.cnt = cnt,
	};
#ifdef ST_COMPAT
	/* No bpf_loop before 5.17: a loop over a global function, each call
	 * verified once (the step inline multiplies paths past the limits). */
	for (u32 i = 0; i < ST_MAX_IOV && i < cnt; i++) {
		u32 was = c.used;
		u32 now = iov_compat(i, c.at, was, c.left);
		if (now <= was)
			break;
		c.left -= now - was - 2;
		c.used = now;
	}
#else
	/* bpf_loop: the step is verified once, not once per element. */
	bpf_loop(ST_MAX_IOV, iov_step, &c, 0);
#endif
	used = c.used;
	return used;
}

/* Copies one capture into tail at offset `off`; returns the new offset.
 * `done` is set when nothing is left to copy: the data was copied, or
 * there is none (a NULL argv). */
static __always_inline u32 capture_one(u8 *tail, u32 off, const struct st_cap *cap,
				       const u64 *args, s64 ret, u16 *flags, bool *done)
{
	if (cap->kind == ST_CAP_NONE || cap->arg >= 6) {
		*done = true;
		return off;
	}
	if (off >= TAIL_MAX - sizeof(struct st_chunk)) {
		*flags |= ST_F_TRUNCATED;
		return off;
	}
	barrier_var(off);
	off &= TAIL_MAX - 1; /* a no-op the verifier can see */
	struct st_chunk *ch = (void *)(tail + off);
	u8 *dst = tail + off + sizeof(*ch);
	const void *src = (const void *)args[cap->arg & 7];
	long n = 0;
	u64 len = 0;

	switch (cap->kind) {
	case ST_CAP_STR:
		n = bpf_probe_read_user_str(dst, STR_MAX, src);
		if (n <= 0)
			return off;
		if (n == STR_MAX && dst[(STR_MAX - 1) & (STR_MAX - 1)] == 0)
			*flags |= ST_F_TRUNCATED;
		n -= 1; /* drop the NUL */
		break;
	case ST_CAP_BUF_IN:
	case ST_CAP_SOCKADDR:
		if (cap->len_arg >= 6)
			return off;
		len = args[cap->len_arg & 7];
		goto buf;
	case ST_CAP_SOCKADDR_OUT: {
		u32 l = 0;
		if (ret < 0 || cap->len_arg >= 6 ||
		    bpf_probe_read_user(&l, sizeof(l), (const void *)args[cap->len_arg & 7]) != 0)
			return off;
		len = l;
		goto buf;
	}
	case ST_CAP_BUF_OUT:
		if (ret <= 0)
			return off;
		len = ret;
	buf:
		if (cap->kind == ST_CAP_SOCKADDR || cap->kind == ST_CAP_SOCKADDR_OUT) {
			if (len > SOCKADDR_MAX)
				len = SOCKADDR_MAX;
		} else if (len > buf_max) {
			len = buf_max;
			*flags |= ST_F_TRUNCATED;
		}
		if (len > BUF_MAX)
			len = BUF_MAX;
		if (len == 0)
			return off;
		barrier_var(len); /* keep the mask: older verifiers lose the bound */
		if (bpf_probe_read_user(dst, len & (BUF_MAX * 2 - 1), src) != 0)
			return off;
		n = len;
		break;
	case ST_CAP_MEM:
	case ST_CAP_ARR: {
		if (!src || (cap->when == ST_W_OK && ret < 0) ||
		    (cap->when >= ST_W_RET && ret <= 0))
			return off;
		len = cap->size;
		if (cap->when == ST_W_RET_BYTES && (u64)ret < len)
			len = ret;
		if (cap->kind == ST_CAP_ARR) {
			u64 cnt;
			if (cap->len_arg == ST_LEN_RET)
				cnt = ret > 0 ? ret : 0;
			else if (cap->len_arg < 6)
				cnt = args[cap->len_arg & 7];
			else
				return off;
			if (cnt > cap->max)
				cnt = cap->max;
			len = cnt * cap->size;
		}
		if (len == 0)
			return off;
		if (len > BUF_MAX)
			len = BUF_MAX;
		barrier_var(len); /* keep the mask: older verifiers lose the bound */
		if (bpf_probe_read_user(dst, len & (BUF_MAX * 2 - 1), src) != 0)
			return off;
		n = len;
		break;
	}
	case ST_CAP_IOV:
	case ST_CAP_MSGHDR:
		if (!src || (cap->when != ST_W_ALWAYS && ret < 0))
			return off;
		n = capture_iov(dst, cap, args, ret, src);
		if (n <= 0)
			return off;
		break;
	case ST_CAP_ARGV: {
		u32 used = 0;
		if (!src) {
			*done = true;
			return off;
		}
		for (int i = 0; i < ST_MAX_ARGV; i++) {
			const char *p = NULL;
			if (bpf_probe_read_user(&p, sizeof(p), (const void *)((const char **)src + i)) != 0)
				break;
			if (!p) {
				if (i == 0)
					*done = true; /* argv = {NULL} */
				break;
			}
			if (used >= STR_MAX - ARGV_STR_MAX) {
				*flags |= ST_F_TRUNCATED;
				break;
			}
			/* A constant size keeps the verifier's bounds simple. */
			long m = bpf_probe_read_user_str(dst + (used & (STR_MAX - 1)), ARGV_STR_MAX, p);
			if (m <= 0)
				break;
			if (m == ARGV_STR_MAX)
				*flags |= ST_F_TRUNCATED;
			used += m; /* keeps the NUL as separator */
			if (i == ST_MAX_ARGV - 1)
				*flags |= ST_F_TRUNCATED;
		}
		if (used == 0)
			return off;
		n = used;
		break;
	}
	default:
		return off;
	}
	if (off + sizeof(*ch) + (u32)n > TAIL_MAX) {
		/* The record has no room left: drop the item whole. */
		*flags |= ST_F_TRUNCATED;
		return off;
	}
	ch->len = n;
	ch->arg = cap->arg;
	ch->kind = cap->kind;
	*done = true;
	return off + sizeof(*ch) + (u32)n;
}

struct st_args {
	u64 a[8]; /* 6 registers; indices are masked with 7 */
};

/* A global function: the verifier checks it once, on its own, rather than
 * once per call site and loop iteration (which ran past its limits).
 * Five arguments at most: flags and `done` live in s. */
#ifndef ST_COMPAT
__noinline u32 capture(struct scratch *s, u32 off, const struct st_cap *cap,
		       const struct st_args *sa, s64 ret)
{
	if (!s || !cap || !sa)
		return off;
	const u64 *args = sa->a;
	u8 *tail = s->tail;
	u32 fl32 = s->fl;
	u16 fl = fl32;
	u16 *flags = &fl;
	bool dn = false;
	bool *done = &dn;
	off = capture_one(tail, off, cap, args, ret, flags, done);
	s->fl = fl;
	s->done = dn;
	return off;
}
#define CAPTURE(s, off, plan, i, args, ret, pend) \
	capture(s, off, &(plan)->caps[i], (const struct st_args *)(args), ret)
#else
/* Before 5.12 a global function takes scalars only (and a static one is
 * verified once per call, past the verifier's limits): this one finds the
 * record and the plan itself. `pend`: the record is this thread's pending
 * exec, else the per-CPU scratch; the caller has put the arguments in
 * s->ev.args. */
__noinline u32 capture_compat(u32 off, u32 nr, u32 i, s64 ret, u32 pend)
{
	u32 zero = 0;
	u32 tid = bpf_get_current_pid_tgid();
	struct scratch *s =
		pend ? bpf_map_lookup_elem(&pending, &tid) : bpf_map_lookup_elem(&scratch_buf, &zero);
	struct st_plan *plan = plan_of(nr);
	if (!s || !plan)
		return off;
	struct compat_cur *cur = bpf_map_lookup_elem(&compat_pend, &zero);
	if (cur) {
		cur->pend = pend;
		cur->off = off;
	}
	u16 fl = s->fl;
	bool dn = false;
	/* args[6] and [7] (masked indices) fall on ev.ret and ev.cgroup_id:
	 * inside the record, and never used (cap->arg < 6 is checked). */
	off = capture_one(s->tail, off, &plan->caps[i & (ST_MAX_CAPS - 1)], s->ev.args, ret, &fl,
			  &dn);
	s->fl = fl;
	s->done = dn;
	return off;
}
#define CAPTURE(s, off, plan, i, args, ret, pend) capture_compat(off, nr, i, ret, pend)
#endif

static __always_inline int emit_scratch(struct scratch *s, u32 off)
{
	if (off > TAIL_MAX)
		off = TAIL_MAX;
	barrier_var(off);
	off &= TAIL_MAX * 2 - 1; /* a no-op the verifier can see */
	s->ev.tail_len = off;
	u64 size = sizeof(s->ev) + off;
	if (bpf_ringbuf_output(&events, s, size, wake_flag()) != 0)
		count_lost();
	return 0;
}

/* Latency bucket: [0,4) exact, then 4 per power of two (log-linear); the
 * last bucket also holds everything longer. */
static __always_inline u32 agg_bucket(u64 ns)
{
	if (ns < 4)
		return ns;
	u64 v = ns;
	u32 e = 0;
	if (v >> 32) {
		v >>= 32;
		e += 32;
	}
	if (v >> 16) {
		v >>= 16;
		e += 16;
	}
	if (v >> 8) {
		v >>= 8;
		e += 8;
	}
	if (v >> 4) {
		v >>= 4;
		e += 4;
	}
	if (v >> 2) {
		v >>= 2;
		e += 2;
	}
	if (v >> 1)
		e += 1;
	u32 b = 4 + (e - 2) * 4 + ((ns >> (e - 2)) & 3);
	return b < ST_AGG_BUCKETS ? b : ST_AGG_BUCKETS - 1;
}

static __always_inline void agg_miss(bool full)
{
	u32 zero = 0;
	struct st_agg_misses *m = bpf_map_lookup_elem(&agg_misses, &zero);
	if (!m)
		return;
	if (full)
		m->full += 1;
	else
		m->unentered += 1;
}

/* The slot of a key, taken from the free ones when the key is new; ~0
 * when there is none left (the map is full). */
static __always_inline u32 agg_slot_of(struct st_agg_key *k)
{
	u32 *have = bpf_map_lookup_elem(&agg, k);
	if (have)
		return *have;
	u32 slot;
	if (bpf_map_pop_elem(&agg_free, &slot) != 0)
		return ~0U;
	if (bpf_map_update_elem(&agg, k, &slot, BPF_NOEXIST) != 0) {
		/* Another CPU made the key first (or the hash is full): its
		 * slot is the one, and ours goes back unused. */
		bpf_map_push_elem(&agg_free, &slot, 0);
		have = bpf_map_lookup_elem(&agg, k);
		return have ? *have : ~0U;
	}
	return slot;
}

/* Counts one call. Per-CPU values: plain adds (a program is not preempted
 * by another on its CPU). `dur` is ~0 for a call that does not return.
 * `c`: this CPU's agg_slots entry when the caller has it already. */
static __always_inline void aggregate(struct agg_slot *c, u64 cg, u32 nr, s64 ret, u64 dur)
{
	u32 err = ret < 0 && ret >= -4095 ? (u32)-ret : 0;
	u32 zero = 0;
	if (!c)
		c = bpf_map_lookup_elem(&agg_slots, &zero);
	if (!c)
		return;
	u32 hi = nr & (AGG_HINTS - 1);
	struct agg_hint *h = &c->hint[hi];
	u32 slot = h->slot1 - 1;
	if (!h->slot1 || h->cgroup_id != cg || h->nr != nr || h->err != err) {
		struct st_agg_key k = {
			.cgroup_id = cg,
			.nr = nr,
			.err = err,
		};
		slot = agg_slot_of(&k);
		if (slot == ~0U) {
			agg_miss(true);
			return;
		}
		h->cgroup_id = cg;
		h->nr = nr;
		h->err = err;
		h->slot1 = slot + 1;
	}
	struct st_agg_val *v = bpf_map_lookup_elem(&agg_cells, &slot);
	if (!v) {
		agg_miss(true);
		return;
	}
	v->count += 1;
	if (dur == ~0ULL)
		return;
	v->total_ns += dur;
	if (dur > v->max_ns)
		v->max_ns = dur;
	u32 b = agg_bucket(dur);
	barrier_var(b);
	v->hist[b & (ST_AGG_BUCKETS - 1)] += 1;
}

/* ST_MODE_DRILL: is this call streamed as a record too? */
static __always_inline bool drill_ok(u64 cg, u32 nr)
{
	if (drill_cgroup_on) {
		u32 few = drill_cg_few;
		if (few) {
			bool hit = false;
#pragma unroll
			for (u32 i = 0; i < DRILL_FEW; i++)
				hit |= i < few && drill_cg_list[i] == cg;
			if (!hit)
				return false;
		} else if (!bpf_map_lookup_elem(&drill_cgroups, &cg)) {
			return false;
		}
	}
	if (drill_nr_on) {
		if (nr >= MAX_NR)
			return false;
		u32 i = nr;
		barrier_var(i);
		i &= MAX_NR - 1;
		if (!(drill_nr_bits[i >> 6] & (1ULL << (i & 63))))
			return false;
	}
	return true;
}

/* The syscall number at sys_exit from the registers, for an exit whose
 * enter was not seen. */
static __always_inline u32 exit_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_arm64)
	s32 no = -1;
	/* After user_pt_regs: orig_x0 (u64), then syscallno (s32). */
	bpf_probe_read_kernel(&no, sizeof(no), (u8 *)regs + sizeof(struct st_user_pt_regs) + 8);
	return no;
#else
	return regs->orig_ax;
#endif
}

/* A child's first return from fork/clone passes sys_exit without having
 * entered: not a missed call. */
static __always_inline bool is_fork_nr(u32 nr)
{
#if defined(__TARGET_ARCH_arm64)
	return nr == 220 || nr == 435;
#else
	return nr == 56 || nr == 57 || nr == 58 || nr == 435;
#endif
}

/* tp_btf rather than raw_tp: the same tracepoint, but the register file
 * arrives as a BTF-typed pointer that can be read without a helper call. */
SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = current_task();
	u64 pid_tgid = task_pid_tgid(task);
	u32 nr = id;
	if (untimed) {
		struct st_plan *p = plan_of(nr);
		if (p && (p->flags & ST_P_NO_RETURN) && wanted(task, pid_tgid >> 32, nr) &&
		    !excluded(task, (u32)pid_tgid))
			aggregate(NULL, task_cgroup_id(task), nr, 0, ~0ULL);
		return 0;
	}
	if (!wanted(task, pid_tgid >> 32, nr))
		return 0;
#if ST_ABL == 1
	return 0;
#endif

	struct task_state *ts = task_state_get(task, (u32)pid_tgid, true);
	if (!ts || ts->excluded)
		return 0;
	u32 mode = agg_mode;
	bool full = mode == ST_MODE_STREAM ||
		    (mode == ST_MODE_DRILL && drill_ok(task_cgroup_id(task), nr));
	ts->full = full;
	ts->nr = nr;
#if ST_ABL == 2
	ts->active = 1;
	return 0;
#endif
	if (!full) {
		/* Counted only: the time and the number, nothing else. */
		u64 start = ST_NOW();
		ts->start_ns = start;
		ts->active = 1;
		struct st_plan *plan = plan_of(nr);
		if (plan && (plan->flags & ST_P_NO_RETURN)) {
			ts->active = 0;
			aggregate(NULL, task_cgroup_id(task), nr, 0, ~0ULL);
			return 0;
		}
#ifndef ST_COMPAT
		/* Not for calls whose exit must reach the task's state. */
		if (plan && !(plan->flags & ST_P_REFRESH)) {
			u32 zero = 0;
			struct agg_slot *sl = bpf_map_lookup_elem(&agg_slots, &zero);
			if (sl) {
				sl->task_start = task->start_time;
				sl->csw = ctx_switches(task);
				sl->start_ns = start;
				sl->tid = (u32)pid_tgid;
				sl->nr = nr;
				sl->epoch = agg_epoch;
			}
		}
#endif
		return 0;
	}
	ts->start_ns = ST_NOW();
	read_args(regs, ts->args);
	ts->csw = ctx_switches(task);

	struct st_plan *plan = plan_of(nr);
	if (!plan) {
		ts->active = 1;
		return 0;
	}

	if (plan->flags & ST_P_NO_RETURN) {
		/* exit/exit_group never reach sys_exit: emit now. */
		ts->active = 0;
		if (mode != ST_MODE_STREAM)
			aggregate(NULL, task_cgroup_id(task), nr, 0, ~0ULL);
		if (!ident_sync(task, ts, pid_tgid)) {
			count_lost();
			return 0;
		}
		/* The calls that do not return are exit and exit_group (the
		 * syscall table's tests pin them), with one argument: sent cut
		 * after it, like every call that captures nothing (the
		 * registers past a call's arguments are not its arguments). */
		struct st_short *sv = bpf_ringbuf_reserve(
			&events, __builtin_offsetof(struct st_short, args) + 8, 0);
		if (!sv) {
			count_lost();
			return 0;
		}
		fill_short(sv, ts, pid_tgid, nr, ts->start_ns, ts->csw, 0, 1);
		sv->flags = ST_F_NO_RETURN;
		sv->args[0] = ts->args[0];
		bpf_ringbuf_submit(sv, BPF_RB_FORCE_WAKEUP);
		return 0;
	}
	ts->active = 1;

	if (plan->flags & ST_P_AT_ENTER) {
		u32 zero = 0;
		struct scratch *s = bpf_map_lookup_elem(&scratch_buf, &zero);
		if (!s)
			return 0;
		u32 off = 0;
		u32 have = 0;
		s->fl = 0;
#ifdef ST_COMPAT
		__builtin_memcpy(s->ev.args, ts->args, sizeof(s->ev.args));
#endif
		for (int i = 0; i < ST_MAX_CAPS; i++) {
			bool d = !plan->caps[i].at_enter;
			if (!d) {
				off = CAPTURE(s, off, plan, i, ts->args, 0, 0);
				d = s->done;
			}
			if (d)
				have |= 1 << i;
		}
		s->ev.flags = s->fl;
		s->ev.tail_len = off > TAIL_MAX ? TAIL_MAX : off;
		s->have = have;
		u32 tid = (u32)pid_tgid;
		bpf_map_update_elem(&pending, &tid, s, BPF_ANY);
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long sys_ret)
{
	struct task_struct *task = current_task();
	u64 pid_tgid = task_pid_tgid(task);
#if ST_ABL == 1
	return 0;
#endif
	if (untimed) {
		u32 nr = exit_nr(regs);
		/* A new task's first return from fork/clone is not a call. */
		if (is_fork_nr(nr) && sys_ret == 0)
			return 0;
		if (wanted(task, pid_tgid >> 32, nr) && !excluded(task, (u32)pid_tgid))
			aggregate(NULL, task_cgroup_id(task), nr, sys_ret, ~0ULL);
		return 0;
	}
	u32 mode = agg_mode;
#ifndef ST_COMPAT
	if (mode != ST_MODE_STREAM) {
		u32 zero = 0;
		struct agg_slot *sl = bpf_map_lookup_elem(&agg_slots, &zero);
		if (sl && sl->tid == (u32)pid_tgid && sl->csw == ctx_switches(task) &&
		    sl->task_start == task->start_time && sl->epoch == agg_epoch) {
			/* Entered on this CPU and never left it: counted only
			 * (no record was set up), and task storage's `active`
			 * is simply overwritten by the next enter. */
			u64 now = ST_NOW();
			u32 nr = sl->nr;
			u64 start = sl->start_ns;
			sl->tid = 0;
			if ((filter_pid_on | filter_cgroup_on | filter_nr_on) &&
			    !filter_ok(task, pid_tgid >> 32, nr))
				return 0;
#if ST_ABL == 5
			return 0;
#endif
			aggregate(sl, task_cgroup_id(task), nr, sys_ret, now - start);
			return 0;
		}
	}
#endif
	struct task_state *ts = task_state_get(task, (u32)pid_tgid, false);
	if (!ts || !ts->active) {
		/* Counted as a miss when it would have been counted. */
		if (mode == ST_MODE_STREAM || (ts && ts->excluded))
			return 0;
		u32 xnr = exit_nr(regs);
		if (!is_fork_nr(xnr) && wanted(task, pid_tgid >> 32, xnr))
			agg_miss(false);
		return 0;
	}
	ts->active = 0;
#if ST_ABL == 2
	return 0;
#endif

	u64 now = ST_NOW();
	s64 ret = sys_ret;
	u32 nr = ts->nr;
	if ((scope_cgroup || (filter_pid_on | filter_cgroup_on | filter_nr_on)) &&
	    !filter_ok(task, pid_tgid >> 32, nr))
		return 0;
	if (mode != ST_MODE_STREAM) {
		u64 cg = task_cgroup_id(task);
#if ST_ABL == 5
		return 0; /* counting: everything but the map update */
#endif
		aggregate(NULL, cg, nr, ret, now - ts->start_ns);
		/* Streamed only if it was set up for that at enter and still is. */
		if (!ts->full || mode != ST_MODE_DRILL || !drill_ok(cg, nr)) {
			struct st_plan *p = plan_of(nr);
			if (p) {
				/* Identity changed unseen: read it again, and send
				 * it, before the next record. */
				if ((p->flags & ST_P_REFRESH) && ret >= 0) {
					ts->ident_valid = 0;
					ts->sent = 0;
				}
				/* Enter kept an exec's arguments for a record that
				 * is no longer wanted. */
				if (ts->full && (p->flags & ST_P_AT_ENTER)) {
					u32 tid = (u32)pid_tgid;
					bpf_map_delete_elem(&pending, &tid);
				}
			}
			return 0;
		}
	} else if (!ts->full) {
		return 0; /* entered while only counting: no arguments to show */
	}
	u64 csw = ctx_switches(task);
	struct st_plan *plan = plan_of(nr);

	if (plan && (plan->flags & ST_P_REFRESH) && ret >= 0)
		read_ident(task, ts);

	if (!plan || plan->caps[0].kind == ST_CAP_NONE) {
		/* Fast path: fixed-size record straight into the ring. */
#if ST_ABL == 3
		return 0;
#endif
#ifdef ST_STAGE
		struct stage *st = stage_get();
		if (!st)
			return 0;
		if (!ident_sync_to(task, ts, pid_tgid, st)) {
			count_lost();
			return 0;
		}
#elif ST_ABL != 4
		if (!ident_sync(task, ts, pid_tgid)) {
			count_lost();
			return 0;
		}
#endif
#if ST_ABL != 4
		/* The arguments the call takes, no more (`plan` is never NULL
		 * in an array map; the check is for the verifier). A number
		 * past the table is no known call, whatever plan it wraps to:
		 * all six. */
		switch (plan ? plan->flags >> ST_P_NARGS_SHIFT : 0) {
			EMIT_SHORT(0)
			EMIT_SHORT(1)
			EMIT_SHORT(2)
			EMIT_SHORT(3)
			EMIT_SHORT(4)
			EMIT_SHORT(5)
		}
#endif
		struct st_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (!ev) {
			count_lost();
			return 0;
		}
#if ST_ABL == 4
		ev->tail_len = 0;
#else
		fill_header(ev, ts, pid_tgid, nr, now, csw);
#endif
		ev->ret = ret;
#ifdef ST_ABL_NO_QUERY
		bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
		return 0;
#endif
		bpf_ringbuf_submit(ev, wake_flag());
		return 0;
	}

	u32 tid = (u32)pid_tgid;
	struct scratch *s = NULL;
	u32 off = 0;
	u16 fl = 0;
	u32 have = 0;
	bool exec = plan->flags & ST_P_AT_ENTER;
	u32 pend = 0;
	if (exec) {
		s = bpf_map_lookup_elem(&pending, &tid);
		if (s) {
			pend = 1;
			off = s->ev.tail_len;
			fl = s->ev.flags;
			have = s->have;
		}
	}
	if (!s) {
		u32 zero = 0;
		s = bpf_map_lookup_elem(&scratch_buf, &zero);
		if (!s)
			return 0;
	}
	/* An exec that failed still has its old address space, and the kernel
	 * has faulted the path in by now: copy again what enter could not. */
	s->fl = fl;
#ifdef ST_COMPAT
	__builtin_memcpy(s->ev.args, ts->args, sizeof(s->ev.args));
#endif
	for (int i = 0; i < ST_MAX_CAPS; i++) {
		if (plan->caps[i].kind == ST_CAP_NONE)
			break; /* caps are filled from the front */
		if (plan->caps[i].at_enter ? ret < 0 && !(have & (1 << i)) : true)
			off = CAPTURE(s, off, plan, i, ts->args, ret, pend);
	}
	if (!ident_sync(task, ts, pid_tgid)) {
		count_lost();
	} else if (off == 0 && !exec) {
		/* Nothing captured (a read of nothing, a failed call): the
		 * fixed record straight into the ring, not copied there from
		 * the scratch. */
		struct st_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (ev) {
			fill_header(ev, ts, pid_tgid, nr, now, csw);
			ev->ret = ret;
			ev->flags = s->fl;
			bpf_ringbuf_submit(ev, wake_flag());
		} else {
			count_lost();
		}
	} else {
		fill_header(&s->ev, ts, pid_tgid, nr, now, csw);
		s->ev.ret = ret;
		s->ev.flags = s->fl;
		emit_scratch(s, off);
	}
	if (exec)
		bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Appends the exec'd file's name as the caller passed it. For execveat
 * relative to a directory fd (or AT_EMPTY_PATH) the kernel names the file
 * "/dev/fd/N/PATH" ("/dev/fd/N") and keeps that name in bprm->fdpath; the
 * prefix is dropped to get back the argument. */
static __always_inline u32 exec_path(u8 *tail, u32 off, u8 arg, struct linux_binprm *bprm)
{
	barrier_var(off);
	off &= TAIL_MAX - 1;
	struct st_chunk *ch = (void *)(tail + off);
	u8 *dst = tail + off + sizeof(*ch);
	const char *name = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(dst, STR_MAX, name);
	if (n <= 0)
		return off;
	if (BPF_CORE_READ(bprm, fdpath)) {
		u32 i = 8; /* strlen("/dev/fd/") */
		for (int k = 0; k < 10; k++) {
			u8 c = dst[i & (STR_MAX - 1)];
			if (c < '0' || c > '9')
				break;
			i++;
		}
		if (dst[i & (STR_MAX - 1)] == '/')
			i++;
		n = bpf_probe_read_kernel_str(dst, STR_MAX, name + i);
		if (n <= 0)
			return off;
	}
	n -= 1; /* drop the NUL */
	ch->len = n;
	ch->arg = arg;
	ch->kind = ST_CAP_STR;
	return off + sizeof(*ch) + (u32)n;
}

/* Appends argv from the new image's argument area, where exec has just
 * copied the strings (resident, NUL separated, up to mm->arg_end). */
static __always_inline u32 exec_argv(u8 *tail, u32 off, u8 arg, struct task_struct *p,
				     u16 *flags)
{
	barrier_var(off);
	off &= TAIL_MAX - 1;
	struct st_chunk *ch = (void *)(tail + off);
	u8 *dst = tail + off + sizeof(*ch);
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	u64 at = BPF_CORE_READ(mm, arg_start);
	u64 end = BPF_CORE_READ(mm, arg_end);
	u32 used = 0;
	for (int i = 0; i < ST_MAX_ARGV && at < end; i++) {
		if (used >= STR_MAX - ARGV_STR_MAX)
			break;
		long m = bpf_probe_read_user_str(dst + (used & (STR_MAX - 1)), ARGV_STR_MAX,
						 (const void *)at);
		if (m <= 0)
			break;
		used += m; /* keeps the NUL as separator */
		at += m;
		if (m == ARGV_STR_MAX)
			break; /* cut short: where the next string starts is not known */
	}
	if (at < end)
		*flags |= ST_F_TRUNCATED;
	if (used == 0)
		return off;
	ch->len = used;
	ch->arg = arg;
	ch->kind = ST_CAP_ARGV;
	return off + sizeof(*ch) + used;
}

/* Runs in the exec'ing task once the new image is set up, before the
 * syscall returns. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u32 old = old_pid;
	u32 tid = task_tid(p);
	struct task_state *ts = task_state_get(p, old, false);
	if (!ts || !ts->active)
		return 0;
#ifdef ST_COMPAT
	if (tid != old) {
		/* A non-leader thread exec'd and goes on under the leader's
		 * pid: its state moves with it (the leader's went at its exit). */
		bpf_map_update_elem(&tasks, &tid, ts, BPF_ANY);
		bpf_map_delete_elem(&tasks, &old);
		ts = bpf_map_lookup_elem(&tasks, &tid);
		if (!ts)
			return 0;
	}
#endif
	struct st_plan *plan = plan_of(ts->nr);
	if (!plan || !(plan->flags & ST_P_AT_ENTER))
		return 0;
	struct scratch *s = bpf_map_lookup_elem(&pending, &old);
	if (!s)
		return 0;
	u32 off = s->ev.tail_len;
	u16 fl = s->ev.flags;
	/* An interpreter (#!, binfmt_misc) rewrote argv: the caller's argv[0]
	 * is gone from the new image, so the area is not the argument. */
	bool rewritten = BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename);
	for (int i = 0; i < ST_MAX_CAPS; i++) {
		struct st_cap *cap = &plan->caps[i];
		if (!cap->at_enter || (s->have & (1 << i)) ||
		    off >= TAIL_MAX - sizeof(struct st_chunk))
			continue;
		if (cap->kind == ST_CAP_STR)
			off = exec_path(s->tail, off, cap->arg, bprm);
		else if (cap->kind == ST_CAP_ARGV && !rewritten)
			off = exec_argv(s->tail, off, cap->arg, p, &fl);
	}
	s->ev.tail_len = off;
	s->ev.flags = fl;
	s->have = (1 << ST_MAX_CAPS) - 1;
	if (tid != old) {
		/* A non-leader thread exec'd: it goes on as the leader, and its
		 * sys_exit looks for the new pid. */
		bpf_map_update_elem(&pending, &tid, s, BPF_ANY);
		bpf_map_delete_elem(&pending, &old);
	}
	return 0;
}

/* Whatever the tracer starts is not traced either (its helpers, and what
 * they start in turn): the child of the tracer or of an excluded task is
 * marked before it first runs. Attached only when that is asked for. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	/* The parent is the task running fork. */
	if (!is_self(bpf_get_current_pid_tgid() >> 32)) {
		struct task_state *ps =
			task_state_get(parent, (u32)bpf_get_current_pid_tgid(), false);
		if (!ps || !ps->excluded)
			return 0;
	}
	struct task_state *cs = task_state_get(child, task_tid(child), true);
	if (cs && !cs->excluded) {
		cs->excluded = 1;
		__sync_fetch_and_add(&excluded_live, 1);
	}
	return 0;
}

/* An excluded task is gone (see excluded_live); in the compat build every
 * thread's state goes with it: the hash has no owner to free it. Attached
 * with sched_process_fork, and always in the compat build. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct task_state *ts = task_state_get(p, tid, false);
	if (ts && ts->excluded)
		__sync_fetch_and_add(&excluded_live, -1);
#ifdef ST_COMPAT
	bpf_map_delete_elem(&tasks, &tid);
#endif
	return 0;
}
