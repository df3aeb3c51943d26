// SPDX-License-Identifier: GPL-2.0
/*
 * mixed target, over the server's loop target: BPF serves the reads of
 * chunks nothing was ever written in (zeroes) in ->queue_rq(); the rest
 * goes to the server, which marks in srv_written every chunk it writes
 * before it commits the write, and the chunks where the backing file has
 * data before the device starts.
 */
#include "ublk_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* sized by the server: one entry per UBLK_BPF_CHUNK of the device */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} srv_written SEC(".maps");

/* an I/O is at most 512K: 9 chunks with its unaligned ends */
#define MAX_CHUNKS	((512 << 10) / UBLK_BPF_CHUNK + 1)

SEC("struct_ops/mixed_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(mixed_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	__u64 start = io->iod.start_sector << 9;
	__u64 first, last;
	__u8 *written;
	__u32 key;
	int i;

	if (ublk_io_op(io) != UBLK_IO_OP_READ || !io->bytes)
		return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	first = start >> UBLK_BPF_CHUNK_SHIFT;
	last = (start + io->bytes - 1) >> UBLK_BPF_CHUNK_SHIFT;
	if (last - first >= MAX_CHUNKS)
		return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	for (i = 0; i < MAX_CHUNKS; i++) {
		if (first + i > last)
			break;
		key = first + i;
		written = bpf_map_lookup_elem(&srv_written, &key);
		if (!written || *written)
			return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	}
	ublk_bpf_complete_io(io, io->bytes);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops mixed_ops = {
	.queue_io_cmd = (void *)mixed_queue_io_cmd,
};
