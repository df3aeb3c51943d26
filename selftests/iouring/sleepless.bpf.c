// SPDX-License-Identifier: GPL-2.0
/* Must not load: bpf_io_uring_submit_sqes() sleeps, the program may not */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/sleepless_step")
int BPF_PROG(sleepless_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	bpf_io_uring_submit_sqes(ring, 1);
	return IOU_LOOP_STOP;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops sleepless_ops = {
	.loop_step = (void *)sleepless_step,
};
