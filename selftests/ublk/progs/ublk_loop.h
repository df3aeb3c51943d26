/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loop target in BPF (ublk_loop*.bpf.c): each I/O is one bpf aio on
 * the backing file (file LOOP_FILE of the BPF parameter) at the I/O's
 * offset, with the request's pages: read, write (FUA: DSYNC), flush
 * (fsync), discard and write-zeroes (a hole punched, which reads
 * zeroes: tmpfs has no zero range).  The completion callback hands the
 * aio's result to the I/O, which ends with it.  The targets over several
 * files (ublk_split.h) use the same aios, one per piece of an I/O.
 */
#ifndef UBLK_LOOP_H
#define UBLK_LOOP_H

#include "ublk_bpf.h"

#ifndef LOOP_FILE
#define LOOP_FILE	0
#endif

/* include/linux/bpf_aio.h */
#define LOOP_AIO_READ		0
#define LOOP_AIO_WRITE		1
#define LOOP_AIO_FSYNC		2
#define LOOP_AIO_FALLOCATE	3
#define LOOP_AIO_DSYNC		(1U << 1)
#define LOOP_AIO_PUNCH_HOLE	(1U << 0)

#define UBLK_IO_F_FUA		(1U << 13)
#define EOPNOTSUPP		95
#define ENOMEM			12

extern struct bpf_aio *bpf_aio_alloc(unsigned int op, unsigned int flags) __ksym;
extern void bpf_aio_release(struct bpf_aio *aio) __ksym;
extern int bpf_aio_submit(struct bpf_aio *aio, unsigned int file_idx,
			  __u64 pos, __u64 bytes, unsigned int flags) __ksym;
extern int ublk_bpf_attach_and_prep_aio(struct ublk_bpf_io *io,
					unsigned int offset, unsigned int bytes,
					struct bpf_aio *aio) __ksym;
extern void ublk_bpf_dettach_and_complete_aio(struct bpf_aio *aio) __ksym;
extern struct ublk_bpf_io *ublk_bpf_acquire_io_from_aio(struct bpf_aio *aio) __ksym;
extern void ublk_bpf_release_io_from_aio(struct ublk_bpf_io *io) __ksym;

/* a queue callback's end: the I/O completed with @res, nothing left to do */
static __always_inline ublk_bpf_return_t ublk_bpf_end(struct ublk_bpf_io *io,
						      int res)
{
	ublk_bpf_complete_io(io, res);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

/*
 * The aio of an I/O's operation: its op, alloc flags and fallocate mode;
 * 0, or -EOPNOTSUPP
 */
static __always_inline int loop_aio_op(const struct ublk_bpf_io *io,
				       unsigned int *aop, unsigned int *flags,
				       unsigned int *mode)
{
	*flags = 0;
	*mode = 0;
	switch (ublk_io_op(io)) {
	case UBLK_IO_OP_READ:
		*aop = LOOP_AIO_READ;
		return 0;
	case UBLK_IO_OP_WRITE:
		*aop = LOOP_AIO_WRITE;
		if (io->iod.op_flags & UBLK_IO_F_FUA)
			*flags = LOOP_AIO_DSYNC;
		return 0;
	case UBLK_IO_OP_FLUSH:
		*aop = LOOP_AIO_FSYNC;
		return 0;
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		*aop = LOOP_AIO_FALLOCATE;
		*mode = LOOP_AIO_PUNCH_HOLE;
		return 0;
	}
	return -EOPNOTSUPP;
}

/*
 * One aio for [@io_off, @io_off + @bytes) of the I/O, at @pos of file
 * @file of the BPF parameter (an fsync: all of the file, no bytes): 0
 * once it is attached to the I/O, which then ends with it; else the
 * errno to complete the I/O with.  A failed submit completes the aio
 * with its errno: the I/O fails.
 */
static __always_inline int loop_aio(struct ublk_bpf_io *io, unsigned int aop,
				    unsigned int flags, unsigned int mode,
				    unsigned int file, __u64 pos,
				    unsigned int io_off, unsigned int bytes)
{
	struct bpf_aio *aio;
	int ret;

	aio = bpf_aio_alloc(aop, flags);
	if (!aio)
		return -ENOMEM;
	ret = ublk_bpf_attach_and_prep_aio(io, io_off, bytes, aio);
	if (ret) {
		bpf_aio_release(aio);
		return ret;
	}
	bpf_aio_submit(aio, file, pos, bytes, mode);
	return 0;
}

static __always_inline ublk_bpf_return_t loop_queue(struct ublk_bpf_io *io)
{
	unsigned int aop, flags, mode;
	int ret;

	ret = loop_aio_op(io, &aop, &flags, &mode);
	if (ret)
		return ublk_bpf_end(io, ret);
	/* a flush has no sector (it is -1) and no bytes */
	if (aop == LOOP_AIO_FSYNC)
		ret = loop_aio(io, aop, 0, 0, LOOP_FILE, 0, 0, 0);
	else
		ret = loop_aio(io, aop, flags, mode, LOOP_FILE,
			       io->iod.start_sector << 9, 0, io->bytes);
	if (ret)
		return ublk_bpf_end(io, ret);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

#define LOOP_AIO_OPS(name)						\
SEC("struct_ops/" #name "_aio_done")					\
void BPF_PROG(name##_aio_done, struct bpf_aio *aio, long ret)		\
{									\
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);	\
									\
	if (!io)							\
		return;							\
	ublk_bpf_dettach_and_complete_aio(aio);				\
	ublk_bpf_release_io_from_aio(io);				\
}									\
									\
SEC(".struct_ops.link")							\
struct bpf_aio_complete_ops name##_aio_ops = {				\
	.bpf_aio_complete_cb = (void *)name##_aio_done,			\
}

#endif
