// SPDX-License-Identifier: GPL-2.0
/*
 * loop target in BPF from the server's queue task: a sleepable
 * queue_io_cmd_daemon, whose reads and writes bpf aio tries inline with
 * IOCB_NOWAIT before the workqueue
 */
#include "ublk_loop.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops.s/loopd_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(loopd_queue_io_cmd_daemon, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	return loop_queue(io);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops loopd_ops = {
	.queue_io_cmd_daemon = (void *)loopd_queue_io_cmd_daemon,
};

LOOP_AIO_OPS(loopd);
