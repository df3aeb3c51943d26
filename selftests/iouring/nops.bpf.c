// SPDX-License-Identifier: GPL-2.0
/*
 * NOPs and queue depth driven by BPF:
 *
 * nops_ops: runs params->nr NOPs, at most params->qd in flight, writing the
 * SQEs itself at SQ index 0 on (IORING_SETUP_SQ_REWIND ring), all in one
 * io_uring_enter(2).  With qd 1 every NOP is issued after the previous one
 * completed.
 *
 * nops_inline_ops: the same at QD 1, reaping the CQEs of NOPs that completed
 * inline and submitting the next NOP within one step.
 *
 * queued_ops: the application queued the SQEs on a circular SQ, the program
 * submits them so that at most params->qd are in flight and logs each
 * completion.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"
#include "iou_common.h"

char LICENSE[] SEC("license") = "GPL";

#define NOPS_CQ_SIZE	CQ_REGION_SIZE(NOPS_CQ_ENTRIES)
#define NOPS_SQ_SIZE	SQ_REGION_SIZE(NOPS_SQ_ENTRIES)

SEC("struct_ops.s/nops_step")
int BPF_PROG(nops_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_uring_sqe *sqes;
	struct nops_params *p;
	struct io_rings *rings;
	__u32 head, tail, i, n, inflight;
	int ret;

	p = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, sizeof(*p));
	if (!p)
		return -1;
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, NOPS_CQ_SIZE);
	sqes = (void *)bpf_io_uring_get_region(ring, IOU_REGION_SQ, NOPS_SQ_SIZE);
	if (!rings || !sqes) {
		p->error = -14;
		return IOU_LOOP_STOP;
	}
	p->steps++;

	head = rings->cq.head;
	tail = rings->cq.tail;
	for (i = 0; i < NOPS_CQ_ENTRIES && head != tail; i++, head++) {
		struct io_uring_cqe *cqe = &rings->cqes[head & (NOPS_CQ_ENTRIES - 1)];

		/* inline completions come in submission order */
		if (cqe->res != 0 || cqe->user_data != p->completed + 1)
			p->bad_cqes++;
		p->completed++;
	}
	rings->cq.head = head;

	if (p->completed >= p->nr)
		return IOU_LOOP_STOP;

	inflight = p->submitted - p->completed;
	if (inflight < p->qd && p->submitted < p->nr) {
		n = p->qd - inflight;
		if (n > p->nr - p->submitted)
			n = p->nr - p->submitted;
		if (n > NOPS_SQ_ENTRIES)
			n = NOPS_SQ_ENTRIES;
		for (i = 0; i < NOPS_SQ_ENTRIES && i < n; i++) {
			struct io_uring_sqe *sqe = &sqes[i];

			__builtin_memset(sqe, 0, sizeof(*sqe));
			sqe->opcode = IORING_OP_NOP;
			sqe->user_data = p->submitted + i + 1;
		}
		ret = bpf_io_uring_submit_sqes(ring, n);
		if (ret != (int)n) {
			p->error = ret < 0 ? ret : -5;
			return IOU_LOOP_STOP;
		}
		p->submitted += n;
		if (inflight + n > p->max_inflight)
			p->max_inflight = inflight + n;
	}

	/* come back when there is at least one CQE to reap */
	lp->cq_wait_idx = head + 1;
	return IOU_LOOP_CONTINUE;
}

/*
 * Sequential NOPs (QD 1) again, but a NOP completes inline, within
 * bpf_io_uring_submit_sqes(), so one step can reap its CQE and submit the
 * next one, up to params->per_step NOPs, instead of returning to the loop
 * for every NOP.  Each NOP is still submitted only after the one before it
 * completed; the step ends early, and the loop waits, if one has not.
 */
SEC("struct_ops.s/nops_inline_step")
int BPF_PROG(nops_inline_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_uring_sqe *sqe;
	struct nops_params *p;
	struct io_rings *rings;
	__u32 head, i;
	int ret;

	p = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, sizeof(*p));
	if (!p)
		return -1;
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, NOPS_CQ_SIZE);
	sqe = (void *)bpf_io_uring_get_region(ring, IOU_REGION_SQ, sizeof(*sqe));
	if (!rings || !sqe) {
		p->error = -14;
		return IOU_LOOP_STOP;
	}
	p->steps++;

	for (i = 0; i < NOPS_INLINE_MAX && i < p->per_step; i++) {
		head = rings->cq.head;
		if (head != rings->cq.tail) {
			struct io_uring_cqe *cqe = &rings->cqes[head & (NOPS_CQ_ENTRIES - 1)];

			if (cqe->res != 0 || cqe->user_data != p->completed + 1)
				p->bad_cqes++;
			p->completed++;
			rings->cq.head = head + 1;
		} else if (p->submitted != p->completed) {
			/* not completed inline: wait for it */
			break;
		}
		if (p->completed >= p->nr)
			return IOU_LOOP_STOP;

		__builtin_memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_NOP;
		sqe->user_data = p->submitted + 1;
		ret = bpf_io_uring_submit_sqes(ring, 1);
		if (ret != 1) {
			p->error = ret < 0 ? ret : -5;
			return IOU_LOOP_STOP;
		}
		p->submitted++;
		p->max_inflight = 1;
	}

	lp->cq_wait_idx = rings->cq.head + 1;
	return IOU_LOOP_CONTINUE;
}

SEC("struct_ops.s/queued_step")
int BPF_PROG(queued_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_rings *rings;
	struct qd_params *p;
	__u32 head, tail, i, n, inflight;
	int ret;

	p = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, sizeof(*p));
	if (!p)
		return -1;
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, NOPS_CQ_SIZE);
	if (!rings) {
		p->error = -14;
		return IOU_LOOP_STOP;
	}
	p->steps++;

	head = rings->cq.head;
	tail = rings->cq.tail;
	for (i = 0; i < NOPS_CQ_ENTRIES && head != tail; i++, head++) {
		struct io_uring_cqe *cqe = &rings->cqes[head & (NOPS_CQ_ENTRIES - 1)];
		__u64 c = p->completed;

		if (c < QD_LOG_ENTRIES) {
			p->log_user_data[c] = cqe->user_data;
			p->log_res[c] = cqe->res;
		}
		p->completed = c + 1;
	}
	rings->cq.head = head;

	if (p->completed >= p->nr)
		return IOU_LOOP_STOP;

	inflight = p->submitted - p->completed;
	if (inflight < p->qd && p->submitted < p->nr) {
		n = p->qd - inflight;
		if (n > p->nr - p->submitted)
			n = p->nr - p->submitted;
		ret = bpf_io_uring_submit_sqes(ring, n);
		if (ret <= 0) {
			p->error = ret < 0 ? ret : -5;
			return IOU_LOOP_STOP;
		}
		p->submitted += ret;
		if (inflight + ret > p->max_inflight)
			p->max_inflight = inflight + ret;
	}

	lp->cq_wait_idx = head + 1;
	return IOU_LOOP_CONTINUE;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops nops_ops = {
	.loop_step = (void *)nops_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops nops_inline_ops = {
	.loop_step = (void *)nops_inline_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops queued_ops = {
	.loop_step = (void *)queued_step,
};

/* Cost of the loop itself: steps that do nothing, and steps that only look up regions */
__u64 empty_left;

SEC("struct_ops.s/empty_step")
int BPF_PROG(empty_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	if (!empty_left)
		return IOU_LOOP_STOP;
	empty_left--;
	return IOU_LOOP_CONTINUE;
}

/* the same, not sleepable: without the sleepable trampoline's RCU tasks trace */
SEC("struct_ops/empty_ns_step")
int BPF_PROG(empty_ns_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	if (!empty_left)
		return IOU_LOOP_STOP;
	empty_left--;
	return IOU_LOOP_CONTINUE;
}

SEC("struct_ops.s/regions_step")
int BPF_PROG(regions_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	if (!bpf_io_uring_get_region(ring, IOU_REGION_MEM, 8) ||
	    !bpf_io_uring_get_region(ring, IOU_REGION_CQ, NOPS_CQ_SIZE) ||
	    !bpf_io_uring_get_region(ring, IOU_REGION_SQ, NOPS_SQ_SIZE))
		return -1;
	if (!empty_left)
		return IOU_LOOP_STOP;
	empty_left--;
	return IOU_LOOP_CONTINUE;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops empty_ops = {
	.loop_step = (void *)empty_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops empty_ns_ops = {
	.loop_step = (void *)empty_ns_step,
};

SEC(".struct_ops.link")
struct io_uring_bpf_ops regions_ops = {
	.loop_step = (void *)regions_step,
};
