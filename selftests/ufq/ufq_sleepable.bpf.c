// SPDX-License-Identifier: GPL-2.0
/*
 * Schedulers with a sleepable init_sched or exit_sched, which the kernel
 * must refuse: both run with the queue frozen and under the UFQ list
 * mutex, where a program that faults on a page of a file on that disk
 * would wait for the freeze it is part of.  ufq_test loads each map on its
 * own and expects "attach to unsupported member ... of struct
 * ufq_iosched_ops" in the verifier log.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/init_sched")
int BPF_PROG(sleepable_init_sched, struct request_queue *q)
{
	return 0;
}

SEC("struct_ops.s/exit_sched")
int BPF_PROG(sleepable_exit_sched, struct request_queue *q)
{
	return 0;
}

SEC("struct_ops/insert_req")
int BPF_PROG(plain_insert_req, struct request_queue *q, struct request *rq,
	     blk_insert_t flags)
{
	return 1; /* UFQ_INSERT_DISPATCH */
}

SEC("struct_ops/dispatch_req")
u64 BPF_PROG(plain_dispatch_req, struct request_queue *q)
{
	return 0;
}

SEC(".struct_ops.link")
struct ufq_iosched_ops sleepable_init_ops = {
	.init_sched	= (void *)sleepable_init_sched,
	.insert_req	= (void *)plain_insert_req,
	.dispatch_req	= (void *)plain_dispatch_req,
	.name		= "ufq_test_slinit",
};

SEC(".struct_ops.link")
struct ufq_iosched_ops sleepable_exit_ops = {
	.exit_sched	= (void *)sleepable_exit_sched,
	.insert_req	= (void *)plain_insert_req,
	.dispatch_req	= (void *)plain_dispatch_req,
	.name		= "ufq_test_slexit",
};
