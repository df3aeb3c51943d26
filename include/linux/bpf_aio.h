/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf aio: file I/O for BPF struct_ops programs (block/bpf_aio.c).
 *
 * A program allocates an aio (bpf_aio_alloc(), an acquired reference),
 * its user (a kernel subsystem such as ublk-bpf) attaches it to an owner,
 * which gives it pages, files and a completion, and the program submits
 * it (bpf_aio_submit()) or releases it (bpf_aio_release()): either
 * consumes the reference.  The completion callback of the owner's
 * struct bpf_aio_complete_ops runs from a workqueue; the kernel frees the
 * aio when it returns.
 */
#ifndef _LINUX_BPF_AIO_H
#define _LINUX_BPF_AIO_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

enum bpf_aio_op {
	BPF_AIO_OP_FS_READ = 0,
	BPF_AIO_OP_FS_WRITE,
	BPF_AIO_OP_FS_FSYNC,
	BPF_AIO_OP_FS_FALLOCATE,
	BPF_AIO_OP_NR,
};

/* bpf_aio_alloc() flags */
enum {
	/* never try the I/O inline (IOCB_NOWAIT): always the workqueue */
	BPF_AIO_FORCE_WQ	= BIT(0),
	/* a write is durable when it completes (IOCB_DSYNC, for FUA) */
	BPF_AIO_DSYNC		= BIT(1),
};

#define BPF_AIO_ALLOC_FLAGS	(BPF_AIO_FORCE_WQ | BPF_AIO_DSYNC)

/* bpf_aio_submit() flags: the mode of BPF_AIO_OP_FS_FALLOCATE, one of */
enum {
	/* deallocate the range, which then reads zeroes (discard) */
	BPF_AIO_FALLOC_PUNCH_HOLE	= BIT(0),
	/* the range reads zeroes and stays allocated (write-zeroes) */
	BPF_AIO_FALLOC_ZERO_RANGE	= BIT(1),
};

enum bpf_aio_stat {
	BPF_AIO_STAT_SUBMITTED,	/* bpf_aio_submit() calls */
	BPF_AIO_STAT_COMPLETED,	/* completions (a failed submit included) */
	BPF_AIO_STAT_WQ,	/* submissions the workqueue did */
	BPF_AIO_STAT_ERRORS,	/* completions with a negative result */
	BPF_AIO_STAT_NR,
};

struct bpf_aio;

/*
 * What a user of bpf aio binds: the files aios may name by index, held by
 * the user for as long as the owner lives; the id of the struct
 * bpf_aio_complete_ops whose callback completions run; and ->done(),
 * called after the callback, before the aio is freed.  The user waits
 * for its aios with bpf_aio_owner_drain() before it frees the owner.
 */
struct bpf_aio_owner {
	struct file		**files;
	unsigned int		nr_files;
	u32			ops_id;
	void			(*done)(struct bpf_aio *aio);
	/* aios attached and not yet freed */
	atomic_t		inflight;
	atomic64_t		stats[BPF_AIO_STAT_NR];
};

/**
 * struct bpf_aio - one file I/O of a BPF program
 * @op: enum bpf_aio_op
 * @flags: bpf_aio_alloc() flags
 * @iocb: the kiocb of a read or write
 * @iter: the pages of a read or write: the owner's, not copied
 * @result: bytes read or written, 0, or a negative errno
 * @owner: set when the user attaches the aio
 * @priv: the owner's
 */
struct bpf_aio {
	u32			op;
	u32			flags;
	struct kiocb		iocb;
	struct iov_iter		iter;
	long			result;
	struct bpf_aio_owner	*owner;
	void			*priv;
	/* kernel-private */
	struct file		*file;
	struct bio_vec		*bvec_alloc;
	loff_t			pos;
	u64			bytes;
	u32			mode;
	bool			io_done;
	struct work_struct	work;
};

/**
 * struct bpf_aio_complete_ops - completion of bpf aios
 * @id: the id owners name (struct bpf_aio_owner.ops_id); unique among
 *	the registered ops
 * @bpf_aio_complete_cb: @aio completed with @ret (bytes, 0 or a negative
 *	errno); called from a workqueue (process context).  The kernel
 *	frees @aio when it returns.
 */
struct bpf_aio_complete_ops {
	u32 id;
	void (*bpf_aio_complete_cb)(struct bpf_aio *aio, long ret);
};

#ifdef CONFIG_BPF_AIO
void bpf_aio_owner_init(struct bpf_aio_owner *owner);
void bpf_aio_attach(struct bpf_aio *aio, struct bpf_aio_owner *owner,
		    void *priv);
void bpf_aio_owner_drain(struct bpf_aio_owner *owner);
bool bpf_aio_ops_registered(u32 id);
int bpf_aio_check_file(struct file *file);
#endif

#endif
