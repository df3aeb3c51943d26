/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IOU_LOOP_H
#define IOU_LOOP_H

#include <linux/io_uring_types.h>

/*
 * Shared between the event loop and its ->loop_step() callback, which may be
 * a BPF program: the layout is ABI for BPF programs.
 */
struct iou_loop_params {
	/*
	 * CQ index to wait for: when it is ahead of the CQ tail, the loop
	 * sleeps until that many more CQEs are posted before it calls
	 * ->loop_step() again.  A hint, the callback may run earlier.
	 */
	u32			cq_wait_idx;
};

/* return values of ->loop_step() */
enum {
	IOU_LOOP_CONTINUE = 0,
	IOU_LOOP_STOP,
};

#ifdef CONFIG_IO_URING_BPF_OPS
static inline bool io_has_loop_ops(struct io_ring_ctx *ctx)
{
	/* a hint: io_run_loop() checks again with ->uring_lock held */
	return data_race(ctx->loop_step);
}

int io_run_loop(struct io_ring_ctx *ctx);
void io_loop_wake(struct io_ring_ctx *ctx);
#else
static inline bool io_has_loop_ops(struct io_ring_ctx *ctx)
{
	return false;
}

static inline int io_run_loop(struct io_ring_ctx *ctx)
{
	return -EOPNOTSUPP;
}
#endif

#endif
