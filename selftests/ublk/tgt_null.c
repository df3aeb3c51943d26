// SPDX-License-Identifier: GPL-2.0
/*
 * null target: no backing store.  Writes, flushes, discards and
 * write-zeroes succeed at once; reads return zeroes.
 */
#include <errno.h>
#include <string.h>

#include "ublk.h"

static int null_init(struct ublk_dev *dev)
{
	uint64_t size = dev->cfg.size ? dev->cfg.size : UBLK_DEF_NULL_SIZE;

	if (size % 512 || size < 4096) {
		ublk_err("null: --size %llu: a multiple of 512 of at least 4096 bytes is needed",
			 (unsigned long long)size);
		return -EINVAL;
	}
	dev->dev_size = size;
	dev->lbs = 512;
	return 0;
}

static void null_deinit(struct ublk_dev *dev)
{
}

static unsigned int null_max_exts(const struct ublk_dev *dev)
{
	return 0;
}

static int null_queue_io(struct ublk_queue *q, int tag)
{
	struct ublk_io *io = &q->ios[tag];
	unsigned int len = io->iod.nr_sectors << 9;

	switch (ublksrv_get_op(&io->iod)) {
	case UBLK_IO_OP_READ:
		memset(io->buf, 0, len);
		ublk_complete_io(q, tag, len);
		return 0;
	case UBLK_IO_OP_WRITE:
		ublk_complete_io(q, tag, len);
		return 0;
	case UBLK_IO_OP_FLUSH:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		ublk_complete_io(q, tag, 0);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static void null_io_done(struct ublk_queue *q, int tag,
			 const struct io_uring_cqe *cqe)
{
	/* null queues no SQE */
	ublk_err("null: queue %d tag %d: unexpected completion", q->q_id, tag);
}

const struct ublk_tgt_ops tgt_null_ops = {
	.name = "null",
	.min_files = 0,
	.max_files = 0,
	.init = null_init,
	.deinit = null_deinit,
	.max_exts = null_max_exts,
	.queue_io = null_queue_io,
	.io_done = null_io_done,
};
