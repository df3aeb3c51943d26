// SPDX-License-Identifier: GPL-2.0
/*
 * mixed target, over the server's loop target: BPF serves the reads of
 * chunks nothing was ever written in (zeroes) in ->queue_rq(); the rest
 * goes to the server, which marks in srv_written every chunk it writes
 * before it commits the write, and the chunks where the backing file has
 * data before the device starts.
 */
#include "ublk_chunks.h"

char LICENSE[] SEC("license") = "GPL";

/* sized by the server: one entry per UBLK_BPF_CHUNK of the device */
UBLK_CHUNK_MAP(srv_written);

SEC("struct_ops/mixed_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(mixed_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	if (ublk_io_op(io) != UBLK_IO_OP_READ || !io->bytes ||
	    !io_chunks_all(&srv_written, io, false))
		return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	ublk_bpf_complete_io(io, io->bytes);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops mixed_ops = {
	.queue_io_cmd = (void *)mixed_queue_io_cmd,
};
