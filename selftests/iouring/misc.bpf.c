// SPDX-License-Identifier: GPL-2.0
/*
 * Small loop programs for the attach, error and lifetime tests.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"
#include "iou_common.h"

char LICENSE[] SEC("license") = "GPL";

__u64 steps;
int bad_ret = 7;

/* region checks: results for the test program */
__u64 region_mem_size = 4096;
int region_mem_ok, region_mem_over_null, region_cq_over_null;
int region_bad_id_null, region_sq_ok;
__u64 region_seen;

/* CQ tail seen by the first two steps of seen_step */
__u32 seen_tail0 = -1, seen_tail1 = -1;

/* one step, then stop */
SEC("struct_ops.s/stop_step")
int BPF_PROG(stop_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__sync_fetch_and_add(&steps, 1);
	return IOU_LOOP_STOP;
}

/* a return value that is neither IOU_LOOP_CONTINUE nor IOU_LOOP_STOP */
SEC("struct_ops.s/bad_step")
int BPF_PROG(bad_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__sync_fetch_and_add(&steps, 1);
	return bad_ret;
}

/* waits for a CQE that never comes: ended by a signal or by detaching */
SEC("struct_ops.s/wait_step")
int BPF_PROG(wait_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__sync_fetch_and_add(&steps, 1);
	lp->cq_wait_idx = ring->rings->cq.tail + 1;
	return IOU_LOOP_CONTINUE;
}

/* spin_step: set by the test to end the loop */
int spin_release;

static int spin_cb(__u64 i, void *ctx)
{
	int j;

	for (j = 0; j < 1000; j++)
		barrier_var(j);
	return *(volatile int *)&spin_release ? 1 : 0;
}

/*
 * Never waits: spins, holding the ring's ->uring_lock for as long as the
 * test wants (up to 2^23 * 1000 iterations a step), returns
 * IOU_LOOP_CONTINUE until spin_release is set, then IOU_LOOP_STOP.
 */
SEC("struct_ops.s/spin_step")
int BPF_PROG(spin_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__sync_fetch_and_add(&steps, 1);
	bpf_loop(1 << 23, spin_cb, NULL, 0);
	return *(volatile int *)&spin_release ? IOU_LOOP_STOP : IOU_LOOP_CONTINUE;
}

/* records the CQ tail of two steps, stops after the second */
SEC("struct_ops.s/seen_step")
int BPF_PROG(seen_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__u32 tail = ring->rings->cq.tail;

	if (__sync_fetch_and_add(&steps, 1)) {
		seen_tail1 = tail;
		return IOU_LOOP_STOP;
	}
	seen_tail0 = tail;
	return IOU_LOOP_CONTINUE;
}

/* what bpf_io_uring_get_region() gives for sizes and ids */
SEC("struct_ops.s/region_step")
int BPF_PROG(region_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__u64 *mem;

	__sync_fetch_and_add(&steps, 1);
	mem = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, 4096);
	if (mem) {
		region_mem_ok = 1;
		region_seen = mem[0];
		mem[1] = REGION_MAGIC_BPF;
		mem[511] = mem[0] + 1;
	}
	region_mem_over_null = !bpf_io_uring_get_region(ring, IOU_REGION_MEM,
							 4096 + 1);
	if (region_mem_size == 8192) {
		/* a two page region: its end is reachable too */
		__u64 *big = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM,
							     8192);

		if (big)
			big[1023] = REGION_MAGIC_BPF;
		else
			region_mem_ok = 0;
		region_mem_over_null = !bpf_io_uring_get_region(ring, IOU_REGION_MEM,
								8192 + 1);
	}
	region_cq_over_null = !bpf_io_uring_get_region(ring, IOU_REGION_CQ,
							1 << 30);
	region_sq_ok = !!bpf_io_uring_get_region(ring, IOU_REGION_SQ,
						 SQ_REGION_SIZE(8));
	region_bad_id_null = !bpf_io_uring_get_region(ring, 3, 8);
	return IOU_LOOP_STOP;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops stop_ops = {
	.loop_step = (void *)stop_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops stop2_ops = {
	.loop_step = (void *)stop_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops bad_ops = {
	.loop_step = (void *)bad_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops wait_ops = {
	.loop_step = (void *)wait_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops region_ops = {
	.loop_step = (void *)region_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops spin_ops = {
	.loop_step = (void *)spin_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops seen_ops = {
	.loop_step = (void *)seen_step,
};
