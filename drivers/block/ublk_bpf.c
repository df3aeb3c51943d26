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
 * completing it with ublk_bpf_complete_io() from the callback; the kernel
 * ends the request when the callback returns, so that no I/O a program
 * took can outlive the callback and the program.
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
	if (p->flags != UBLK_BPF_HAS_OPS_ID || p->reserved[0] || p->reserved[1])
		return -EINVAL;
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
	if (reg->ops->attach_dev) {
		ret = reg->ops->attach_dev(dev_id);
		if (ret > 0 || ret < -MAX_ERRNO) {
			pr_warn("ublk%u: attach_dev of BPF ops %u returned %d, not 0 or an errno\n",
				dev_id, p->ops_id, ret);
			ret = -EINVAL;
		}
		if (ret)
			goto out_unlock;
	}
	bd->dev_id = dev_id;
	bd->ops_id = p->ops_id;
	list_add_tail(&bd->node, &reg->devs);
	rcu_assign_pointer(bd->ops, reg->ops);
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

/*
 * Offer @rq to the queue callback of @bd's ops (->queue_io_cmd_daemon()
 * if @daemon): UBLK_BPF_FORWARD if the request goes on to the next stage
 * (no ops, no such callback, or a REDIRECT of all of it), UBLK_BPF_ENDED
 * if it was ended: completed by the program, or failed for its error.
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

	for (;;) {
		ret = fn(io, done);
		/* completed: the request ends whatever was returned */
		if (io->flags & UBLK_BPF_IO_F_COMPLETED)
			break;
		disp = ret >> UBLK_BPF_DISP_SHIFT;
		bytes = lower_32_bits(ret);
		if (disp == UBLK_BPF_IO_REDIRECT) {
			if (!done) {
				ublk_bpf_stat_inc(bd, UBLK_BPF_STAT_REDIRECTED);
				srcu_read_unlock(&ublk_bpf_srcu, idx);
				return UBLK_BPF_FORWARD;
			}
			why = "REDIRECT after part of the I/O was taken";
			break;
		}
		if (disp == UBLK_BPF_IO_QUEUED) {
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
			why = "all bytes taken without ublk_bpf_complete_io()";
			break;
		}
		if (++nr_continue == UBLK_BPF_MAX_CONTINUE) {
			why = "too many CONTINUE";
			break;
		}
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

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(ublk_bpf_kfunc_ids)
BTF_ID_FLAGS(func, ublk_bpf_complete_io, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_get_io_tag, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_get_queue_id, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, ublk_bpf_get_dev_id, KF_TRUSTED_ARGS)
BTF_KFUNCS_END(ublk_bpf_kfunc_ids)

BTF_ID_LIST_SINGLE(ublk_bpf_ops_ids, struct, ublk_bpf_ops)

/* The kfuncs take the I/O of a ublk_bpf_ops callback: only for those */
static int ublk_bpf_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&ublk_bpf_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type == BPF_PROG_TYPE_STRUCT_OPS &&
	    prog->aux->attach_btf_id == ublk_bpf_ops_ids[0])
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
