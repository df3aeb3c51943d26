// SPDX-License-Identifier: GPL-2.0
/*
 * loop target: the device is one backing file (or block device), byte for
 * byte; --size makes it use only the start of the file.
 */
#include <errno.h>

#include "ublk.h"

static int loop_init(struct ublk_dev *dev)
{
	const struct ublk_file *f;
	int ret;

	ret = ublk_files_open(dev);
	if (ret)
		return ret;
	f = &dev->files[0];
	dev->dev_size = f->size;
	if (dev->cfg.size) {
		if (dev->cfg.size > f->full_size) {
			ublk_err("loop: --size %llu is larger than %s (%llu bytes)",
				 (unsigned long long)dev->cfg.size, f->path,
				 (unsigned long long)f->full_size);
			return -EINVAL;
		}
		if (dev->cfg.size % dev->lbs || dev->cfg.size < 4096) {
			ublk_err("loop: --size %llu: a multiple of %u of at least 4096 bytes is needed",
				 (unsigned long long)dev->cfg.size, dev->lbs);
			return -EINVAL;
		}
		dev->dev_size = dev->cfg.size;
	} else if (f->size != f->full_size) {
		ublk_err("loop: warning: %s: the last %llu bytes are not used (not a multiple of %u)",
			 f->path, (unsigned long long)(f->full_size - f->size),
			 dev->lbs);
	}
	return 0;
}

static void loop_deinit(struct ublk_dev *dev)
{
	ublk_files_close(dev);
}

static unsigned int loop_max_exts(const struct ublk_dev *dev)
{
	return 1;
}

static unsigned int loop_map(const struct ublk_dev *dev, uint64_t off,
			     unsigned int len, struct ublk_ext *ext)
{
	return ublk_ext_add(ext, 0, 0, off, 0, len);
}

const struct ublk_tgt_ops tgt_loop_ops = {
	.name = "loop",
	.min_files = 1,
	.max_files = 1,
	.init = loop_init,
	.deinit = loop_deinit,
	.max_exts = loop_max_exts,
	.queue_io = ublk_file_queue_io,
	.io_done = ublk_file_io_done,
	.map = loop_map,
};
