// SPDX-License-Identifier: GPL-2.0
/*
 * concat target: the files one after the other (with two files of the
 * same size, the first half of the device is one file and the second half
 * the other).  Each file contributes its size rounded down to the block
 * size; an I/O that crosses the end of a file is split.
 */
#include <errno.h>

#include "ublk.h"

static int concat_init(struct ublk_dev *dev)
{
	unsigned int i;
	int ret;

	ret = ublk_files_open(dev);
	if (ret)
		return ret;
	dev->dev_size = 0;
	for (i = 0; i < dev->nr_files; i++) {
		const struct ublk_file *f = &dev->files[i];

		if (f->size != f->full_size)
			ublk_err("concat: warning: %s: the last %llu bytes are not used (not a multiple of %u)",
				 f->path,
				 (unsigned long long)(f->full_size - f->size),
				 dev->lbs);
		dev->dev_size += f->size;
	}
	return 0;
}

static void concat_deinit(struct ublk_dev *dev)
{
	ublk_files_close(dev);
}

static unsigned int concat_max_exts(const struct ublk_dev *dev)
{
	return dev->nr_files;
}

static unsigned int concat_map(const struct ublk_dev *dev, uint64_t off,
			       unsigned int len, struct ublk_ext *ext)
{
	unsigned int n = 0, buf_off = 0, i;
	uint64_t start = 0;

	for (i = 0; i < dev->nr_files && len; i++) {
		uint64_t size = dev->files[i].size;
		unsigned int l;

		if (off >= start + size) {
			start += size;
			continue;
		}
		l = start + size - off < len ? start + size - off : len;
		n = ublk_ext_add(ext, n, i, off - start, buf_off, l);
		off += l;
		buf_off += l;
		len -= l;
		start += size;
	}
	return n;
}

const struct ublk_tgt_ops tgt_concat_ops = {
	.name = "concat",
	.min_files = 2,
	.max_files = UBLK_MAX_FILES,
	.init = concat_init,
	.deinit = concat_deinit,
	.max_exts = concat_max_exts,
	.queue_io = ublk_file_queue_io,
	.io_done = ublk_file_io_done,
	.map = concat_map,
};
