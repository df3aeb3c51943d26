// SPDX-License-Identifier: GPL-2.0
/* the loop target naming file 3 of a device that has one: -EBADF */
#define LOOP_FILE	3
#include "ublk_loop.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/loopb_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(loopb_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	return loop_queue(io);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops loopb_ops = {
	.queue_io_cmd = (void *)loopb_queue_io_cmd,
};

LOOP_AIO_OPS(loopb);
