// SPDX-License-Identifier: GPL-2.0
/* Must not load: a uring_bpf_ops program calls a kfunc of the loop ops */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/lk_issue")
int BPF_PROG(lk_issue, struct uring_bpf_data *data)
{
	return bpf_io_uring_get_region(NULL, IOU_REGION_CQ, 64) ? 1 : 0;
}

SEC(".struct_ops.link")
struct uring_bpf_ops loop_kfunc_op = {
	.issue_fn = (void *)lk_issue,
};
