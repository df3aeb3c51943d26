// SPDX-License-Identifier: GPL-2.0
/* loop target wholly in BPF: each I/O one bpf aio from ->queue_rq() */
#include "ublk_loop.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/loop_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(loop_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	return loop_queue(io);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops loop_ops = {
	.queue_io_cmd = (void *)loop_queue_io_cmd,
};

LOOP_AIO_OPS(loop);
