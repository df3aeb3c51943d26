/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by ufq_kptr_acquire.bpf.c and ufq_kptr_stash.bpf.c (selftests/ufq
 * test 14): a map that would keep a struct request as a kptr, and a
 * dispatch_req with nothing to dispatch.
 */
#ifndef UFQ_KPTR_H
#define UFQ_KPTR_H

char _license[] SEC("license") = "GPL";

struct stash {
	struct request __kptr *rq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct stash);
} stash SEC(".maps");

SEC("struct_ops/dispatch_req")
u64 BPF_PROG(kptr_dispatch_req, struct request_queue *q)
{
	return 0;
}

#endif
