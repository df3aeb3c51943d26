// SPDX-License-Identifier: GPL-2.0
/*
 * cp driven by BPF: READ a block into the buffer, WRITE as many bytes as
 * the READ returned, READ the next block, until a READ returns 0.  One
 * request in flight, its SQE at index 0 of an IORING_SETUP_SQ_REWIND ring.
 * The application only calls io_uring_enter(2) once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"
#include "iou_common.h"

char LICENSE[] SEC("license") = "GPL";

#define CP_CQ_SIZE	CQ_REGION_SIZE(CP_CQ_ENTRIES)
#define CP_SQ_SIZE	SQ_REGION_SIZE(CP_SQ_ENTRIES)

enum {
	UD_READ = 1,
	UD_WRITE,
};

static int cp_issue(struct io_ring_ctx *ring, struct io_uring_sqe *sqe,
		    struct cp_params *p, bool read)
{
	int ret;

	__builtin_memset(sqe, 0, sizeof(*sqe));
	if (read) {
		sqe->opcode = IORING_OP_READ;
		sqe->fd = p->in_fd;
		sqe->addr = p->buf;
		sqe->len = p->block;
		sqe->off = p->stream ? (__u64)-1 : p->in_off;
		sqe->user_data = UD_READ;
		p->state = CP_READING;
	} else {
		/* the rest of what the last READ returned */
		sqe->opcode = IORING_OP_WRITE;
		sqe->fd = p->out_fd;
		sqe->addr = p->buf + p->written;
		sqe->len = p->pending;
		sqe->off = p->out_off;
		sqe->user_data = UD_WRITE;
		p->state = CP_WRITING;
	}
	sqe->flags = p->sqe_flags;
	ret = bpf_io_uring_submit_sqes(ring, 1);
	if (ret != 1) {
		p->error = ret < 0 ? ret : -5;
		p->state = CP_DONE;
		return -1;
	}
	return 0;
}

SEC("struct_ops.s/cp_step")
int BPF_PROG(cp_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	struct io_rings *rings;
	struct cp_params *p;
	__u32 head;
	int res;

	p = (void *)bpf_io_uring_get_region(ring, IOU_REGION_MEM, sizeof(*p));
	if (!p)
		return -1;
	rings = (void *)bpf_io_uring_get_region(ring, IOU_REGION_CQ, CP_CQ_SIZE);
	sqes = (void *)bpf_io_uring_get_region(ring, IOU_REGION_SQ, CP_SQ_SIZE);
	if (!rings || !sqes) {
		p->error = -14;
		return IOU_LOOP_STOP;
	}
	p->steps++;

	if (p->state == CP_IDLE) {
		if (cp_issue(ring, &sqes[0], p, true))
			return IOU_LOOP_STOP;
		lp->cq_wait_idx = rings->cq.head + 1;
		return IOU_LOOP_CONTINUE;
	}

	head = rings->cq.head;
	if (head == rings->cq.tail) {
		/* woken early, wait on */
		lp->cq_wait_idx = head + 1;
		return IOU_LOOP_CONTINUE;
	}
	cqe = &rings->cqes[head & (CP_CQ_ENTRIES - 1)];
	res = cqe->res;
	rings->cq.head = head + 1;

	if (res < 0) {
		p->error = res;
		p->state = CP_DONE;
		return IOU_LOOP_STOP;
	}

	if (p->state == CP_READING) {
		p->reads++;
		if (res == 0) {
			p->state = CP_DONE;
			return IOU_LOOP_STOP;
		}
		if (res < p->block)
			p->short_reads++;
		p->in_off += res;
		p->pending = res;
		p->written = 0;
		if (cp_issue(ring, &sqes[0], p, false))
			return IOU_LOOP_STOP;
	} else {
		p->writes++;
		if (res == 0 || res > p->pending) {
			p->error = -5;
			p->state = CP_DONE;
			return IOU_LOOP_STOP;
		}
		p->bytes += res;
		p->out_off += res;
		p->written += res;
		p->pending -= res;
		/* a short write goes on with the rest, then the next READ */
		if (cp_issue(ring, &sqes[0], p, !p->pending))
			return IOU_LOOP_STOP;
	}

	lp->cq_wait_idx = head + 2;
	return IOU_LOOP_CONTINUE;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops cp_ops = {
	.loop_step = (void *)cp_step,
};
