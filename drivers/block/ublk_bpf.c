// SPDX-License-Identifier: GPL-2.0
/*
 * ublk-bpf: the I/O of UBLK_F_BPF ublk devices offered to BPF struct_ops
 * programs (struct ublk_bpf_ops) before the server.
 *
 * A device names its ops by id (UBLK_PARAM_TYPE_BPF) and is attached to
 * the registered ops of that id at UBLK_CMD_START_DEV.  Each I/O is then
 * given to ->queue_io_cmd() in ->queue_rq(), and what that redirects to
 * ->queue_io_cmd_daemon() in the server's queue task; what both redirect
 * goes to the server as on any ublk device.  A program handles an I/O by
 * completing it with ublk_bpf_complete_io() from the callback, and the
 * kernel ends the request when the callback returns; or by doing it with
 * bpf aio (ublk_bpf_attach_and_prep_aio()), and the request ends when the
 * callback and the last of its aios are done (a per-I/O reference count,
 * with the first error).  No I/O a program took can outlive the program
 * and its aios.
 *
 * Lifetime: the registry maps ids to the registered ops, and each ops to
 * the devices attached to them, under ublk_bpf_lock.  Callbacks run under
 * ublk_bpf_srcu; detaching (device stop, ops unregistered) clears the
 * device's pointer and waits for the callbacks that run, so the ops are
 * never used after ->unreg() returns, and the device's I/O goes to the
 * server from then on.
 */
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/xarray.h>

#include "ublk_bpf.h"

/*
 * CONTINUE calls per I/O: a 512K I/O split into 512-byte pieces needs
 * 1024; this bounds the loop for huge discards in ->queue_rq().
 */
#define UBLK_BPF_MAX_CONTINUE	4096

/* a registered struct ublk_bpf_ops, and the devices attached to it */
struct ublk_bpf_reg {
	struct ublk_bpf_ops	*ops;
	struct list_head	devs;
};

static DEFINE_MUTEX(ublk_bpf_lock);
/* ops id -> struct ublk_bpf_reg, under ublk_bpf_lock */
static DEFINE_XARRAY(ublk_bpf_regs);
DEFINE_STATIC_SRCU(ublk_bpf_srcu);

static void ublk_bpf_stat_inc(struct ublk_bpf_dev *bd, enum ublk_bpf_stat s)
{
	atomic64_inc(&bd->stats[s]);
}

int ublk_bpf_param_validate(const struct ublk_param_bpf *p)
{
	if (!(p->flags & UBLK_BPF_HAS_OPS_ID) ||
	    p->flags & ~(UBLK_BPF_HAS_OPS_ID | UBLK_BPF_HAS_AIO_OPS_ID))
		return -EINVAL;
	if (!(p->flags & UBLK_BPF_HAS_AIO_OPS_ID) &&
	    (p->aio_ops_id || p->nr_files))
		return -EINVAL;
	if (p->nr_files > UBLK_BPF_MAX_FILES)
		return -EINVAL;
	return 0;
}

static void ublk_bpf_aio_done(struct bpf_aio *aio);

static void ublk_bpf_put_files(struct ublk_bpf_dev *bd)
{
	int i;

	for (i = 0; i < UBLK_BPF_MAX_FILES; i++) {
		if (bd->files[i])
			fput(bd->files[i]);
		bd->files[i] = NULL;
	}
}

/*
 * Bind the aio ops and the files of @p, in the task of UBLK_CMD_START_DEV
 * (the server's): the files are the device's until it stops.
 */
static int ublk_bpf_bind_aio(struct ublk_bpf_dev *bd, u32 dev_id,
			     const struct ublk_param_bpf *p)
{
	unsigned int i;

	if (!(p->flags & UBLK_BPF_HAS_AIO_OPS_ID))
		return 0;
	if (!bpf_aio_ops_registered(p->aio_ops_id)) {
		pr_warn("ublk%u: no bpf aio ops of id %u registered\n", dev_id,
			p->aio_ops_id);
		return -ENOENT;
	}
	for (i = 0; i < p->nr_files; i++) {
		bd->files[i] = fget(p->fds[i]);
		if (!bd->files[i]) {
			pr_warn("ublk%u: BPF file %u: fd %d is not open\n",
				dev_id, i, p->fds[i]);
			ublk_bpf_put_files(bd);
			return -EBADF;
		}
	}
	bpf_aio_owner_init(&bd->aio);
	bd->aio.files = bd->files;
	bd->aio.nr_files = p->nr_files;
	bd->aio.ops_id = p->aio_ops_id;
	bd->aio.done = ublk_bpf_aio_done;
	bd->has_aio = true;
	return 0;
}

int ublk_bpf_attach(struct ublk_bpf_dev *bd, u32 dev_id,
		    const struct ublk_param_bpf *p)
{
	struct ublk_bpf_reg *reg;
	int ret = 0;

	mutex_lock(&ublk_bpf_lock);
	reg = xa_load(&ublk_bpf_regs, p->ops_id);
	if (!reg) {
		pr_warn("ublk%u: no BPF ops of id %u registered\n", dev_id,
			p->ops_id);
		ret = -ENOENT;
		goto out_unlock;
	}
	ret = ublk_bpf_bind_aio(bd, dev_id, p);
	if (ret)
		goto out_unlock;
	if (reg->ops->attach_dev) {
		ret = reg->ops->attach_dev(dev_id);
		if (ret > 0 || ret < -MAX_ERRNO) {
			pr_warn("ublk%u: attach_dev of BPF ops %u returned %d, not 0 or an errno\n",
				dev_id, p->ops_id, ret);
			ret = -EINVAL;
		}
		if (ret)
			goto out_unbind;
	}
	bd->dev_id = dev_id;
	bd->ops_id = p->ops_id;
	list_add_tail(&bd->node, &reg->devs);
	rcu_assign_pointer(bd->ops, reg->ops);
	mutex_unlock(&ublk_bpf_lock);
	return 0;

out_unbind:
	ublk_bpf_put_files(bd);
	bd->has_aio = false;
out_unlock:
	mutex_unlock(&ublk_bpf_lock);
	return ret;
}

void ublk_bpf_detach(struct ublk_bpf_dev *bd)
{
	struct ublk_bpf_ops *ops;

	mutex_lock(&ublk_bpf_lock);
	ops = rcu_dereference_protected(bd->ops,
					lockdep_is_held(&ublk_bpf_lock));
	if (ops) {
		rcu_assign_pointer(bd->ops, NULL);
		list_del_init(&bd->node);
		synchronize_srcu(&ublk_bpf_srcu);
		if (ops->detach_dev)
			ops->detach_dev(bd->dev_id);
	}
	mutex_unlock(&ublk_bpf_lock);

	/*
	 * The disk is gone, its requests ended: what is left of their aios
	 * is the end of their completion.  Wait for it, then drop the files.
	 */
	if (bd->has_aio) {
		bpf_aio_owner_drain(&bd->aio);
		ublk_bpf_put_files(bd);
		bd->has_aio = false;
	}
}

/*
 * End a request a program completed with @res: a negative errno fails it;
 * for reads and writes the first @res bytes succeed and the rest, if any,
 * fails with -EIO.  What a read returns is zeroes: without an I/O of its
 * own a program has no data to give, and the request's pages must not
 * show what they held before.
 */
static void ublk_bpf_end_rq(struct request *rq, int res)
{
	blk_status_t sts = BLK_STS_OK;
	struct bio *bio;

	if (res < 0) {
		sts = errno_to_blk_status(res);
		goto end;
	}
	if (req_op(rq) != REQ_OP_READ && req_op(rq) != REQ_OP_WRITE)
		goto end;
	if (req_op(rq) == REQ_OP_READ) {
		__rq_for_each_bio(bio, rq)
			zero_fill_bio(bio);
	}
	if (res < blk_rq_bytes(rq)) {
		local_bh_disable();
		blk_update_request(rq, BLK_STS_OK, res);
		local_bh_enable();
		sts = BLK_STS_IOERR;
	}
end:
	local_bh_disable();
	blk_mq_end_request(rq, sts);
	local_bh_enable();
}

static void ublk_bpf_io_error(struct ublk_bpf_dev *bd,
			      const struct ublk_bpf_io *io, const char *why,
			      ublk_bpf_return_t ret, unsigned int done)
{
	ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_ERRORS);
	pr_warn_ratelimited("ublk%u: BPF ops %u, queue %u tag %u: %s (returned %#llx, %u of %u bytes taken): I/O failed\n",
			    bd->dev_id, bd->ops_id, io->q_id, io->tag, why,
			    (unsigned long long)ret, done, io->bytes);
}

/* End an I/O that had aios with @err, the first error, or success */
static void ublk_bpf_end_rq_aio(struct request *rq, int err)
{
	local_bh_disable();
	blk_mq_end_request(rq, err ? errno_to_blk_status(err) : BLK_STS_OK);
	local_bh_enable();
}

static void ublk_bpf_io_set_err(struct ublk_bpf_io *io, int err)
{
	atomic_cmpxchg(&io->err, 0, err);
}

/*
 * Drop a reference of an I/O that had aios: the last one tells the
 * program (->release_io_cmd(), if the ops are still attached) and ends
 * the request.
 */
static void ublk_bpf_io_put(struct ublk_bpf_io *io)
{
	struct ublk_bpf_dev *bd = io->bd;
	struct ublk_bpf_ops *ops;
	int err, idx;

	if (!atomic_dec_and_test(&io->ref))
		return;
	err = atomic_read(&io->err);
	if (!err)
		ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_HANDLED);
	else if (!io->prog_err)
		ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_ERRORS);
	idx = srcu_read_lock(&ublk_bpf_srcu);
	ops = srcu_dereference(bd->ops, &ublk_bpf_srcu);
	if (ops && ops->release_io_cmd)
		ops->release_io_cmd(io);
	srcu_read_unlock(&ublk_bpf_srcu, idx);
	ublk_bpf_end_rq_aio(io->rq, err);
}

/* The result of @aio is the I/O's: drop the reference the aio held */
static void ublk_bpf_aio_detach(struct bpf_aio *aio)
{
	struct ublk_bpf_io *io = aio->priv;

	aio->priv = NULL;
	if (aio->result < 0) {
		pr_warn_ratelimited("ublk%u: queue %u tag %u: bpf aio (op %u) failed: %ld\n",
				    io->dev_id, io->q_id, io->tag, aio->op,
				    aio->result);
		ublk_bpf_io_set_err(io, aio->result);
	}
	ublk_bpf_io_put(io);
}

/* bpf_aio_owner.done: after the completion callback, if it did not */
static void ublk_bpf_aio_done(struct bpf_aio *aio)
{
	if (aio->priv)
		ublk_bpf_aio_detach(aio);
}

/* the aio is a ublk device's, attached to an I/O */
static struct ublk_bpf_io *ublk_bpf_aio_io(const struct bpf_aio *aio)
{
	if (!aio->owner || aio->owner->done != ublk_bpf_aio_done)
		return NULL;
	return aio->priv;
}

/*
 * Offer @rq to the queue callback of @bd's ops (->queue_io_cmd_daemon()
 * if @daemon): UBLK_BPF_FORWARD if the request goes on to the next stage
 * (no ops, no such callback, or a REDIRECT of all of it), UBLK_BPF_ENDED
 * if it is the program's: ended (completed by the program, or failed for
 * its error), or, if it attached aios, ended when the last of them is
 * done.
 */
int ublk_bpf_queue_io(struct ublk_bpf_dev *bd, struct request *rq,
		      const struct ublksrv_io_desc *iod,
		      struct ublk_bpf_io *io, u16 q_id, bool daemon)
{
	ublk_bpf_return_t (*fn)(struct ublk_bpf_io *io, unsigned int done);
	unsigned int done = 0, bytes, disp, nr_continue = 0;
	struct ublk_bpf_ops *ops;
	const char *why = NULL;
	ublk_bpf_return_t ret;
	int idx, res;

	idx = srcu_read_lock(&ublk_bpf_srcu);
	ops = srcu_dereference(bd->ops, &ublk_bpf_srcu);
	fn = NULL;
	if (ops)
		fn = daemon ? ops->queue_io_cmd_daemon : ops->queue_io_cmd;
	if (!fn) {
		srcu_read_unlock(&ublk_bpf_srcu, idx);
		return UBLK_BPF_FORWARD;
	}

	io->iod = *iod;
	io->dev_id = bd->dev_id;
	io->q_id = q_id;
	io->tag = rq->tag;
	io->bytes = blk_rq_bytes(rq);
	io->res = 0;
	io->flags = 0;
	io->rq = rq;
	io->bd = bd;
	atomic_set(&io->ref, 1);
	atomic_set(&io->err, 0);
	io->has_aio = false;
	io->prog_err = false;

	for (;;) {
		ret = fn(io, done);
		/* completed: the request ends whatever was returned */
		if (io->flags & UBLK_BPF_IO_F_COMPLETED)
			break;
		disp = ret >> UBLK_BPF_DISP_SHIFT;
		bytes = lower_32_bits(ret);
		if (disp == UBLK_BPF_IO_REDIRECT) {
			if (!done && !io->has_aio) {
				ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_REDIRECTED);
				srcu_read_unlock(&ublk_bpf_srcu, idx);
				return UBLK_BPF_FORWARD;
			}
			why = io->has_aio ?
			      "REDIRECT after an aio was attached" :
			      "REDIRECT after part of the I/O was taken";
			break;
		}
		if (disp == UBLK_BPF_IO_QUEUED) {
			/* the aios attached complete it */
			if (!io->has_aio)
				why = "QUEUED without ublk_bpf_complete_io()";
			break;
		}
		if (disp != UBLK_BPF_IO_CONTINUE) {
			why = "unknown disposition";
			break;
		}
		if (!bytes || bytes & 511 || bytes > io->bytes - done) {
			why = "CONTINUE byte count zero, not a multiple of 512 or past the end";
			break;
		}
		ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_SPLIT);
		done += bytes;
		if (done == io->bytes) {
			if (!io->has_aio)
				why = "all bytes taken without ublk_bpf_complete_io()";
			break;
		}
		if (++nr_continue == UBLK_BPF_MAX_CONTINUE) {
			why = "too many CONTINUE";
			break;
		}
	}

	if (io->has_aio) {
		/* the request ends with its last reference */
		if (why) {
			ublk_bpf_io_error(bd, io, why, ret, done);
			io->prog_err = true;
			ublk_bpf_io_set_err(io, -EIO);
		} else if (io->flags & UBLK_BPF_IO_F_BAD_RES) {
			ublk_bpf_io_error(bd, io,
					  "ublk_bpf_complete_io() result neither an errno nor at most the I/O's bytes",
					  ret, done);
			io->prog_err = true;
			ublk_bpf_io_set_err(io, -EIO);
		} else if (io->flags & UBLK_BPF_IO_F_COMPLETED && io->res < 0) {
			ublk_bpf_io_set_err(io, io->res);
		}
		srcu_read_unlock(&ublk_bpf_srcu, idx);
		ublk_bpf_io_put(io);
		return UBLK_BPF_ENDED;
	}

	if (why) {
		ublk_bpf_io_error(bd, io, why, ret, done);
		res = -EIO;
	} else if (io->flags & UBLK_BPF_IO_F_BAD_RES) {
		ublk_bpf_io_error(bd, io,
				  "ublk_bpf_complete_io() result neither an errno nor at most the I/O's bytes",
				  ret, done);
		res = -EIO;
	} else {
		ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_HANDLED);
		res = io->res;
	}
	if (io->flags & UBLK_BPF_IO_F_COMPLETED_TWICE)
		ublk_bpf_io_error(bd, io,
				  "ublk_bpf_complete_io() called again, the first result stands",
				  ret, done);
	if (ops->release_io_cmd)
		ops->release_io_cmd(io);
	srcu_read_unlock(&ublk_bpf_srcu, idx);

	ublk_bpf_end_rq(rq, res);
	return UBLK_BPF_ENDED;
}

/* Point @aio at the pages of [@offset, @offset + @bytes) of @rq */
static int ublk_bpf_aio_prep_pages(struct request *rq, struct bpf_aio *aio,
				   unsigned int offset, unsigned int bytes)
{
	unsigned int dir = aio->op == BPF_AIO_OP_FS_READ ? ITER_DEST :
							  ITER_SOURCE;
	unsigned int nr = 0, i = 0, iov_offset = 0;
	struct req_iterator rq_iter;
	struct bio_vec *bvec, tmp;

	rq_for_each_bvec(tmp, rq, rq_iter)
		nr++;
	if (rq->bio != rq->biotail) {
		/* the vector only, never the data; no sleep in ->queue_rq() */
		bvec = kmalloc_array(nr, sizeof(*bvec), GFP_ATOMIC | __GFP_NOWARN);
		if (!bvec)
			return -ENOMEM;
		rq_for_each_bvec(tmp, rq, rq_iter)
			bvec[i++] = tmp;
		aio->bvec_alloc = bvec;
	} else {
		iov_offset = rq->bio->bi_iter.bi_bvec_done;
		bvec = __bvec_iter_bvec(rq->bio->bi_io_vec, rq->bio->bi_iter);
	}
	iov_iter_bvec(&aio->iter, dir, bvec, nr, blk_rq_bytes(rq));
	aio->iter.iov_offset = iov_offset;
	iov_iter_advance(&aio->iter, offset);
	iov_iter_truncate(&aio->iter, bytes);
	return 0;
}

/* ---- kfuncs ---- */

__bpf_kfunc_start_defs();

/**
 * ublk_bpf_complete_io - complete a ublk I/O
 * @io: the I/O of the callback
 * @res: a negative errno, or the bytes done (for reads and writes, the
 *	first @res bytes succeed and the rest fails with -EIO; other
 *	operations succeed with any count up to the I/O's bytes)
 *
 * The request ends when the callback returns, whatever it returns.  A
 * @res that is neither an errno nor at most the I/O's bytes fails the I/O
 * with -EIO; calling it again changes nothing (counted as an error).
 */
__bpf_kfunc void ublk_bpf_complete_io(struct ublk_bpf_io *io, int res)
{
	if (io->flags & UBLK_BPF_IO_F_COMPLETED) {
		io->flags |= UBLK_BPF_IO_F_COMPLETED_TWICE;
		return;
	}
	io->flags |= UBLK_BPF_IO_F_COMPLETED;
	if (res < -MAX_ERRNO || (res >= 0 && (u32)res > io->bytes)) {
		io->flags |= UBLK_BPF_IO_F_BAD_RES;
		res = -EIO;
	}
	io->res = res;
}

/* the tag of the I/O in its queue */
__bpf_kfunc u32 ublk_bpf_get_io_tag(const struct ublk_bpf_io *io)
{
	return io->tag;
}

/* the hardware queue of the I/O */
__bpf_kfunc u32 ublk_bpf_get_queue_id(const struct ublk_bpf_io *io)
{
	return io->q_id;
}

/* the id of the ublk device of the I/O */
__bpf_kfunc u32 ublk_bpf_get_dev_id(const struct ublk_bpf_io *io)
{
	return io->dev_id;
}

/**
 * ublk_bpf_attach_and_prep_aio - give an aio the pages of part of an I/O
 * @io: the I/O of the callback
 * @offset: where the part starts in the I/O, a multiple of 512
 * @bytes: its size, a multiple of 512, not past the end of the I/O
 * @aio: an aio of bpf_aio_alloc(), not attached yet
 *
 * A read aio (BPF_AIO_OP_FS_READ) of a read I/O gets its pages to fill, a
 * write aio of a write I/O its pages to write; fsync and fallocate aios
 * get no pages.  The aio is the device's: it names the files of its BPF
 * parameter, completes through its aio ops, and holds the I/O, which ends
 * when the callback has returned and every aio attached is done, with the
 * first error of any.  Returns 0, -EBUSY (attached already), -ENOENT (the
 * device has no aio ops), -EINVAL (a bad range, an aio of the wrong
 * operation) or -ENOMEM.
 */
__bpf_kfunc int ublk_bpf_attach_and_prep_aio(struct ublk_bpf_io *io,
					     unsigned int offset,
					     unsigned int bytes,
					     struct bpf_aio *aio)
{
	struct ublk_bpf_dev *bd = io->bd;
	struct request *rq = io->rq;
	bool pages = false;
	int ret;

	if (aio->owner)
		return -EBUSY;
	if (!bd->has_aio)
		return -ENOENT;
	if ((offset | bytes) & 511 || offset > io->bytes ||
	    bytes > io->bytes - offset)
		return -EINVAL;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		pages = aio->op == BPF_AIO_OP_FS_READ;
		break;
	case REQ_OP_WRITE:
		pages = aio->op == BPF_AIO_OP_FS_WRITE;
		break;
	default:
		break;
	}
	if (pages) {
		if (!bytes)
			return -EINVAL;
		ret = ublk_bpf_aio_prep_pages(rq, aio, offset, bytes);
		if (ret)
			return ret;
	} else if (aio->op == BPF_AIO_OP_FS_READ ||
		   aio->op == BPF_AIO_OP_FS_WRITE) {
		return -EINVAL;
	}
	atomic_inc(&io->ref);
	io->has_aio = true;
	bpf_aio_attach(aio, &bd->aio, io);
	return 0;
}

/**
 * ublk_bpf_dettach_and_complete_aio - the result of an aio is its I/O's
 * @aio: the aio of the completion callback
 *
 * Drops the I/O the aio held (a negative result is the I/O's error, if it
 * has none yet): the last one ends the I/O.  The kernel does it after the
 * callback if the callback did not.
 */
__bpf_kfunc void ublk_bpf_dettach_and_complete_aio(struct bpf_aio *aio)
{
	if (ublk_bpf_aio_io(aio))
		ublk_bpf_aio_detach(aio);
}

/**
 * ublk_bpf_acquire_io_from_aio - the I/O of an aio
 * @aio: the aio of the completion callback
 *
 * A reference to the I/O, to be dropped with
 * ublk_bpf_release_io_from_aio(), or NULL if the aio has none (detached).
 */
__bpf_kfunc struct ublk_bpf_io *
ublk_bpf_acquire_io_from_aio(struct bpf_aio *aio)
{
	struct ublk_bpf_io *io = ublk_bpf_aio_io(aio);

	if (io)
		atomic_inc(&io->ref);
	return io;
}

/* drop an I/O of ublk_bpf_acquire_io_from_aio(): the last ends it */
__bpf_kfunc void ublk_bpf_release_io_from_aio(struct ublk_bpf_io *io)
{
	ublk_bpf_io_put(io);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(ublk_bpf_kfunc_ids)
BTF_ID_FLAGS(func, ublk_bpf_complete_io, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_get_io_tag, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_get_queue_id, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_get_dev_id, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_attach_and_prep_aio, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_dettach_and_complete_aio, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_acquire_io_from_aio,
	     KF_ACQUIRE | KF_RET_NULL | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_release_io_from_aio, KF_RELEASE | KF_TRUSTED_ARGS)
BTF_KFUNCS_END(ublk_bpf_kfunc_ids)

/* what the bpf aio completion callbacks may call */
BTF_SET_START(ublk_bpf_aio_cb_kfunc_ids)
BTF_ID(func, ublk_bpf_get_io_tag)
BTF_ID(func, ublk_bpf_get_queue_id)
BTF_ID(func, ublk_bpf_get_dev_id)
BTF_ID(func, ublk_bpf_dettach_and_complete_aio)
BTF_ID(func, ublk_bpf_acquire_io_from_aio)
BTF_ID(func, ublk_bpf_release_io_from_aio)
BTF_SET_END(ublk_bpf_aio_cb_kfunc_ids)

/* what only the bpf aio completion callbacks may call */
BTF_SET_START(ublk_bpf_aio_cb_only_kfunc_ids)
BTF_ID(func, ublk_bpf_dettach_and_complete_aio)
BTF_ID(func, ublk_bpf_acquire_io_from_aio)
BTF_ID(func, ublk_bpf_release_io_from_aio)
BTF_SET_END(ublk_bpf_aio_cb_only_kfunc_ids)

BTF_ID_LIST(ublk_bpf_ops_ids)
BTF_ID(struct, ublk_bpf_ops)
BTF_ID(struct, bpf_aio_complete_ops)

/*
 * The kfuncs take the I/O of a ublk_bpf_ops callback, or the aio of a
 * bpf_aio_complete_ops callback: only for those, each its own
 */
static int ublk_bpf_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&ublk_bpf_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)
		return -EACCES;
	if (prog->aux->attach_btf_id == ublk_bpf_ops_ids[0] &&
	    !btf_id_set_contains(&ublk_bpf_aio_cb_only_kfunc_ids, kfunc_id))
		return 0;
	if (prog->aux->attach_btf_id == ublk_bpf_ops_ids[1] &&
	    btf_id_set_contains(&ublk_bpf_aio_cb_kfunc_ids, kfunc_id))
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set ublk_bpf_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &ublk_bpf_kfunc_ids,
	.filter	= ublk_bpf_kfunc_filter,
};

/* ---- struct_ops ---- */

static bool ublk_bpf_is_valid_access(int off, int size,
				     enum bpf_access_type type,
				     const struct bpf_prog *prog,
				     struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/* no .btf_struct_access: programs write nothing of the kernel's */
static const struct bpf_verifier_ops ublk_bpf_verifier_ops = {
	.get_func_proto		= bpf_base_func_proto,
	.is_valid_access	= ublk_bpf_is_valid_access,
};

static int ublk_bpf_init(struct btf *btf)
{
	/* the dispositions, for programs' vmlinux.h */
	BTF_TYPE_EMIT_ENUM(UBLK_BPF_IO_QUEUED);
	return 0;
}

static int ublk_bpf_init_member(const struct btf_type *t,
				const struct btf_member *member,
				void *kdata, const void *udata)
{
	const struct ublk_bpf_ops *uops = udata;
	struct ublk_bpf_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct ublk_bpf_ops, id):
		ops->id = uops->id;
		return 1;
	}
	return 0;
}

/* ->queue_io_cmd() runs in ->queue_rq(), ->release_io_cmd() may too */
static int ublk_bpf_check_member(const struct btf_type *t,
				 const struct btf_member *member,
				 const struct bpf_prog *prog)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct ublk_bpf_ops, queue_io_cmd):
	case offsetof(struct ublk_bpf_ops, release_io_cmd):
		if (prog->sleepable)
			return -EINVAL;
		break;
	}
	return 0;
}

static int ublk_bpf_validate(void *kdata)
{
	struct ublk_bpf_ops *ops = kdata;

	if (!ops->queue_io_cmd && !ops->queue_io_cmd_daemon)
		return -EINVAL;
	return 0;
}

static int ublk_bpf_reg(void *kdata, struct bpf_link *link)
{
	struct ublk_bpf_ops *ops = kdata;
	struct ublk_bpf_reg *reg;
	int ret;

	reg = kzalloc(sizeof(*reg), GFP_KERNEL);
	if (!reg)
		return -ENOMEM;
	reg->ops = ops;
	INIT_LIST_HEAD(&reg->devs);

	mutex_lock(&ublk_bpf_lock);
	ret = xa_insert(&ublk_bpf_regs, ops->id, reg, GFP_KERNEL);
	mutex_unlock(&ublk_bpf_lock);
	if (ret) {
		kfree(reg);
		/* -EBUSY from xa_insert(): the id is taken */
		return ret == -EBUSY ? -EEXIST : ret;
	}
	return 0;
}

/*
 * Detach every device from the ops: from the grace period on, their I/O
 * goes to their servers; then tell the program, and forget the ops.
 */
static void ublk_bpf_unreg(void *kdata, struct bpf_link *link)
{
	struct ublk_bpf_ops *ops = kdata;
	struct ublk_bpf_dev *bd, *tmp;
	struct ublk_bpf_reg *reg;

	mutex_lock(&ublk_bpf_lock);
	reg = xa_load(&ublk_bpf_regs, ops->id);
	if (WARN_ON_ONCE(!reg || reg->ops != ops))
		goto out_unlock;
	xa_erase(&ublk_bpf_regs, ops->id);
	list_for_each_entry(bd, &reg->devs, node)
		rcu_assign_pointer(bd->ops, NULL);
	synchronize_srcu(&ublk_bpf_srcu);
	list_for_each_entry_safe(bd, tmp, &reg->devs, node) {
		list_del_init(&bd->node);
		pr_info("ublk%u: BPF ops %u unregistered, I/O goes to the server\n",
			bd->dev_id, bd->ops_id);
		if (ops->detach_dev)
			ops->detach_dev(bd->dev_id);
	}
	kfree(reg);
out_unlock:
	mutex_unlock(&ublk_bpf_lock);
}

static ublk_bpf_return_t ublk_bpf_ops__queue_io_cmd(struct ublk_bpf_io *io,
						    unsigned int done_bytes)
{
	return (u64)UBLK_BPF_IO_REDIRECT << UBLK_BPF_DISP_SHIFT;
}

static ublk_bpf_return_t
ublk_bpf_ops__queue_io_cmd_daemon(struct ublk_bpf_io *io,
				  unsigned int done_bytes)
{
	return (u64)UBLK_BPF_IO_REDIRECT << UBLK_BPF_DISP_SHIFT;
}

static void ublk_bpf_ops__release_io_cmd(struct ublk_bpf_io *io)
{
}

static int ublk_bpf_ops__attach_dev(u32 dev_id)
{
	return 0;
}

static void ublk_bpf_ops__detach_dev(u32 dev_id)
{
}

static struct ublk_bpf_ops __ublk_bpf_ops = {
	.queue_io_cmd		= ublk_bpf_ops__queue_io_cmd,
	.queue_io_cmd_daemon	= ublk_bpf_ops__queue_io_cmd_daemon,
	.release_io_cmd		= ublk_bpf_ops__release_io_cmd,
	.attach_dev		= ublk_bpf_ops__attach_dev,
	.detach_dev		= ublk_bpf_ops__detach_dev,
};

static struct bpf_struct_ops bpf_ublk_bpf_ops = {
	.verifier_ops	= &ublk_bpf_verifier_ops,
	.init		= ublk_bpf_init,
	.init_member	= ublk_bpf_init_member,
	.check_member	= ublk_bpf_check_member,
	.validate	= ublk_bpf_validate,
	.reg		= ublk_bpf_reg,
	.unreg		= ublk_bpf_unreg,
	.name		= "ublk_bpf_ops",
	.cfi_stubs	= &__ublk_bpf_ops,
	.owner		= THIS_MODULE,
};

/* ---- sysfs: /sys/block/ublkbN/bpf/ ---- */

static struct ublk_bpf_dev *ublk_bpf_dev_of(struct device *dev)
{
	return ublk_bpf_dev_of_disk(dev_to_disk(dev));
}

#define UBLK_BPF_STAT_ATTR(_name, _stat)				\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct ublk_bpf_dev *bd = ublk_bpf_dev_of(dev);			\
									\
	return sysfs_emit(buf, "%lld\n",				\
			  (long long)atomic64_read(&bd->stats[_stat]));	\
}									\
static DEVICE_ATTR_RO(_name)

UBLK_BPF_STAT_ATTR(handled, UBLK_BPF_STAT_HANDLED);
UBLK_BPF_STAT_ATTR(redirected, UBLK_BPF_STAT_REDIRECTED);
UBLK_BPF_STAT_ATTR(split, UBLK_BPF_STAT_SPLIT);
UBLK_BPF_STAT_ATTR(errors, UBLK_BPF_STAT_ERRORS);

#define UBLK_BPF_AIO_STAT_ATTR(_name, _stat)				\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct ublk_bpf_dev *bd = ublk_bpf_dev_of(dev);			\
									\
	return sysfs_emit(buf, "%lld\n",				\
			  (long long)atomic64_read(&bd->aio.stats[_stat])); \
}									\
static DEVICE_ATTR_RO(_name)

UBLK_BPF_AIO_STAT_ATTR(aio_submitted, BPF_AIO_STAT_SUBMITTED);
UBLK_BPF_AIO_STAT_ATTR(aio_completed, BPF_AIO_STAT_COMPLETED);
UBLK_BPF_AIO_STAT_ATTR(aio_wq, BPF_AIO_STAT_WQ);
UBLK_BPF_AIO_STAT_ATTR(aio_errors, BPF_AIO_STAT_ERRORS);

static ssize_t ops_id_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", ublk_bpf_dev_of(dev)->ops_id);
}
static DEVICE_ATTR_RO(ops_id);

/* 1 while the ops are attached, 0 once detached (unregistered) */
static ssize_t attached_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  !!rcu_access_pointer(ublk_bpf_dev_of(dev)->ops));
}
static DEVICE_ATTR_RO(attached);

static struct attribute *ublk_bpf_attrs[] = {
	&dev_attr_ops_id.attr,
	&dev_attr_attached.attr,
	&dev_attr_handled.attr,
	&dev_attr_redirected.attr,
	&dev_attr_split.attr,
	&dev_attr_errors.attr,
	&dev_attr_aio_submitted.attr,
	&dev_attr_aio_completed.attr,
	&dev_attr_aio_wq.attr,
	&dev_attr_aio_errors.attr,
	NULL,
};

/* no bpf/ directory on disks of devices without UBLK_F_BPF */
static bool ublk_bpf_group_visible(struct kobject *kobj)
{
	return ublk_bpf_dev_of(kobj_to_dev(kobj));
}

DEFINE_SIMPLE_SYSFS_GROUP_VISIBLE(ublk_bpf);

const struct attribute_group ublk_bpf_attr_group = {
	.name		= "bpf",
	.attrs		= ublk_bpf_attrs,
	.is_visible	= SYSFS_GROUP_VISIBLE(ublk_bpf),
};

static int __init ublk_bpf_ops_init(void)
{
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&ublk_bpf_kfunc_set);
	if (ret) {
		pr_err("ublk: cannot register BPF kfuncs: %d\n", ret);
		return ret;
	}
	ret = register_bpf_struct_ops(&bpf_ublk_bpf_ops, ublk_bpf_ops);
	if (ret)
		pr_err("ublk: cannot register BPF struct_ops: %d\n", ret);
	return ret;
}
late_initcall(ublk_bpf_ops_init);
