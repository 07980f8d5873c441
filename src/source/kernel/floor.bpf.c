// SPDX-License-Identifier: GPL-2.0
/* The "floor" of the overhead benchmark: the same two attach points as
 * systrace.bpf.c (tp_btf on raw_syscalls), doing nothing. Whatever a tracer at raw_syscalls costs
 * beyond this is its own work; this much is the price of the attach point. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int floor_enter(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int floor_exit(void *ctx)
{
	return 0;
}

/* The floor of anything that times each call: a clock read at each end
 * (examples/floor.rs --clock). Kept on the stack: a shared variable written
 * from every CPU would cost a cache line's trip between them per call. */
SEC("tp_btf/sys_enter")
int clock_enter(void *ctx)
{
	volatile u64 t = bpf_ktime_get_ns();
	(void)t;
	return 0;
}

SEC("tp_btf/sys_exit")
int clock_exit(void *ctx)
{
	volatile u64 t = bpf_ktime_get_ns();
	(void)t;
	return 0;
}
