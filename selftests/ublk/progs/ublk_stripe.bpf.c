// SPDX-License-Identifier: GPL-2.0
/*
 * stripe target wholly in BPF: RAID-0 over the N files of the BPF
 * parameter (the server's stripe target, 2 to 4 files), in chunks of
 * 1 << layout.chunk_shift bytes (--chunk): chunk c of the device is chunk
 * c / N of file c % N.  From ->queue_rq(), each call takes the piece of
 * the I/O up to the next chunk boundary (or the I/O's end) as one bpf
 * aio on its file and returns CONTINUE with its bytes; a 512K I/O over
 * 4K chunks is 128 calls and 128 aios (ublk_split.h).  The chunks an
 * I/O has in one file, which follow each other there (one readv/writev
 * in the server's target), are separate aios: an aio takes one
 * contiguous part of the I/O.
 */
#define SPLIT_TARGET	UBLK_BPF_LAYOUT_STRIPE
#include "ublk_split.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline unsigned int split_map(__u64 off, unsigned int left,
					      unsigned int *file, __u64 *pos)
{
	__u64 chunk = 1ULL << layout.chunk_shift, c = off >> layout.chunk_shift;
	__u64 in = off & (chunk - 1), room = chunk - in;

	if (!layout.nr_files)
		return 0;
	*file = c % layout.nr_files;
	*pos = ((c / layout.nr_files) << layout.chunk_shift) + in;
	return room < left ? room : left;
}

SPLIT_OPS(stripe);
