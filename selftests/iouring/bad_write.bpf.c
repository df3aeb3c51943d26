// SPDX-License-Identifier: GPL-2.0
/* Must not load: writes kernel memory other than params->cq_wait_idx */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops.s/bad_write_step")
int BPF_PROG(bad_write_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	ring->cq_entries = 1;
	return IOU_LOOP_STOP;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops bad_write_ops = {
	.loop_step = (void *)bad_write_step,
};
