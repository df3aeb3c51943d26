// SPDX-License-Identifier: GPL-2.0
/* Must not load: a uring_bpf_ops program writes outside data->pdu */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/bw_issue")
int BPF_PROG(bw_issue, struct uring_bpf_data *data)
{
	data->res = 1;
	return 0;
}

SEC(".struct_ops.link")
struct uring_bpf_ops bad_write_op = {
	.issue_fn = (void *)bw_issue,
};
