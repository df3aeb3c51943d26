// SPDX-License-Identifier: GPL-2.0
/*
 * handback target, over the server's loop target: the qcow2-style split
 * of the ublk-bpf RFC, the server fills in a mapping and BPF does the I/O.
 *
 * srv_mapped has an entry per 64 KiB chunk of the device, non-zero once
 * the server mapped the chunk (at start: the chunks where the backing
 * file has data).  An I/O whose chunks are all mapped is BPF's: one bpf
 * aio on the backing file, from ->queue_rq().  The others are redirected:
 * the server serves a read itself; for a write (write-zeroes, discard) it
 * maps the chunks and commits -EAGAIN, which hands the I/O back, and
 * this program sees it again with UBLK_BPF_IO_F_HANDED_BACK, now mapped.
 * A handed-back I/O that is still not mapped fails with EIO: the server
 * broke its side of the split, and redirecting it again could go on
 * forever.
 */
#include "ublk_loop.h"
#include "ublk_chunks.h"

char LICENSE[] SEC("license") = "GPL";

/* sized by the server: one entry per UBLK_BPF_CHUNK of the device */
UBLK_CHUNK_MAP(srv_mapped);

#define EIO		5

SEC("struct_ops/handback_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(handback_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	if (ublk_io_op(io) == UBLK_IO_OP_FLUSH ||
	    io_chunks_all(&srv_mapped, io, true))
		return loop_queue(io);
	if (io->flags & UBLK_BPF_IO_F_HANDED_BACK)
		return ublk_bpf_end(io, -EIO);
	return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops handback_ops = {
	.queue_io_cmd = (void *)handback_queue_io_cmd,
};

LOOP_AIO_OPS(handback);
