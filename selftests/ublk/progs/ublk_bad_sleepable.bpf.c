// SPDX-License-Identifier: GPL-2.0
/* refused: a sleepable ->queue_io_cmd(), which runs in ->queue_rq() */
#include "ublk_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops.s/bad_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(bad_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	ublk_bpf_complete_io(io, 0);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops bad_ops = {
	.queue_io_cmd = (void *)bad_queue_io_cmd,
};
