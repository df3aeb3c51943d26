/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IOU_BPF_OPS_H
#define IOU_BPF_OPS_H

#include <linux/io_uring_types.h>

#include "loop.h"

/*
 * struct_ops a BPF program implements to run the event loop of a ring.  The
 * member names and types are ABI for BPF programs, which find them in the
 * kernel BTF.
 */
struct io_uring_bpf_ops {
	int (*loop_step)(struct io_ring_ctx *ctx, struct iou_loop_params *lp);

	/* the ring to attach to, a file descriptor of the attaching task */
	u32 ring_fd;
	/* kernel private: the ring the ops are installed in */
	void *priv;
};

/* region_id of bpf_io_uring_get_region() */
enum {
	/* the region registered with IORING_REGISTER_MEM_REGION */
	IOU_REGION_MEM,
	/* struct io_rings with the CQEs: the CQ ring */
	IOU_REGION_CQ,
	/* the array of SQEs */
	IOU_REGION_SQ,
};

#ifdef CONFIG_IO_URING_BPF_OPS
void io_unregister_bpf_ops(struct io_ring_ctx *ctx);
#else
static inline void io_unregister_bpf_ops(struct io_ring_ctx *ctx)
{
}
#endif

#endif
