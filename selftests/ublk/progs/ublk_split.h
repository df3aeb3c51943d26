/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF targets over several files (ublk_stripe.bpf.c, ublk_concat.bpf.c):
 * an I/O is split where the layout puts the next piece in another file
 * or at another place of the same file, and each piece is one bpf aio of
 * ublk_loop.h's on its file, with the pages of that part of the I/O.
 *
 * ->queue_io_cmd() queues the piece that starts @done_bytes into the
 * I/O, as the program's split_map() says, and returns CONTINUE with its
 * bytes: the kernel calls it again with @done_bytes grown by them.  The
 * last piece returns QUEUED, so the device's split counter grows by the
 * pieces of an I/O less one.  The I/O ends when its last aio does, with
 * the first error of any; an error before an aio is attached completes
 * the I/O with it (the aios already attached still end it).  A flush is
 * an fsync aio of every file, in one call.  Discard and write-zeroes are
 * split like writes, each piece a hole punched.
 *
 * The layout is the server's (struct ublk_bpf_layout, read-only data
 * it fills in before loading the object): the verifier sees its values
 * as constants.  A program defines SPLIT_TARGET (its enum
 * ublk_bpf_layout_target) before including this, and split_map().
 */
#ifndef UBLK_SPLIT_H
#define UBLK_SPLIT_H

#include "ublk_loop.h"

/* the bytes CONTINUE claims for a piece (a wrong claim fails the I/O) */
#ifndef SPLIT_CLAIM
#define SPLIT_CLAIM(bytes)	(bytes)
#endif

const volatile struct ublk_bpf_layout layout = { .target = SPLIT_TARGET };

/*
 * The piece at device offset @off, of at most @left bytes: its file and
 * the offset there; returns its bytes (0 past the end of the device).
 */
static __always_inline unsigned int split_map(__u64 off, unsigned int left,
					      unsigned int *file, __u64 *pos);

static __always_inline ublk_bpf_return_t split_queue(struct ublk_bpf_io *io,
						     unsigned int done)
{
	unsigned int aop, flags, mode, file = 0, bytes, i;
	__u64 pos = 0;
	int ret;

	ret = loop_aio_op(io, &aop, &flags, &mode);
	if (ret)
		return ublk_bpf_end(io, ret);
	if (aop == LOOP_AIO_FSYNC) {
		for (i = 0; i < UBLK_BPF_LAYOUT_FILES && i < layout.nr_files; i++) {
			ret = loop_aio(io, aop, 0, 0, i, 0, 0, 0);
			if (ret)
				return ublk_bpf_end(io, ret);
		}
		return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
	}
	bytes = split_map((io->iod.start_sector << 9) + done, io->bytes - done,
			  &file, &pos);
	ret = loop_aio(io, aop, flags, mode, file, pos, done, bytes);
	if (ret)
		return ublk_bpf_end(io, ret);
	if (done + bytes == io->bytes)
		return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
	return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, SPLIT_CLAIM(bytes));
}

/* the ublk_bpf_ops and bpf_aio_complete_ops of target NAME */
#define SPLIT_OPS(name)							\
SEC("struct_ops/" #name "_queue_io_cmd")				\
ublk_bpf_return_t BPF_PROG(name##_queue_io_cmd, struct ublk_bpf_io *io,	\
			   unsigned int done_bytes)			\
{									\
	return split_queue(io, done_bytes);				\
}									\
									\
SEC(".struct_ops.link")							\
struct ublk_bpf_ops name##_ops = {					\
	.queue_io_cmd = (void *)name##_queue_io_cmd,			\
};									\
									\
LOOP_AIO_OPS(name)

#endif
