// SPDX-License-Identifier: GPL-2.0
/* refused by the verifier: ublk_bpf_complete_io() with a NULL I/O */
#include "ublk_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/bad_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(bad_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	ublk_bpf_complete_io(NULL, 0);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops bad_ops = {
	.queue_io_cmd = (void *)bad_queue_io_cmd,
};
