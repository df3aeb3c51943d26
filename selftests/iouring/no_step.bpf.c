// SPDX-License-Identifier: GPL-2.0
/* Must not attach: struct_ops without loop_step */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC(".struct_ops.link")
struct io_uring_bpf_ops no_step_ops = {
	.ring_fd = 0,
};
