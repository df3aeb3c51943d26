// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: the io_uring kfuncs assume the ring's ->uring_lock held by
 * the loop, so programs of other struct_ops may not call them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops.s/foreign_ssthresh")
__u32 BPF_PROG(foreign_ssthresh, struct sock *sk)
{
	bpf_io_uring_get_region((struct io_ring_ctx *)sk, IOU_REGION_MEM, 8);
	return 2;
}

SEC("struct_ops/foreign_undo_cwnd")
__u32 BPF_PROG(foreign_undo_cwnd, struct sock *sk)
{
	return 2;
}

SEC("struct_ops/foreign_cong_avoid")
void BPF_PROG(foreign_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC(".struct_ops.link")
struct tcp_congestion_ops foreign_ca = {
	.ssthresh = (void *)foreign_ssthresh,
	.undo_cwnd = (void *)foreign_undo_cwnd,
	.cong_avoid = (void *)foreign_cong_avoid,
	.name = "iou_foreign",
};
