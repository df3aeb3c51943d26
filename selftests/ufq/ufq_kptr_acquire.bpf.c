// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/ufq test 14: a UFQ scheduler that takes a reference on a
 * request with bpf_request_acquire() and keeps it in a map as a struct
 * request kptr.  Such a reference would keep the request's tags and the
 * queue's usage count until user space frees the map, so the kernel has
 * no such kfunc: this object must not load.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ufq_kptr.h"

extern u64 bpf_request_id(struct request *rq) __ksym;
extern struct request *bpf_request_acquire(struct request *rq) __ksym;
extern void bpf_request_release(struct request *rq) __ksym;

SEC("struct_ops/insert_req")
int BPF_PROG(acquire_insert_req, struct request_queue *q, struct request *rq,
	     blk_insert_t flags)
{
	struct request *ref;
	struct stash *s;
	int zero = 0;

	s = bpf_map_lookup_elem(&stash, &zero);
	ref = bpf_request_acquire(rq);
	if (!ref)
		return 1;
	if (s)
		ref = bpf_kptr_xchg(&s->rq, ref);
	if (ref)
		bpf_request_release(ref);
	return 1;	/* UFQ_INSERT_DISPATCH */
}

SEC(".struct_ops.link")
struct ufq_iosched_ops acquire_ops = {
	.insert_req	= (void *)acquire_insert_req,
	.dispatch_req	= (void *)kptr_dispatch_req,
	.name		= "ufq_test_acq",
};
