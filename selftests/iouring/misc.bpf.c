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

/*
 * buf_step: the registered buffer kfuncs.  The test sets the offsets
 * (from the start of buffer 0) and wr[]; the step copies rd[] out and
 * wr[] in, takes a slice, and records what each refusal returned.
 */
__u64 buf_len, rd_off, wr_off, sl_off, sl_cross_off;
__u8 rd[64], wr[64], sl[16];
int buf_rd_ret = 1, buf_wr_ret = 1, buf_sl_ok;
int buf_noidx_ret = 1, buf_range_ret = 1, buf_huge_ret = 1;
int buf_zero_end_ret = 1, buf_zero_past_ret = 1, buf_wr_range_ret = 1;
int buf_sl_cross_null, buf_sl_past_null, buf_sl_noidx_null;

SEC("struct_ops.s/buf_step")
int BPF_PROG(buf_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	__u8 tmp[64] = {};
	__u8 *p;
	int i;

	__sync_fetch_and_add(&steps, 1);
	buf_rd_ret = bpf_io_uring_buf_read(ring, 0, rd_off, rd, sizeof(rd));
	buf_wr_ret = bpf_io_uring_buf_write(ring, 0, wr_off, wr, sizeof(wr));
	p = bpf_io_uring_buf_slice(ring, 0, sl_off, sizeof(sl));
	if (p) {
		for (i = 0; i < sizeof(sl); i++)
			sl[i] = p[i];
		/* the test sees this in its buffer */
		p[0] = ~p[0];
		buf_sl_ok = 1;
	}
	buf_noidx_ret = bpf_io_uring_buf_read(ring, 2, 0, tmp, sizeof(tmp));
	buf_range_ret = bpf_io_uring_buf_read(ring, 0, buf_len - 63, tmp,
					      sizeof(tmp));
	buf_huge_ret = bpf_io_uring_buf_read(ring, 0, 1ULL << 40, tmp,
					     sizeof(tmp));
	buf_wr_range_ret = bpf_io_uring_buf_write(ring, 0, buf_len - 1, tmp, 2);
	buf_zero_end_ret = bpf_io_uring_buf_read(ring, 0, buf_len, tmp, 0);
	buf_zero_past_ret = bpf_io_uring_buf_read(ring, 0, buf_len + 1, tmp, 0);
	buf_sl_cross_null = !bpf_io_uring_buf_slice(ring, 0, sl_cross_off, 16);
	buf_sl_past_null = !bpf_io_uring_buf_slice(ring, 0, buf_len - 8, 16);
	buf_sl_noidx_null = !bpf_io_uring_buf_slice(ring, 2, 0, 16);
	return IOU_LOOP_STOP;
}

/*
 * peek_step: "peek at buffers".  The test wrote a READ_FIXED into
 * registered buffer 0 at sqes[0] (SQ_REWIND ring); the first step submits
 * it and waits for its CQE, the next one looks at what the read brought,
 * in the same io_uring_enter(2).
 */
#define PEEK_CQ_ENTRIES	16
__u64 peek_off;
__u8 peek[16];
int peek_res = 1, peek_ret = 1;

SEC("struct_ops.s/peek_step")
int BPF_PROG(peek_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_rings *rings;
	__u32 head;
	int ret;

	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ,
						 CQ_REGION_SIZE(PEEK_CQ_ENTRIES));
	if (!rings) {
		peek_ret = -14;
		return IOU_LOOP_STOP;
	}
	head = rings->cq.head;
	if (__sync_fetch_and_add(&steps, 1) == 0) {
		ret = bpf_io_uring_submit_sqes(ring, 1);
		if (ret != 1) {
			peek_ret = ret < 0 ? ret : -5;
			return IOU_LOOP_STOP;
		}
	}
	if (head == rings->cq.tail) {
		lp->cq_wait_idx = head + 1;
		return IOU_LOOP_CONTINUE;
	}
	peek_res = rings->cqes[head & (PEEK_CQ_ENTRIES - 1)].res;
	rings->cq.head = head + 1;
	peek_ret = bpf_io_uring_buf_read(ring, 0, peek_off, peek, sizeof(peek));
	return IOU_LOOP_STOP;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops peek_ops = {
	.loop_step = (void *)peek_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops buf_ops = {
	.loop_step = (void *)buf_step,
};

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
