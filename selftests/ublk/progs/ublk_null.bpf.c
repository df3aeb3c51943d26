// SPDX-License-Identifier: GPL-2.0
/*
 * null target, wholly in BPF: every I/O is completed in ->queue_rq();
 * reads return zeroes (the kernel clears what a program completes).
 */
#include "ublk_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/null_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(null_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	ublk_bpf_complete_io(io, ublk_io_done_bytes(io));
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops null_ops = {
	.queue_io_cmd = (void *)null_queue_io_cmd,
};
