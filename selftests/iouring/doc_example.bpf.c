// SPDX-License-Identifier: GPL-2.0
/*
 * The example of Documentation/io_uring/bpf-ops.rst, verbatim from the
 * #include on (tests/unit/test_docs.py checks that the two agree); the
 * doc_example test case loads and runs it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_io_uring_submit_sqes(struct io_ring_ctx *ctx, __u32 nr) __ksym;
extern __u8 *bpf_io_uring_get_region(struct io_ring_ctx *ctx, __u32 region_id,
				     const __u64 rdwr_buf_size) __ksym;

/* The ring is created with IORING_SETUP_CQSIZE and this many CQEs */
#define CQ_ENTRIES	8
#define CQ_SIZE		(sizeof(struct io_rings) + \
			 CQ_ENTRIES * sizeof(struct io_uring_cqe))

/* The application's layout of the parameter region */
struct params {
	__u64 nr;	/* NOPs to run */
	__u64 done;	/* NOPs completed */
};

SEC("struct_ops.s/nops_step")
int BPF_PROG(nops_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_uring_sqe *sqe;
	struct io_rings *rings;
	struct params *p;
	__u32 head, tail, i;

	p = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, sizeof(*p));
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, CQ_SIZE);
	sqe = (void *)bpf_io_uring_get_region(ring, IOU_REGION_SQ, sizeof(*sqe));
	if (!p || !rings || !sqe)
		return IOU_LOOP_STOP;

	/* reap: the CQ never holds more than CQ_ENTRIES, a bound for the verifier */
	head = rings->cq.head;
	tail = rings->cq.tail;
	for (i = 0; i < CQ_ENTRIES && head != tail; i++, head++)
		p->done++;
	rings->cq.head = head;
	if (p->done >= p->nr)
		return IOU_LOOP_STOP;

	/* the next NOP, at SQE index 0 (IORING_SETUP_SQ_REWIND) */
	__builtin_memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_NOP;
	if (bpf_io_uring_submit_sqes(ring, 1) != 1)
		return IOU_LOOP_STOP;

	/* call again once its CQE is there */
	lp->cq_wait_idx = head + 1;
	return IOU_LOOP_CONTINUE;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops nops_ops = {
	.loop_step = (void *)nops_step,
};
