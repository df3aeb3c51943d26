// SPDX-License-Identifier: GPL-2.0
/*
 * concat target wholly in BPF (seed 001's two-file target, for 2 to 8
 * files): the files of the BPF parameter one after the other, file i
 * from layout.end[i - 1] (0 for the first) to layout.end[i].  From
 * ->queue_rq(), each call takes the piece of the I/O up to the end of
 * the file it starts in (or the I/O's end) as one bpf aio on that file
 * and returns CONTINUE with its bytes; an I/O crossing a file end is two
 * aios, one crossing two ends three (ublk_split.h).
 */
#define SPLIT_TARGET	UBLK_BPF_LAYOUT_CONCAT
#include "ublk_split.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline unsigned int split_map(__u64 off, unsigned int left,
					      unsigned int *file, __u64 *pos)
{
	__u64 start = 0, end;
	unsigned int i;

	for (i = 0; i < UBLK_BPF_LAYOUT_FILES && i < layout.nr_files; i++) {
		end = layout.end[i];
		if (off < end) {
			*file = i;
			*pos = off - start;
			return end - off < left ? end - off : left;
		}
		start = end;
	}
	return 0;
}

SPLIT_OPS(concat);
