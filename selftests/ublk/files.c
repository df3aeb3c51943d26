// SPDX-License-Identifier: GPL-2.0
/*
 * Backing files of the file targets (loop, stripe, concat), and the I/O
 * they share.  A file target only says where the bytes of the device are:
 * its map() splits a range of the device into extents (file, offset in
 * the file, offset in the I/O buffer, length).  Extents of one file that
 * follow each other in the file become one readv/writev (or fallocate)
 * on the queue's io_uring; a FLUSH is an fsync of every file.
 *
 * Backing files are opened with O_DIRECT unless --buffered is given or
 * the file system refuses it; the direct I/O alignment (512 or 4096
 * bytes, probed with a read) becomes the device's logical block size.
 * A short read or write is continued where it stopped; a read that gets
 * nothing (past the end of a file truncated under the device) fails the
 * I/O with -EIO.  Discard punches a hole; write-zeroes does too, or, when
 * the request says NOUNMAP, zeroes the range with FALLOC_FL_ZERO_RANGE, or
 * where the file system has none (tmpfs) punches it and allocates it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "ublk.h"

/* The direct I/O alignment of @fd: 512 or 4096, 0 if neither works. */
static unsigned int probe_dio_align(int fd, uint64_t size)
{
	static const unsigned int aligns[] = { 512, 4096 };
	unsigned int i;
	void *buf;

	if (posix_memalign(&buf, 4096, 4096))
		return 0;
	for (i = 0; i < 2; i++) {
		if (size < aligns[i])
			break;
		if (pread(fd, buf, aligns[i], 0) == (ssize_t)aligns[i]) {
			free(buf);
			return aligns[i];
		}
	}
	free(buf);
	return 0;
}

static int open_one(struct ublk_dev *dev, unsigned int i)
{
	struct ublk_file *f = &dev->files[i];
	struct stat st, st2;
	unsigned int j;
	int lbs;

	f->path = dev->cfg.files[i];
	f->fd = -1;
	if (stat(f->path, &st)) {
		ublk_err("%s: %s", f->path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		ublk_err("%s: not a regular file or a block device", f->path);
		return -EINVAL;
	}
	for (j = 0; j < i; j++) {
		if (stat(dev->files[j].path, &st2))
			continue;
		if (st.st_dev == st2.st_dev && st.st_ino == st2.st_ino &&
		    st.st_rdev == st2.st_rdev) {
			ublk_err("%s: given twice (as %s too)", f->path,
				 dev->files[j].path);
			return -EINVAL;
		}
	}
	f->direct = !dev->cfg.buffered;
	f->fd = open(f->path, O_RDWR | O_CLOEXEC | (f->direct ? O_DIRECT : 0));
	if (f->fd < 0 && f->direct && errno == EINVAL) {
		f->direct = false;
		f->fd = open(f->path, O_RDWR | O_CLOEXEC);
	}
	if (f->fd < 0) {
		ublk_err("%s: %s", f->path, strerror(errno));
		return -errno;
	}
	f->blkdev = S_ISBLK(st.st_mode);
	if (f->blkdev) {
		if (ioctl(f->fd, BLKGETSIZE64, &f->full_size) ||
		    ioctl(f->fd, BLKSSZGET, &lbs)) {
			ublk_err("%s: cannot get its size: %s", f->path,
				 strerror(errno));
			return -errno;
		}
		f->lbs = lbs;
	} else {
		f->full_size = st.st_size;
		f->lbs = 512;
	}
	if (f->full_size < 4096) {
		ublk_err("%s: %llu bytes: a backing file needs at least 4096",
			 f->path, (unsigned long long)f->full_size);
		return -EINVAL;
	}
	if (f->direct && !f->blkdev) {
		f->lbs = probe_dio_align(f->fd, f->full_size);
		if (!f->lbs) {
			/* O_DIRECT opens but no aligned read works */
			close(f->fd);
			f->direct = false;
			f->lbs = 512;
			f->fd = open(f->path, O_RDWR | O_CLOEXEC);
			if (f->fd < 0) {
				ublk_err("%s: %s", f->path, strerror(errno));
				return -errno;
			}
		}
	}
	f->size = f->full_size / f->lbs * f->lbs;
	return 0;
}

int ublk_files_open(struct ublk_dev *dev)
{
	unsigned int i;
	int ret;

	dev->lbs = 512;
	for (i = 0; i < dev->cfg.nr_files; i++) {
		dev->nr_files = i + 1;
		ret = open_one(dev, i);
		if (ret)
			return ret;
		if (dev->files[i].lbs > dev->lbs)
			dev->lbs = dev->files[i].lbs;
	}
	/* a bigger alignment of one file rounds every file down */
	for (i = 0; i < dev->nr_files; i++)
		dev->files[i].size = dev->files[i].full_size / dev->lbs *
				     dev->lbs;
	return 0;
}

void ublk_files_close(struct ublk_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_files; i++) {
		if (dev->files[i].fd >= 0)
			close(dev->files[i].fd);
		dev->files[i].fd = -1;
	}
}

/*
 * Group the extents of an I/O into segments: per file, extents that
 * follow each other in the file share one segment (and one SQE).
 */
static void build_segs(struct ublk_dev *dev, struct ublk_io *io,
		       const struct ublk_ext *ext, unsigned int nr_ext)
{
	unsigned int f, i, nr_iov = 0;
	struct ublk_seg *seg;

	io->nr_segs = 0;
	for (f = 0; f < dev->nr_files; f++) {
		seg = NULL;
		for (i = 0; i < nr_ext; i++) {
			if (ext[i].file != f)
				continue;
			if (!seg || seg->off + seg->len != ext[i].off) {
				seg = &io->segs[io->nr_segs++];
				seg->file = f;
				seg->off = ext[i].off;
				seg->len = 0;
				seg->done = 0;
				seg->iov = nr_iov;
				seg->nr_iov = 0;
				seg->step = 0;
			}
			io->iovs[nr_iov].iov_base = io->buf + ext[i].buf_off;
			io->iovs[nr_iov].iov_len = ext[i].len;
			nr_iov++;
			seg->nr_iov++;
			seg->len += ext[i].len;
		}
	}
}

static bool zeroes_nounmap(const struct ublk_io *io)
{
	return ublksrv_get_op(&io->iod) == UBLK_IO_OP_WRITE_ZEROES &&
	       (io->iod.op_flags & UBLK_IO_F_NOUNMAP);
}

static int fallocate_mode(const struct ublk_file *f, const struct ublk_io *io,
			  const struct ublk_seg *seg)
{
	if (!zeroes_nounmap(io))
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (!f->no_zero_range)
		return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	return seg->step ? FALLOC_FL_KEEP_SIZE :
			   FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
}

/* Queue segment @s of @tag from where it stopped. */
static int queue_seg(struct ublk_queue *q, int tag, unsigned int s)
{
	struct ublk_dev *dev = q->dev;
	struct ublk_io *io = &q->ios[tag];
	struct ublk_seg *seg = &io->segs[s];
	const struct ublk_file *f = &dev->files[seg->file];
	unsigned int op = ublksrv_get_op(&io->iod);
	struct io_uring_sqe *sqe;
	struct iovec *iov = &io->iovs[seg->iov];
	unsigned int nr_iov = seg->nr_iov, skip = seg->done;

	sqe = ublk_tgt_sqe(q, tag, s);
	if (!sqe)
		return -ENOMEM;
	switch (op) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
		/* a short transfer before: drop what was done */
		while (skip && skip >= iov->iov_len) {
			skip -= iov->iov_len;
			iov++;
			nr_iov--;
		}
		if (skip) {
			iov->iov_base = (char *)iov->iov_base + skip;
			iov->iov_len -= skip;
		}
		seg->iov = iov - io->iovs;
		seg->nr_iov = nr_iov;
		seg->off += seg->done;
		seg->len -= seg->done;
		seg->done = 0;
		io_uring_prep_rw(op == UBLK_IO_OP_READ ? IORING_OP_READV :
				 IORING_OP_WRITEV, sqe, f->fd, iov, nr_iov,
				 seg->off);
		if (op == UBLK_IO_OP_WRITE &&
		    (io->iod.op_flags & UBLK_IO_F_FUA))
			sqe->rw_flags = RWF_DSYNC;
		break;
	case UBLK_IO_OP_FLUSH:
		io_uring_prep_fsync(sqe, f->fd, 0);
		break;
	default:
		seg->mode = fallocate_mode(f, io, seg);
		io_uring_prep_fallocate(sqe, f->fd, seg->mode, seg->off,
					seg->len);
		break;
	}
	/* io_uring_prep_* set user_data to 0 */
	sqe->user_data = ublk_user_data(tag, UD_KIND_TGT, s);
	return 0;
}

int ublk_file_queue_io(struct ublk_queue *q, int tag)
{
	struct ublk_dev *dev = q->dev;
	struct ublk_io *io = &q->ios[tag];
	unsigned int op = ublksrv_get_op(&io->iod);
	uint64_t off = io->iod.start_sector << 9;
	unsigned int len = io->iod.nr_sectors << 9;
	struct ublk_ext *ext = q->exts;
	unsigned int nr_ext, s;
	int ret;

	switch (op) {
	case UBLK_IO_OP_FLUSH:
		io->nr_segs = dev->nr_files;
		for (s = 0; s < dev->nr_files; s++) {
			io->segs[s].file = s;
			io->segs[s].len = 0;
			io->segs[s].step = 0;
		}
		break;
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		if (off + len > dev->dev_size || !len)
			return -EIO;
		nr_ext = dev->ops->map(dev, off, len, ext);
		build_segs(dev, io, ext, nr_ext);
		break;
	default:
		return -EOPNOTSUPP;
	}
	for (s = 0; s < io->nr_segs; s++) {
		ret = queue_seg(q, tag, s);
		if (ret) {
			if (!io->pending)
				return ret;
			/* the queued ones complete it */
			io->result = ret;
			break;
		}
	}
	return 0;
}

/*
 * Write-zeroes with NOUNMAP: whether segment @seg needs another fallocate
 * (ZERO_RANGE refused: emulate it; the hole punched: allocate it).
 */
static bool fallocate_again(struct ublk_queue *q, struct ublk_io *io,
			    struct ublk_seg *seg, int res)
{
	struct ublk_file *f = &q->dev->files[seg->file];

	if (res == -EOPNOTSUPP && (seg->mode & FALLOC_FL_ZERO_RANGE)) {
		/* benign race: every queue thread may find it out */
		f->no_zero_range = true;
		seg->step = 0;
		return true;
	}
	if (!res && f->no_zero_range && !seg->step &&
	    (seg->mode & FALLOC_FL_PUNCH_HOLE)) {
		seg->step = 1;
		return true;
	}
	return false;
}

void ublk_file_io_done(struct ublk_queue *q, int tag,
		       const struct io_uring_cqe *cqe)
{
	struct ublk_io *io = &q->ios[tag];
	unsigned int s = UD_TGT(cqe->user_data);
	struct ublk_seg *seg = &io->segs[s];
	unsigned int op = ublksrv_get_op(&io->iod);
	int res = cqe->res;

	if (res == -EAGAIN || res == -EINTR) {
		if (!queue_seg(q, tag, s))
			return;
		res = -EIO;
	}
	if (zeroes_nounmap(io) && fallocate_again(q, io, seg, res)) {
		res = queue_seg(q, tag, s);
		if (!res)
			return;
	}
	if (res < 0) {
		if (!io->result)
			io->result = res;
	} else if (op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE) {
		seg->done += res;
		if (seg->done < seg->len) {
			if (!res) {
				ublk_err("%s: %s of %u bytes at %llu got none (past the end of the file?)",
					 q->dev->files[seg->file].path,
					 ublk_op_name(op), seg->len,
					 (unsigned long long)seg->off);
				if (!io->result)
					io->result = -EIO;
			} else if (!io->result) {
				res = queue_seg(q, tag, s);
				if (!res)
					return;
				io->result = res;
			}
		}
	}
	if (io->pending)
		return;
	if (io->result < 0)
		ublk_complete_io(q, tag, io->result);
	else if (op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE)
		ublk_complete_io(q, tag, io->iod.nr_sectors << 9);
	else
		ublk_complete_io(q, tag, 0);
}
