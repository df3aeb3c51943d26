// SPDX-License-Identifier: GPL-2.0
/* Must not load: a loop_step program calls a kfunc of IORING_OP_BPF */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_opbpf_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops.s/lo_step")
int BPF_PROG(lo_step, struct io_ring_ctx *ring, struct iou_loop_params *lp)
{
	uring_bpf_set_result(NULL, 0);
	return IOU_LOOP_STOP;
}

SEC(".struct_ops.link")
struct io_uring_bpf_ops opbpf_kfunc_loop = {
	.loop_step = (void *)lo_step,
};
