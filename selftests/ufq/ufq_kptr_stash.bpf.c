// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/ufq test 14: a UFQ scheduler that keeps the request of
 * insert_req in a map as a struct request kptr, without any acquire.
 * struct request has no kptr destructor, so the kernel refuses this
 * object's BTF (-ENOENT) and nothing of it loads.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ufq_kptr.h"

SEC("struct_ops/insert_req")
int BPF_PROG(stash_insert_req, struct request_queue *q, struct request *rq,
	     blk_insert_t flags)
{
	struct stash *s;
	int zero = 0;

	s = bpf_map_lookup_elem(&stash, &zero);
	if (s)
		bpf_kptr_xchg(&s->rq, rq);
	return 1;	/* UFQ_INSERT_DISPATCH */
}

SEC(".struct_ops.link")
struct ufq_iosched_ops stash_ops = {
	.insert_req	= (void *)stash_insert_req,
	.dispatch_req	= (void *)kptr_dispatch_req,
	.name		= "ufq_test_stash",
};
