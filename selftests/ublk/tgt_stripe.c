// SPDX-License-Identifier: GPL-2.0
/*
 * stripe target: RAID-0 over 2 to 4 files.  Chunk i of the device
 * (--chunk bytes, a power of two, 64 KiB by default) is chunk i / N of
 * file i % N.  Every file contributes the same number of whole chunks
 * (those of the smallest file); an I/O that crosses chunks is split, and
 * the chunks it has in one file, which follow each other there, are one
 * readv/writev.
 */
#include <errno.h>

#include "ublk.h"

static int stripe_init(struct ublk_dev *dev)
{
	unsigned int chunk = dev->cfg.chunk, i;
	uint64_t per_file = UINT64_MAX;
	int ret;

	ret = ublk_files_open(dev);
	if (ret)
		return ret;
	if (chunk < dev->lbs) {
		ublk_err("stripe: --chunk %u is smaller than the block size %u of the files",
			 chunk, dev->lbs);
		return -EINVAL;
	}
	for (i = 0; i < dev->nr_files; i++) {
		uint64_t n = dev->files[i].full_size / chunk * chunk;

		if (!n) {
			ublk_err("stripe: %s (%llu bytes) is smaller than one chunk (%u bytes)",
				 dev->files[i].path,
				 (unsigned long long)dev->files[i].full_size,
				 chunk);
			return -EINVAL;
		}
		if (n < per_file)
			per_file = n;
	}
	for (i = 0; i < dev->nr_files; i++) {
		const struct ublk_file *f = &dev->files[i];

		if (f->full_size != per_file)
			ublk_err("stripe: warning: %s: the last %llu bytes are not used",
				 f->path,
				 (unsigned long long)(f->full_size - per_file));
		dev->files[i].size = per_file;
	}
	dev->dev_size = per_file * dev->nr_files;
	return 0;
}

static void stripe_deinit(struct ublk_dev *dev)
{
	ublk_files_close(dev);
}

static unsigned int stripe_max_exts(const struct ublk_dev *dev)
{
	unsigned int n = dev->cfg.max_io / dev->cfg.chunk + 2;

	return n > dev->nr_files ? n : dev->nr_files;
}

static unsigned int stripe_map(const struct ublk_dev *dev, uint64_t off,
			       unsigned int len, struct ublk_ext *ext)
{
	uint64_t chunk = dev->cfg.chunk;
	unsigned int n = 0, buf_off = 0;

	while (len) {
		uint64_t c = off / chunk, in = off % chunk;
		unsigned int l = chunk - in < len ? chunk - in : len;

		n = ublk_ext_add(ext, n, c % dev->nr_files,
				 c / dev->nr_files * chunk + in, buf_off, l);
		off += l;
		buf_off += l;
		len -= l;
	}
	return n;
}

const struct ublk_tgt_ops tgt_stripe_ops = {
	.name = "stripe",
	.min_files = 2,
	.max_files = 4,
	.init = stripe_init,
	.deinit = stripe_deinit,
	.max_exts = stripe_max_exts,
	.queue_io = ublk_file_queue_io,
	.io_done = ublk_file_io_done,
	.map = stripe_map,
};
