// SPDX-License-Identifier: GPL-2.0
/*
 * CQ overflow while the loop runs: every round submits twice as many NOPs
 * as the CQ holds without reaping in between, so half of them overflow.
 * The loop must flush the overflowed CQEs, with the ->uring_lock it holds,
 * as the program makes room: every CQE arrives, in order.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"
#include "iou_common.h"

char LICENSE[] SEC("license") = "GPL";

#define OVF_CQ_SIZE	CQ_REGION_SIZE(OVF_CQ_ENTRIES)
#define OVF_SQ_SIZE	SQ_REGION_SIZE(OVF_SQ_ENTRIES)

static int ovf_submit(struct io_ring_ctx *ring, struct io_uring_sqe *sqes,
		      struct ovf_params *p)
{
	int i, ret;

	for (i = 0; i < OVF_SQ_ENTRIES; i++) {
		struct io_uring_sqe *sqe = &sqes[i];

		__builtin_memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_NOP;
		sqe->user_data = p->submitted + i + 1;
	}
	ret = bpf_io_uring_submit_sqes(ring, OVF_SQ_ENTRIES);
	if (ret != OVF_SQ_ENTRIES) {
		p->error = ret < 0 ? ret : -5;
		return -1;
	}
	p->submitted += OVF_SQ_ENTRIES;
	return 0;
}

SEC("struct_ops.s/ovf_step")
int BPF_PROG(ovf_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_uring_sqe *sqes;
	struct ovf_params *p;
	struct io_rings *rings;
	__u32 head, tail, i;

	p = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, sizeof(*p));
	if (!p)
		return -1;
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, OVF_CQ_SIZE);
	sqes = (void *)bpf_io_uring_get_region(ring, IOU_REGION_SQ, OVF_SQ_SIZE);
	if (!rings || !sqes) {
		p->error = -14;
		return IOU_LOOP_STOP;
	}
	p->steps++;

	head = rings->cq.head;
	tail = rings->cq.tail;
	if (tail - head == OVF_CQ_ENTRIES)
		p->overflow_seen++;
	for (i = 0; i < OVF_CQ_ENTRIES && head != tail; i++, head++) {
		struct io_uring_cqe *cqe = &rings->cqes[head & (OVF_CQ_ENTRIES - 1)];

		if (cqe->res != 0 || cqe->user_data != p->completed + 1)
			p->bad_cqes++;
		p->completed++;
	}
	rings->cq.head = head;

	if (p->completed == p->submitted) {
		if (p->submitted >= p->rounds * 2 * OVF_SQ_ENTRIES)
			return IOU_LOOP_STOP;
		/* fill the CQ, then overflow it by as much again */
		if (ovf_submit(ring, sqes, p) || ovf_submit(ring, sqes, p))
			return IOU_LOOP_STOP;
	}

	lp->cq_wait_idx = head + 1;
	return IOU_LOOP_CONTINUE;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops ovf_ops = {
	.loop_step = (void *)ovf_step,
};
