// SPDX-License-Identifier: GPL-2.0
/* Must not load: uring_bpf_ops callbacks may not sleep */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops.s/sl_issue")
int BPF_PROG(sl_issue, struct uring_bpf_data *data)
{
	return 0;
}

SEC(".struct_ops.link")
struct uring_bpf_ops sleepable_op = {
	.issue_fn = (void *)sl_issue,
};
