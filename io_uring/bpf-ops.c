// SPDX-License-Identifier: GPL-2.0
/*
 * BPF struct_ops running the io_uring event loop (io_uring/loop.c).
 *
 * A BPF program implements struct io_uring_bpf_ops.  It is attached to a
 * ring by setting ->ring_fd in the struct_ops map and creating the link;
 * from then on io_uring_enter(2) on that ring calls ->loop_step() with the
 * ring's ->uring_lock held until it returns IOU_LOOP_STOP.  The program
 * reaches the rings and the ring's parameter region through
 * bpf_io_uring_get_region(), the ring's registered buffers through
 * bpf_io_uring_buf_read(), _write() and _slice(), and submits with
 * bpf_io_uring_submit_sqes().
 *
 * The ops leave the ring when the link goes away or the ring is freed,
 * whichever comes first; the map can be linked again once its link went.
 * ->bpf_ops and ->loop_step of a ring are written with both io_bpf_ops_lock
 * and the ring's ->uring_lock held, so either lock is enough to read them;
 * ->priv of the ops is written with io_bpf_ops_lock held.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/mutex.h>
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/io_uring_types.h>

#include "io_uring.h"
#include "memmap.h"
#include "register.h"
#include "loop.h"
#include "bpf_buf.h"
#include "bpf-ops.h"

static DEFINE_MUTEX(io_bpf_ops_lock);
static const struct btf_type *iou_loop_params_type;

/*
 * ->priv of ops whose ring was freed while they were attached: the ops stay
 * taken until their link goes, so that unregistering that link cannot eject
 * ops attached again elsewhere through a new link of the same map.
 */
#define IO_BPF_OPS_ORPHANED	((void *)-1L)

__bpf_kfunc_start_defs();

/**
 * bpf_io_uring_submit_sqes - submit SQEs from the ring's SQ
 * @ctx: the ring passed to ->loop_step()
 * @nr: the maximum number of SQEs to submit
 *
 * Takes SQEs from the SQ as io_uring_enter(2) does: from the SQ head, or
 * from index 0 with IORING_SETUP_SQ_REWIND.
 *
 * Return: the number of SQEs submitted, or a negative error code.
 */
__bpf_kfunc int bpf_io_uring_submit_sqes(struct io_ring_ctx *ctx, u32 nr)
{
	lockdep_assert_held(&ctx->uring_lock);

	if (!nr)
		return 0;
	return io_submit_sqes(ctx, nr);
}

/**
 * bpf_io_uring_get_region - memory of the ring
 * @ctx: the ring passed to ->loop_step()
 * @region_id: IOU_REGION_MEM, IOU_REGION_CQ or IOU_REGION_SQ
 * @rdwr_buf_size: the number of bytes the program accesses, a constant
 *
 * Return: the start of the region, or NULL if the region does not exist or
 * is smaller than @rdwr_buf_size.
 */
__bpf_kfunc u8 *bpf_io_uring_get_region(struct io_ring_ctx *ctx,
					u32 region_id,
					const size_t rdwr_buf_size)
{
	size_t size;
	void *ptr;

	lockdep_assert_held(&ctx->uring_lock);

	switch (region_id) {
	case IOU_REGION_MEM:
		if (!io_region_is_set(&ctx->param_region))
			return NULL;
		ptr = io_region_get_ptr(&ctx->param_region);
		size = io_region_size(&ctx->param_region);
		break;
	case IOU_REGION_CQ:
		ptr = ctx->rings;
		size = (size_t)ctx->n_ring_pages << PAGE_SHIFT;
		break;
	case IOU_REGION_SQ:
		ptr = ctx->sq_sqes;
		size = (size_t)ctx->n_sqe_pages << PAGE_SHIFT;
		break;
	default:
		return NULL;
	}

	if (unlikely(rdwr_buf_size > size))
		return NULL;
	return ptr;
}

/*
 * Copy @len bytes between program memory @mem and [@off, @off + @len) of
 * the ring's registered buffer @index: the buffer access of IORING_OP_BPF
 * (io_uring/bpf_buf.c), on a whole registered buffer.
 */
static int bpf_io_buf_rw(struct io_ring_ctx *ctx, u32 index, u64 off,
			 void *mem, u32 len, bool to_buf)
{
	struct io_bpf_buf buf = {};
	int ret;

	lockdep_assert_held(&ctx->uring_lock);

	ret = io_bpf_buf_fixed(ctx, &buf, index, off, len);
	if (ret)
		return ret;
	if (io_bpf_buf_copy_mem(&buf, 0, mem, len, to_buf) != len)
		return -EFAULT;
	return 0;
}

/**
 * bpf_io_uring_buf_read - copy bytes out of a registered buffer
 * @ctx: the ring passed to ->loop_step()
 * @buf_index: the index of a buffer registered with IORING_REGISTER_BUFFERS
 * @off: where to start, from the start of the buffer
 * @dst: program memory to copy to
 * @dst__sz: the number of bytes
 *
 * Lets the program look at what a READ_FIXED or a receive into a
 * registered buffer brought, before it decides what to submit.
 *
 * Return: 0, -EINVAL if the ring has no buffer @buf_index, -EFAULT if the
 * bytes are not all within the buffer (or the slot is empty).
 */
__bpf_kfunc int bpf_io_uring_buf_read(struct io_ring_ctx *ctx, u32 buf_index,
				      u64 off, void *dst, u32 dst__sz)
{
	return bpf_io_buf_rw(ctx, buf_index, off, dst, dst__sz, false);
}

/**
 * bpf_io_uring_buf_write - copy bytes into a registered buffer
 * @ctx: the ring passed to ->loop_step()
 * @buf_index: the index of a buffer registered with IORING_REGISTER_BUFFERS
 * @off: where to start, from the start of the buffer
 * @src: program memory to copy from
 * @src__sz: the number of bytes
 *
 * Return: as bpf_io_uring_buf_read().
 */
__bpf_kfunc int bpf_io_uring_buf_write(struct io_ring_ctx *ctx, u32 buf_index,
				       u64 off, void *src, u32 src__sz)
{
	return bpf_io_buf_rw(ctx, buf_index, off, src, src__sz, true);
}

/**
 * bpf_io_uring_buf_slice - direct access to bytes of a registered buffer
 * @ctx: the ring passed to ->loop_step()
 * @buf_index: the index of a buffer registered with IORING_REGISTER_BUFFERS
 * @off: where the bytes start, from the start of the buffer
 * @rdwr_buf_size: the number of bytes, a constant
 *
 * As uring_bpf_buf_slice() of IORING_OP_BPF: the bytes must lie in one
 * page, so a program walks a buffer in slices of a size that divides the
 * page size, from a suitably aligned start.  The pointer is valid for the
 * rest of this ->loop_step(): the buffer cannot be unregistered while the
 * program holds ->uring_lock.
 *
 * Return: a pointer to the bytes, or NULL if the ring has no such buffer,
 * or the bytes are not all in it or not in one page.
 */
__bpf_kfunc u8 *bpf_io_uring_buf_slice(struct io_ring_ctx *ctx, u32 buf_index,
				       u64 off, const size_t rdwr_buf_size)
{
	struct io_bpf_buf buf = {};

	lockdep_assert_held(&ctx->uring_lock);

	if (io_bpf_buf_fixed(ctx, &buf, buf_index, off, rdwr_buf_size))
		return NULL;
	return io_bpf_buf_slice(&buf, 0, rdwr_buf_size);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(io_uring_kfunc_ids)
BTF_ID_FLAGS(func, bpf_io_uring_submit_sqes, KF_TRUSTED_ARGS | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_io_uring_get_region, KF_TRUSTED_ARGS | KF_RET_NULL)
BTF_ID_FLAGS(func, bpf_io_uring_buf_read, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_io_uring_buf_write, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_io_uring_buf_slice, KF_TRUSTED_ARGS | KF_RET_NULL)
BTF_KFUNCS_END(io_uring_kfunc_ids)

BTF_ID_LIST_SINGLE(io_uring_bpf_ops_ids, struct, io_uring_bpf_ops)

/*
 * The kfuncs rely on ->uring_lock being held, which is only true for
 * ->loop_step(): keep them from other struct_ops.
 */
static int bpf_io_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&io_uring_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type == BPF_PROG_TYPE_STRUCT_OPS &&
	    prog->aux->attach_btf_id == io_uring_bpf_ops_ids[0])
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set bpf_io_uring_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &io_uring_kfunc_ids,
	.filter	= bpf_io_kfunc_filter,
};

static bool bpf_io_is_valid_access(int off, int size,
				   enum bpf_access_type type,
				   const struct bpf_prog *prog,
				   struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/* Programs may write params->cq_wait_idx, nothing else */
static int bpf_io_btf_struct_access(struct bpf_verifier_log *log,
				    const struct bpf_reg_state *reg,
				    int off, int size)
{
	const struct btf_type *t = btf_type_by_id(reg->btf, reg->btf_id);

	if (t == iou_loop_params_type &&
	    off >= offsetof(struct iou_loop_params, cq_wait_idx) &&
	    off + size <= offsetofend(struct iou_loop_params, cq_wait_idx))
		return 0;

	bpf_log(log,
		"%s: off %d size %d: only iou_loop_params->cq_wait_idx is writable\n",
		btf_name_by_offset(reg->btf, t->name_off), off, size);
	return -EACCES;
}

static const struct bpf_verifier_ops bpf_io_verifier_ops = {
	.get_func_proto		= bpf_base_func_proto,
	.is_valid_access	= bpf_io_is_valid_access,
	.btf_struct_access	= bpf_io_btf_struct_access,
};

static int bpf_io_init(struct btf *btf)
{
	s32 type_id;

	/* constants BPF programs take from the kernel BTF */
	BTF_TYPE_EMIT_ENUM(IOU_LOOP_CONTINUE);
	BTF_TYPE_EMIT_ENUM(IOU_REGION_MEM);

	type_id = btf_find_by_name_kind(btf, "iou_loop_params", BTF_KIND_STRUCT);
	if (type_id < 0)
		return -EINVAL;
	iou_loop_params_type = btf_type_by_id(btf, type_id);
	return 0;
}

static int bpf_io_init_member(const struct btf_type *t,
			      const struct btf_member *member,
			      void *kdata, const void *udata)
{
	const struct io_uring_bpf_ops *uops = udata;
	struct io_uring_bpf_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct io_uring_bpf_ops, ring_fd):
		ops->ring_fd = uops->ring_fd;
		return 1;
	}
	/* function pointers, and ->priv which must be zero */
	return 0;
}

static int bpf_io_validate(void *kdata)
{
	struct io_uring_bpf_ops *ops = kdata;

	return ops->loop_step ? 0 : -EINVAL;
}

static int io_install_bpf(struct io_ring_ctx *ctx, struct io_uring_bpf_ops *ops)
{
	lockdep_assert_held(&io_bpf_ops_lock);
	lockdep_assert_held(&ctx->uring_lock);

	/*
	 * The loop submits and reaps in the task calling io_uring_enter(2):
	 * neither an SQ thread nor polled completions fit that, and deferred
	 * task_work is what lets the loop post CQEs under the lock it holds.
	 */
	if (ctx->flags & (IORING_SETUP_SQPOLL | IORING_SETUP_IOPOLL))
		return -EOPNOTSUPP;
	if (!(ctx->flags & IORING_SETUP_DEFER_TASKRUN))
		return -EOPNOTSUPP;
	if (ctx->bpf_ops)
		return -EBUSY;

	ops->priv = ctx;
	ctx->bpf_ops = ops;
	WRITE_ONCE(ctx->loop_step, ops->loop_step);
	return 0;
}

static void io_eject_bpf(struct io_ring_ctx *ctx, void *priv)
{
	struct io_uring_bpf_ops *ops = ctx->bpf_ops;

	lockdep_assert_held(&io_bpf_ops_lock);
	lockdep_assert_held(&ctx->uring_lock);

	ops->priv = priv;
	ctx->bpf_ops = NULL;
	WRITE_ONCE(ctx->loop_step, NULL);
	/* a loop sleeping for CQEs ends now rather than at the next CQE */
	io_loop_wake(ctx);
}

static int bpf_io_reg(void *kdata, struct bpf_link *link)
{
	struct io_uring_bpf_ops *ops = kdata;
	struct io_ring_ctx *ctx;
	struct file *file;
	int ret;

	if (!ops->loop_step)
		return -EINVAL;

	file = io_uring_register_get_file(ops->ring_fd, false);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ctx = file->private_data;

	mutex_lock(&io_bpf_ops_lock);
	if (ops->priv) {
		/* the map is linked already, maybe to another ring */
		ret = -EBUSY;
	} else {
		mutex_lock(&ctx->uring_lock);
		ret = io_install_bpf(ctx, ops);
		mutex_unlock(&ctx->uring_lock);
	}
	mutex_unlock(&io_bpf_ops_lock);

	fput(file);
	return ret;
}

static void bpf_io_unreg(void *kdata, struct bpf_link *link)
{
	struct io_uring_bpf_ops *ops = kdata;
	struct io_ring_ctx *ctx;

	/*
	 * Whoever comes first ejects the ops: this, or io_unregister_bpf_ops()
	 * when the ring is freed, which waits for the ring's ->uring_lock and,
	 * if the ops are still there, for io_bpf_ops_lock, and so for us to be
	 * done with the ring.
	 */
	mutex_lock(&io_bpf_ops_lock);
	ctx = ops->priv;
	if (ctx == IO_BPF_OPS_ORPHANED) {
		ops->priv = NULL;
	} else if (ctx) {
		mutex_lock(&ctx->uring_lock);
		io_eject_bpf(ctx, NULL);
		mutex_unlock(&ctx->uring_lock);
	}
	mutex_unlock(&io_bpf_ops_lock);
}

/*
 * Called when @ctx is freed: no task can be in io_uring_enter(2) on it, and
 * no ops can be attached any more (attaching holds a reference to the ring's
 * file).  Most rings never had ops: look under ->uring_lock first, as
 * mainline does, so that freeing them never waits for io_bpf_ops_lock, which
 * an attach or detach may hold while it waits for the ->uring_lock of a ring
 * whose loop keeps running.
 */
void io_unregister_bpf_ops(struct io_ring_ctx *ctx)
{
	bool attached;

	mutex_lock(&ctx->uring_lock);
	attached = ctx->bpf_ops;
	mutex_unlock(&ctx->uring_lock);
	if (!attached)
		return;

	mutex_lock(&io_bpf_ops_lock);
	if (ctx->bpf_ops) {
		mutex_lock(&ctx->uring_lock);
		io_eject_bpf(ctx, IO_BPF_OPS_ORPHANED);
		mutex_unlock(&ctx->uring_lock);
	}
	mutex_unlock(&io_bpf_ops_lock);
}

static int io_bpf_ops__loop_step(struct io_ring_ctx *ctx,
				 struct iou_loop_params *lp)
{
	return IOU_LOOP_STOP;
}

static struct io_uring_bpf_ops __bpf_io_uring_bpf_ops = {
	.loop_step	= io_bpf_ops__loop_step,
};

static struct bpf_struct_ops bpf_io_uring_bpf_ops = {
	.verifier_ops	= &bpf_io_verifier_ops,
	.init		= bpf_io_init,
	.init_member	= bpf_io_init_member,
	.validate	= bpf_io_validate,
	.reg		= bpf_io_reg,
	.unreg		= bpf_io_unreg,
	.name		= "io_uring_bpf_ops",
	.cfi_stubs	= &__bpf_io_uring_bpf_ops,
	.owner		= THIS_MODULE,
};

static int __init io_uring_bpf_ops_init(void)
{
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&bpf_io_uring_kfunc_set);
	if (ret) {
		pr_err("io_uring: cannot register BPF kfuncs: %d\n", ret);
		return ret;
	}
	ret = register_bpf_struct_ops(&bpf_io_uring_bpf_ops, io_uring_bpf_ops);
	if (ret)
		pr_err("io_uring: cannot register BPF struct_ops: %d\n", ret);
	return ret;
}
late_initcall(io_uring_bpf_ops_init);
