// SPDX-License-Identifier: GPL-2.0
/*
 * bpf aio: reads, writes, fsync and fallocate against files, for BPF
 * struct_ops programs, with the pages of their user's I/O (no copy) and a
 * completion callback in BPF (struct bpf_aio_complete_ops).
 *
 * Ownership, which the verifier checks: bpf_aio_alloc() is an acquire,
 * bpf_aio_submit() and bpf_aio_release() release it, so a program cannot
 * return with an aio it neither submitted nor released.  The completion
 * callback gets a plain pointer, which it can neither keep nor free: the
 * kernel frees the aio when the callback returns.
 *
 * Files and pages: a user (ublk-bpf) attaches an aio to its owner, struct
 * bpf_aio_owner, which holds the files aios name by index (references the
 * user took in its own context, never an fget() by fd in whatever task
 * runs), and gives it the pages of its I/O as a bvec iterator.
 *
 * Submission: when the submitter may sleep (a sleepable program in process
 * context) a read or write is tried inline with IOCB_NOWAIT; everything
 * else, and what that cannot do without blocking, is done by the blocking
 * call on one WQ_MEM_RECLAIM unbound workqueue.  The completion callback
 * always runs from that workqueue, never from the submitter's stack.
 *
 * Lifetime: callbacks run under bpf_aio_srcu and look their ops up by id
 * at completion; unregistering the ops waits for the callbacks that run,
 * and aios that complete later complete to their owner without a BPF
 * callback.  An owner waits for its aios (bpf_aio_owner_drain()) before
 * it drops its files.
 */
#include <linux/bpf.h>
#include <linux/bpf_aio.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>

static struct workqueue_struct *bpf_aio_wq;
static DEFINE_MUTEX(bpf_aio_lock);
/* ops id -> struct bpf_aio_complete_ops, written under bpf_aio_lock */
static DEFINE_XARRAY(bpf_aio_ops_xa);
DEFINE_STATIC_SRCU(bpf_aio_srcu);

static void bpf_aio_stat_inc(struct bpf_aio_owner *owner,
			     enum bpf_aio_stat s)
{
	atomic64_inc(&owner->stats[s]);
}

void bpf_aio_owner_init(struct bpf_aio_owner *owner)
{
	int i;

	atomic_set(&owner->inflight, 0);
	for (i = 0; i < BPF_AIO_STAT_NR; i++)
		atomic64_set(&owner->stats[i], 0);
}
EXPORT_SYMBOL_GPL(bpf_aio_owner_init);

/* @aio is @owner's from now on: it completes to @owner->done() */
void bpf_aio_attach(struct bpf_aio *aio, struct bpf_aio_owner *owner,
		    void *priv)
{
	atomic_inc(&owner->inflight);
	aio->owner = owner;
	aio->priv = priv;
}
EXPORT_SYMBOL_GPL(bpf_aio_attach);

/* Wait until every aio of @owner has completed and been freed. */
void bpf_aio_owner_drain(struct bpf_aio_owner *owner)
{
	wait_var_event(&owner->inflight, !atomic_read(&owner->inflight));
}
EXPORT_SYMBOL_GPL(bpf_aio_owner_drain);

bool bpf_aio_ops_registered(u32 id)
{
	bool ret;

	mutex_lock(&bpf_aio_lock);
	ret = xa_load(&bpf_aio_ops_xa, id);
	mutex_unlock(&bpf_aio_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(bpf_aio_ops_registered);

/*
 * The files an owner names are regular files or block devices: a program
 * does I/O at an offset with a size.  A FIFO, socket or character device
 * has neither, and a read of it may wait forever (a FIFO with no writer)
 * or have side effects (a tty); an owner refuses them when it takes them.
 */
int bpf_aio_check_file(struct file *file)
{
	umode_t mode = file_inode(file)->i_mode;

	if (!S_ISREG(mode) && !S_ISBLK(mode))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(bpf_aio_check_file);

static void bpf_aio_free(struct bpf_aio *aio)
{
	kfree(aio->bvec_alloc);
	kfree(aio);
}

/* The owner's part of a completion; @aio is freed */
static void bpf_aio_finish(struct bpf_aio *aio)
{
	struct bpf_aio_owner *owner = aio->owner;

	bpf_aio_stat_inc(owner, BPF_AIO_STAT_COMPLETED);
	if (aio->result < 0)
		bpf_aio_stat_inc(owner, BPF_AIO_STAT_ERRORS);
	if (owner->done)
		owner->done(aio);
	bpf_aio_free(aio);
	/* the owner may be gone as soon as its count drops to zero */
	if (atomic_dec_and_test(&owner->inflight))
		wake_up_var(&owner->inflight);
}

static void bpf_aio_complete(struct bpf_aio *aio)
{
	const struct bpf_aio_complete_ops *ops;
	int idx;

	idx = srcu_read_lock(&bpf_aio_srcu);
	ops = xa_load(&bpf_aio_ops_xa, aio->owner->ops_id);
	if (ops && ops->bpf_aio_complete_cb)
		ops->bpf_aio_complete_cb(aio, aio->result);
	srcu_read_unlock(&bpf_aio_srcu, idx);
	bpf_aio_finish(aio);
}

static ssize_t bpf_aio_rw(struct bpf_aio *aio, bool nowait)
{
	if (nowait)
		aio->iocb.ki_flags |= IOCB_NOWAIT;
	else
		aio->iocb.ki_flags &= ~IOCB_NOWAIT;
	if (aio->op == BPF_AIO_OP_FS_READ)
		return vfs_iocb_iter_read(aio->file, &aio->iocb, &aio->iter);
	return vfs_iocb_iter_write(aio->file, &aio->iocb, &aio->iter);
}

/*
 * The blocking call, from the workqueue.  A read past the end of the file
 * reads zeroes there (the result counts the bytes the file had); a write
 * that makes no progress fails with -EIO.
 */
static void bpf_aio_do(struct bpf_aio *aio)
{
	unsigned int noio = memalloc_noio_save();
	ssize_t ret;
	int mode;

	switch (aio->op) {
	case BPF_AIO_OP_FS_READ:
	case BPF_AIO_OP_FS_WRITE:
		while (iov_iter_count(&aio->iter)) {
			ret = bpf_aio_rw(aio, false);
			if (ret < 0) {
				aio->result = ret;
				goto out;
			}
			if (!ret)
				break;
			aio->result += ret;
		}
		if (!iov_iter_count(&aio->iter))
			break;
		if (aio->op == BPF_AIO_OP_FS_READ)
			iov_iter_zero(iov_iter_count(&aio->iter), &aio->iter);
		else
			aio->result = -EIO;
		break;
	case BPF_AIO_OP_FS_FSYNC:
		aio->result = vfs_fsync_range(aio->file, aio->pos,
					      aio->bytes ?
					      aio->pos + aio->bytes - 1 :
					      LLONG_MAX, 0);
		break;
	case BPF_AIO_OP_FS_FALLOCATE:
		mode = FALLOC_FL_KEEP_SIZE;
		if (aio->mode == BPF_AIO_FALLOC_PUNCH_HOLE)
			mode |= FALLOC_FL_PUNCH_HOLE;
		else
			mode |= FALLOC_FL_ZERO_RANGE;
		aio->result = vfs_fallocate(aio->file, mode, aio->pos,
					    aio->bytes);
		break;
	}
out:
	memalloc_noio_restore(noio);
}

static void bpf_aio_work_fn(struct work_struct *work)
{
	struct bpf_aio *aio = container_of(work, struct bpf_aio, work);

	if (!aio->io_done)
		bpf_aio_do(aio);
	bpf_aio_complete(aio);
}

/*
 * May the submitter block?  Not in ->queue_rq() (RCU), not in a program
 * that is not sleepable (RCU), not with preemption or interrupts off.
 */
static bool bpf_aio_may_sleep(void)
{
	return preemptible() && !rcu_preempt_depth();
}

/* A read or write inline with IOCB_NOWAIT: true if it is done */
static bool bpf_aio_try_inline(struct bpf_aio *aio)
{
	unsigned int noio;
	ssize_t ret;

	if (aio->flags & BPF_AIO_FORCE_WQ)
		return false;
	if (aio->op != BPF_AIO_OP_FS_READ && aio->op != BPF_AIO_OP_FS_WRITE)
		return false;
	if (!(aio->file->f_mode & FMODE_NOWAIT) || !bpf_aio_may_sleep())
		return false;
	noio = memalloc_noio_save();
	ret = bpf_aio_rw(aio, true);
	memalloc_noio_restore(noio);
	if (ret == -EAGAIN || ret == -EOPNOTSUPP)
		return false;
	if (ret < 0) {
		aio->result = ret;
		return true;
	}
	aio->result += ret;
	/* short: the rest (or the end of the file) blocking */
	return !iov_iter_count(&aio->iter);
}

__bpf_kfunc_start_defs();

/**
 * bpf_aio_alloc - allocate a bpf aio
 * @op: enum bpf_aio_op
 * @flags: BPF_AIO_FORCE_WQ, BPF_AIO_DSYNC
 *
 * Never sleeps (callable from ->queue_rq()).  Returns NULL if @op or
 * @flags are invalid or memory is short.  The aio must be submitted or
 * released.
 */
__bpf_kfunc struct bpf_aio *bpf_aio_alloc(unsigned int op, unsigned int flags)
{
	struct bpf_aio *aio;

	if (op >= BPF_AIO_OP_NR || flags & ~BPF_AIO_ALLOC_FLAGS)
		return NULL;
	aio = kzalloc(sizeof(*aio), GFP_ATOMIC | __GFP_NOWARN);
	if (!aio)
		return NULL;
	aio->op = op;
	aio->flags = flags;
	INIT_WORK(&aio->work, bpf_aio_work_fn);
	return aio;
}

/**
 * bpf_aio_release - free an aio that is not submitted
 * @aio: the aio
 *
 * An aio attached to an owner completes to it with -ECANCELED, without
 * the BPF completion callback.
 */
__bpf_kfunc void bpf_aio_release(struct bpf_aio *aio)
{
	if (!aio->owner) {
		bpf_aio_free(aio);
		return;
	}
	aio->result = -ECANCELED;
	bpf_aio_finish(aio);
}

/**
 * bpf_aio_submit - submit an aio
 * @aio: an aio its user attached
 * @file_idx: the file, an index in the owner's files
 * @pos: the file offset, a multiple of 512
 * @bytes: a multiple of 512; for a read or write no more than the pages
 *	attached, for fsync 0 (all of the file) or the range
 * @flags: for fallocate, BPF_AIO_FALLOC_PUNCH_HOLE or
 *	BPF_AIO_FALLOC_ZERO_RANGE; else 0
 *
 * Consumes @aio.  0 if submitted; a negative errno if an argument is
 * invalid (-EBADF: no such file): then an attached aio completes with that
 * errno, through the completion callback as any other, and one never
 * attached is freed.
 */
__bpf_kfunc int bpf_aio_submit(struct bpf_aio *aio, unsigned int file_idx,
			       u64 pos, u64 bytes, unsigned int flags)
{
	struct bpf_aio_owner *owner = aio->owner;
	int ret = -EINVAL;

	if (!owner) {
		bpf_aio_free(aio);
		return -EINVAL;
	}
	bpf_aio_stat_inc(owner, BPF_AIO_STAT_SUBMITTED);
	if ((pos | bytes) & 511 || pos > MAX_LFS_FILESIZE ||
	    bytes > MAX_LFS_FILESIZE - pos)
		goto fail;
	switch (aio->op) {
	case BPF_AIO_OP_FS_READ:
	case BPF_AIO_OP_FS_WRITE:
		if (flags || !bytes || bytes > iov_iter_count(&aio->iter))
			goto fail;
		iov_iter_truncate(&aio->iter, bytes);
		break;
	case BPF_AIO_OP_FS_FSYNC:
		if (flags)
			goto fail;
		break;
	case BPF_AIO_OP_FS_FALLOCATE:
		if ((flags != BPF_AIO_FALLOC_PUNCH_HOLE &&
		     flags != BPF_AIO_FALLOC_ZERO_RANGE) || !bytes)
			goto fail;
		break;
	}
	if (file_idx >= owner->nr_files || !owner->files[file_idx]) {
		ret = -EBADF;
		goto fail;
	}
	aio->file = owner->files[file_idx];
	aio->pos = pos;
	aio->bytes = bytes;
	aio->mode = flags;
	if (aio->op == BPF_AIO_OP_FS_READ || aio->op == BPF_AIO_OP_FS_WRITE) {
		init_sync_kiocb(&aio->iocb, aio->file);
		aio->iocb.ki_pos = pos;
		if (aio->op == BPF_AIO_OP_FS_WRITE &&
		    aio->flags & BPF_AIO_DSYNC)
			aio->iocb.ki_flags |= IOCB_DSYNC;
	}

	if (bpf_aio_try_inline(aio))
		aio->io_done = true;
	else
		bpf_aio_stat_inc(owner, BPF_AIO_STAT_WQ);
	queue_work(bpf_aio_wq, &aio->work);
	return 0;

fail:
	/* the owner learns it as a completion, from the workqueue */
	aio->result = ret;
	aio->io_done = true;
	queue_work(bpf_aio_wq, &aio->work);
	return ret;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(bpf_aio_kfunc_ids)
BTF_ID_FLAGS(func, bpf_aio_alloc, KF_ACQUIRE | KF_RET_NULL | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_aio_release, KF_RELEASE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_aio_submit, KF_RELEASE | KF_TRUSTED_ARGS)
BTF_KFUNCS_END(bpf_aio_kfunc_ids)

/* for struct_ops programs of any type; others are refused at load */
static const struct btf_kfunc_id_set bpf_aio_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &bpf_aio_kfunc_ids,
};

/* ---- struct bpf_aio_complete_ops ---- */

static bool bpf_aio_is_valid_access(int off, int size,
				    enum bpf_access_type type,
				    const struct bpf_prog *prog,
				    struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/* no .btf_struct_access: programs write nothing of the kernel's */
static const struct bpf_verifier_ops bpf_aio_verifier_ops = {
	.get_func_proto		= bpf_base_func_proto,
	.is_valid_access	= bpf_aio_is_valid_access,
};

static int bpf_aio_ops_init(struct btf *btf)
{
	return 0;
}

static int bpf_aio_ops_init_member(const struct btf_type *t,
				   const struct btf_member *member,
				   void *kdata, const void *udata)
{
	const struct bpf_aio_complete_ops *uops = udata;
	struct bpf_aio_complete_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct bpf_aio_complete_ops, id):
		ops->id = uops->id;
		return 1;
	}
	return 0;
}

static int bpf_aio_ops_check_member(const struct btf_type *t,
				    const struct btf_member *member,
				    const struct bpf_prog *prog)
{
	return 0;
}

static int bpf_aio_ops_validate(void *kdata)
{
	struct bpf_aio_complete_ops *ops = kdata;

	return ops->bpf_aio_complete_cb ? 0 : -EINVAL;
}

static int bpf_aio_ops_reg(void *kdata, struct bpf_link *link)
{
	struct bpf_aio_complete_ops *ops = kdata;
	int ret;

	mutex_lock(&bpf_aio_lock);
	ret = xa_insert(&bpf_aio_ops_xa, ops->id, ops, GFP_KERNEL);
	mutex_unlock(&bpf_aio_lock);
	/* -EBUSY from xa_insert(): the id is taken */
	return ret == -EBUSY ? -EEXIST : ret;
}

/*
 * From the grace period on, no callback of @kdata runs: aios completing
 * later complete to their owners without one.
 */
static void bpf_aio_ops_unreg(void *kdata, struct bpf_link *link)
{
	struct bpf_aio_complete_ops *ops = kdata;

	mutex_lock(&bpf_aio_lock);
	if (!WARN_ON_ONCE(xa_load(&bpf_aio_ops_xa, ops->id) != ops))
		xa_erase(&bpf_aio_ops_xa, ops->id);
	mutex_unlock(&bpf_aio_lock);
	synchronize_srcu(&bpf_aio_srcu);
}

static void bpf_aio_complete_ops__bpf_aio_complete_cb(struct bpf_aio *aio,
						      long ret)
{
}

static struct bpf_aio_complete_ops __bpf_aio_complete_ops = {
	.bpf_aio_complete_cb	= bpf_aio_complete_ops__bpf_aio_complete_cb,
};

static struct bpf_struct_ops bpf_bpf_aio_complete_ops = {
	.verifier_ops	= &bpf_aio_verifier_ops,
	.init		= bpf_aio_ops_init,
	.init_member	= bpf_aio_ops_init_member,
	.check_member	= bpf_aio_ops_check_member,
	.validate	= bpf_aio_ops_validate,
	.reg		= bpf_aio_ops_reg,
	.unreg		= bpf_aio_ops_unreg,
	.name		= "bpf_aio_complete_ops",
	.cfi_stubs	= &__bpf_aio_complete_ops,
	.owner		= THIS_MODULE,
};

static int __init bpf_aio_init(void)
{
	int ret;

	bpf_aio_wq = alloc_workqueue("bpf_aio", WQ_MEM_RECLAIM | WQ_UNBOUND,
				     0);
	if (!bpf_aio_wq)
		return -ENOMEM;
	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&bpf_aio_kfunc_set);
	if (ret) {
		pr_err("bpf_aio: cannot register kfuncs: %d\n", ret);
		return ret;
	}
	ret = register_bpf_struct_ops(&bpf_bpf_aio_complete_ops,
				      bpf_aio_complete_ops);
	if (ret)
		pr_err("bpf_aio: cannot register struct_ops: %d\n", ret);
	return ret;
}
late_initcall(bpf_aio_init);
