// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark of IORING_OP_BPF (iou_opbpf_bench.c): the cheapest
 * operation (issue_fn only, and one with every callback, all empty), a
 * transform of a block in place (XOR of every 64-bit word), and the same
 * transform done by the BPF event loop between a READ's and a WRITE's
 * completions, for comparison.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"
#include "iou_opbpf_bpf.h"
#include "iou_opbpf_bench.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/bb_prep")
int BPF_PROG(bb_prep, struct uring_bpf_data *data, const struct io_uring_sqe *sqe)
{
	return 0;
}

SEC("struct_ops/bb_issue")
int BPF_PROG(bb_issue, struct uring_bpf_data *data)
{
	return 0;
}

SEC("struct_ops/bb_fail")
void BPF_PROG(bb_fail, struct uring_bpf_data *data)
{
}

SEC("struct_ops/bb_cleanup")
void BPF_PROG(bb_cleanup, struct uring_bpf_data *data)
{
}

/* buffer 0 of the request, one page, XORed word by word */
SEC("struct_ops/bb_xform")
int BPF_PROG(bb_xform, struct uring_bpf_data *data)
{
	__u64 *w = (__u64 *)uring_bpf_buf_slice(data, 0, 0, OPBB_BLOCK);
	int i;

	if (!w)
		return -EFAULT;
	for (i = 0; i < OPBB_WORDS; i++)
		w[i] ^= OPBB_KEY;
	return OPBB_BLOCK;
}

SEC(".struct_ops.link")
struct uring_bpf_ops empty_op = {
	.id		= OPBB_SLOT_EMPTY,
	.issue_fn	= (void *)bb_issue,
};

SEC(".struct_ops.link")
struct uring_bpf_ops all_op = {
	.id		= OPBB_SLOT_ALL,
	.prep_fn	= (void *)bb_prep,
	.issue_fn	= (void *)bb_issue,
	.fail_fn	= (void *)bb_fail,
	.cleanup_fn	= (void *)bb_cleanup,
};

SEC(".struct_ops.link")
struct uring_bpf_ops xform_op = {
	.id		= OPBB_SLOT_XFORM,
	.issue_fn	= (void *)bb_xform,
};

/* ------------------------------------------------------------ the loop */

#define BB_CQ_SIZE	CQ_REGION_SIZE(OPBB_CQ_ENTRIES)
#define BB_SQ_SIZE	SQ_REGION_SIZE(OPBB_SQ_ENTRIES)

static int bb_issue_rw(struct io_ring_ctx *ring, struct io_uring_sqe *sqe,
		       struct opbb_params *p, bool read)
{
	int ret;

	__builtin_memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = read ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
	sqe->fd = read ? p->in_fd : p->out_fd;
	sqe->addr = p->buf;
	sqe->len = OPBB_BLOCK;
	sqe->off = (p->done % p->file_blocks) * OPBB_BLOCK;
	sqe->buf_index = 0;
	p->state = read ? OPBB_READING : OPBB_WRITING;
	ret = bpf_io_uring_submit_sqes(ring, 1);
	if (ret != 1) {
		p->error = ret < 0 ? ret : -5;
		p->state = OPBB_DONE;
		return -1;
	}
	return 0;
}

/*
 * READ a block into the region's second page, XOR it there, WRITE it, the
 * next READ...: one request in flight, its SQE at index 0 (SQ_REWIND).
 */
SEC("struct_ops.s/bb_step")
int BPF_PROG(bb_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_uring_sqe *sqes;
	struct opbb_params *p;
	struct io_rings *rings;
	__u32 head;
	__u64 *w;
	__u8 *mem;
	int res, i;

	mem = bpf_io_uring_get_region(ring, IOU_REGION_MEM, OPBB_REGION_SIZE);
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, BB_CQ_SIZE);
	sqes = (void *)bpf_io_uring_get_region(ring, IOU_REGION_SQ, BB_SQ_SIZE);
	if (!mem)
		return IOU_LOOP_STOP;
	p = (void *)mem;
	if (!rings || !sqes) {
		p->error = -14;
		return IOU_LOOP_STOP;
	}
	p->steps++;
	if (p->file_blocks == 0 || p->state == OPBB_DONE) {
		p->error = -22;
		return IOU_LOOP_STOP;
	}

	if (p->state == OPBB_IDLE) {
		if (bb_issue_rw(ring, &sqes[0], p, true))
			return IOU_LOOP_STOP;
		lp->cq_wait_idx = rings->cq.head + 1;
		return IOU_LOOP_CONTINUE;
	}

	head = rings->cq.head;
	if (head == rings->cq.tail) {
		lp->cq_wait_idx = head + 1;
		return IOU_LOOP_CONTINUE;
	}
	res = rings->cqes[head & (OPBB_CQ_ENTRIES - 1)].res;
	rings->cq.head = head + 1;
	if (res != OPBB_BLOCK) {
		p->error = res < 0 ? res : -5;
		p->state = OPBB_DONE;
		return IOU_LOOP_STOP;
	}

	if (p->state == OPBB_READING) {
		w = (__u64 *)(mem + OPBB_DATA_OFF);
		for (i = 0; i < OPBB_WORDS; i++)
			w[i] ^= OPBB_KEY;
		if (bb_issue_rw(ring, &sqes[0], p, false))
			return IOU_LOOP_STOP;
	} else {
		p->done++;
		if (p->done >= p->nr) {
			p->state = OPBB_DONE;
			return IOU_LOOP_STOP;
		}
		if (bb_issue_rw(ring, &sqes[0], p, true))
			return IOU_LOOP_STOP;
	}
	lp->cq_wait_idx = head + 2;
	return IOU_LOOP_CONTINUE;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops xform_loop_ops = {
	.loop_step = (void *)bb_step,
};
