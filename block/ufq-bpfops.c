// SPDX-License-Identifier: GPL-2.0
/*
 * UFQ I/O scheduler: the ufq_iosched_ops BPF struct_ops and its life cycle.
 *
 * One BPF scheduler at a time serves every queue that uses ufq (like
 * sched_ext serves every CPU).  Attaching it does not freeze any queue:
 * each queue switches under its own ufd->lock, requests queued before the
 * switch stay with the kernel and are dispatched first.  Detaching, an
 * eject from BPF (bpf_ufq_eject()), an interface error or the watchdog
 * all take the requests back from BPF, under ufd->lock again, and put
 * them on the kernel FIFO.  So no queue is ever frozen with a UFQ lock
 * held, and the elevator callbacks (which run with the queue frozen) only
 * take ufq_list_mutex and ufd->lock, never ufq_ops_mutex.
 *
 * Lock order: ufq_ops_mutex -> ufq_list_mutex -> ufd->lock -> ufq_exit_lock.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "elevator.h"
#include "blk-mq.h"
#include "ufq-iosched.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "ufq."

/*
 * Eject a BPF scheduler that declines to dispatch (has_req false or
 * dispatch_req 0 while it owns requests of an idle device) continuously
 * for longer than this (milliseconds); 0 disables the watchdog.
 */
static unsigned int watchdog_timeout_ms = 30000;
module_param(watchdog_timeout_ms, uint, 0644);
MODULE_PARM_DESC(watchdog_timeout_ms,
		 "Eject a UFQ BPF scheduler that declines to dispatch for this long (ms, 0: never)");

enum ufq_state {
	UFQ_DISABLED,		/* no BPF scheduler */
	UFQ_ENABLING,		/* attaching: init_sched on every queue */
	UFQ_ENABLED,		/* the BPF scheduler runs */
	UFQ_EJECTING,		/* ejected, the kernel takes requests back */
	UFQ_EJECTED,		/* ejected, waiting for user space to detach */
	UFQ_DISABLING,		/* detaching */
};

static const char * const ufq_state_names[] = {
	[UFQ_DISABLED]	= "disabled",
	[UFQ_ENABLING]	= "enabling",
	[UFQ_ENABLED]	= "enabled",
	[UFQ_EJECTING]	= "ejecting",
	[UFQ_EJECTED]	= "ejected",
	[UFQ_DISABLING]	= "disabling",
};

static const char * const ufq_exit_names[] = {
	[UFQ_EXIT_NONE]		= "none",
	[UFQ_EXIT_UNREG]	= "unregistered",
	[UFQ_EXIT_BPF]		= "bpf",
	[UFQ_EXIT_WATCHDOG]	= "watchdog",
	[UFQ_EXIT_ERROR]	= "error",
};

/* Serializes attach, detach and the disable work. */
static DEFINE_MUTEX(ufq_ops_mutex);
/* Protects ufq_queues and ufd->bpf_inited. */
static DEFINE_MUTEX(ufq_list_mutex);
static LIST_HEAD(ufq_queues);

/* The attached (or ejected, not yet detached) ops, under ufq_ops_mutex. */
static struct ufq_iosched_ops *ufq_cur_ops;
/*
 * Attach generation: incremented (under ufq_ops_mutex) by every attach
 * before any queue gets the new ops, and never while a queue still has the
 * old ones.  A request BPF owns or dispatched keeps the generation of its
 * scheduler, so that finish_req goes to that scheduler or to none.
 */
static u32 ufq_attach_gen;

/* State and exit information, written under ufq_exit_lock. */
static DEFINE_SPINLOCK(ufq_exit_lock);
static enum ufq_state ufq_state_val = UFQ_DISABLED;
static enum ufq_exit_kind ufq_exit_kind_val = UFQ_EXIT_NONE;
static char ufq_exit_reason[UFQ_EXIT_REASON_LEN];
static char ufq_sched_name[UFQ_OPS_NAME_LEN];

/*
 * Eject and the watchdog must make progress under memory pressure, when
 * the requests BPF holds may be the writeback that frees memory.
 */
static struct workqueue_struct *ufq_wq;

static void ufq_disable_workfn(struct work_struct *work);
static DECLARE_WORK(ufq_disable_work, ufq_disable_workfn);
static void ufq_watchdog_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ufq_watchdog_work, ufq_watchdog_workfn);

static enum ufq_state ufq_state(void)
{
	return READ_ONCE(ufq_state_val);
}

static void ufq_set_state(enum ufq_state state)
{
	unsigned long flags;

	spin_lock_irqsave(&ufq_exit_lock, flags);
	WRITE_ONCE(ufq_state_val, state);
	spin_unlock_irqrestore(&ufq_exit_lock, flags);
}

/*
 * The generation of the attached scheduler.  Stable under ufd->lock while
 * ufd->ops is set; under RCU, read after ufd->ops (see ufq_bpf_finish()).
 */
u32 ufq_bpf_gen(void)
{
	return READ_ONCE(ufq_attach_gen);
}

/* Does a BPF scheduler run (not ejected)?  Any context. */
bool ufq_bpf_running(void)
{
	return ufq_state() == UFQ_ENABLED;
}

/*
 * The ops to call for @ufd, or NULL when no BPF scheduler runs on it.
 * Called with ufd->lock held.
 */
struct ufq_iosched_ops *ufq_active_ops(struct ufq_data *ufd)
{
	/* rcu_dereference_protected() checks that ufd->lock is held */
	if (ufq_state() != UFQ_ENABLED)
		return NULL;
	return rcu_dereference_protected(ufd->ops, lockdep_is_held(&ufd->lock));
}

/*
 * The reason is one line of printable text wherever it is shown (sysfs,
 * debugfs, the log), so that no BPF string can add lines to what a loader
 * parses: every control character becomes '?'.
 */
static void ufq_sanitize_reason(char *reason)
{
	for (; *reason; reason++)
		if ((unsigned char)*reason < ' ' || *reason == 0x7f)
			*reason = '?';
}

/**
 * ufq_eject - stop the BPF scheduler, fall back to FIFO
 * @kind: why
 * @fmt: reason, shown in debugfs and the kernel log
 *
 * May be called in any context.  The first reason wins.  The fast paths
 * stop calling BPF at once and dispatch BPF's requests in FIFO order; a
 * work item then takes the requests back and calls exit_sched.  The
 * scheduler stays attached (a new attach gets -EBUSY) until user space
 * detaches it.  Returns true if this call ejected the scheduler.
 */
bool ufq_eject(enum ufq_exit_kind kind, const char *fmt, ...)
{
	unsigned long flags;
	enum ufq_state state;
	va_list args;

	spin_lock_irqsave(&ufq_exit_lock, flags);
	state = ufq_state_val;
	if (state != UFQ_ENABLED && state != UFQ_ENABLING) {
		spin_unlock_irqrestore(&ufq_exit_lock, flags);
		return false;
	}
	WRITE_ONCE(ufq_state_val, UFQ_EJECTING);
	ufq_exit_kind_val = kind;
	va_start(args, fmt);
	vscnprintf(ufq_exit_reason, sizeof(ufq_exit_reason), fmt, args);
	va_end(args);
	ufq_sanitize_reason(ufq_exit_reason);
	spin_unlock_irqrestore(&ufq_exit_lock, flags);

	pr_warn("ufq: BPF scheduler %s ejected (%s): %s\n", ufq_sched_name,
		ufq_exit_names[kind], ufq_exit_reason);
	queue_work(ufq_wq, &ufq_disable_work);
	return true;
}

/* Take every queue away from the BPF scheduler, under ufq_ops_mutex. */
static void ufq_disable_queues(struct ufq_iosched_ops *ops)
{
	struct ufq_data *ufd;

	lockdep_assert_held(&ufq_ops_mutex);

	mutex_lock(&ufq_list_mutex);
	list_for_each_entry(ufd, &ufq_queues, node) {
		spin_lock(&ufd->lock);
		RCU_INIT_POINTER(ufd->ops, NULL);
		ufq_return_bpf_requests(ufd);
		spin_unlock(&ufd->lock);
	}
	/* finish_req callers read ufd->ops under RCU */
	synchronize_rcu();
	list_for_each_entry(ufd, &ufq_queues, node) {
		if (ufd->bpf_inited && ops->exit_sched)
			ops->exit_sched(ufd->q);
		ufd->bpf_inited = false;
		blk_mq_run_hw_queues(ufd->q, true);
	}
	mutex_unlock(&ufq_list_mutex);
}

static void ufq_disable_workfn(struct work_struct *work)
{
	mutex_lock(&ufq_ops_mutex);
	if (ufq_cur_ops && ufq_state() == UFQ_EJECTING) {
		cancel_delayed_work_sync(&ufq_watchdog_work);
		ufq_disable_queues(ufq_cur_ops);
		ufq_set_state(UFQ_EJECTED);
	}
	mutex_unlock(&ufq_ops_mutex);
}

static void ufq_watchdog_arm(void)
{
	unsigned int ms = READ_ONCE(watchdog_timeout_ms);

	/* check twice per timeout, re-read the knob at least every second */
	ms = ms ? clamp(ms / 2, 10U, 1000U) : 1000;
	queue_delayed_work(ufq_wq, &ufq_watchdog_work, msecs_to_jiffies(ms));
}

/*
 * Eject the scheduler if it declined to dispatch on @ufd's queue for
 * longer than the watchdog's timeout: it owns requests, was asked for one
 * and gave none every time since ufd->declined_at, while the device held
 * none of the queue's requests (see ufq_bpf_declined()).  A slow or
 * stalled device never ejects, since blk-mq does not ask the scheduler
 * while the device has no room.  Called with ufd->lock held, from the
 * watchdog's work and from the dispatch path.  Returns true if ejected.
 */
bool ufq_watchdog_check(struct ufq_data *ufd)
{
	unsigned int ms = READ_ONCE(watchdog_timeout_ms);
	unsigned long waited;

	lockdep_assert_held(&ufd->lock);

	if (!ms || !ufd->declining || !ufd->nr_bpf ||
	    !time_after(jiffies, ufd->declined_at + msecs_to_jiffies(ms)))
		return false;
	waited = jiffies - ufd->declined_at;
	return ufq_eject(UFQ_EXIT_WATCHDOG,
			 "watchdog: request on %s not dispatched for %u ms (timeout %u ms): the scheduler declined every time it was asked",
			 ufd->q->disk ? ufd->q->disk->disk_name : "?",
			 jiffies_to_msecs(waited), ms);
}

static void ufq_watchdog_workfn(struct work_struct *work)
{
	struct ufq_data *ufd;
	bool ejected = false, wake;

	if (ufq_state() != UFQ_ENABLED)
		return;

	mutex_lock(&ufq_list_mutex);
	list_for_each_entry(ufd, &ufq_queues, node) {
		spin_lock(&ufd->lock);
		ejected = ufq_watchdog_check(ufd);
		wake = !ejected && ufq_bpf_recheck(ufd);
		spin_unlock(&ufd->lock);
		if (ejected)
			break;
		if (wake)
			ufq_wake(ufd);
	}
	mutex_unlock(&ufq_list_mutex);

	if (!ejected)
		ufq_watchdog_arm();
}

/*
 * A queue starts to use ufq (elevator init_sched, queue frozen): hand it to
 * the BPF scheduler if one runs.
 */
void ufq_bpf_queue_init(struct ufq_data *ufd)
{
	struct ufq_iosched_ops *ops;
	int ret = 0;

	mutex_lock(&ufq_list_mutex);
	list_add_tail(&ufd->node, &ufq_queues);
	/* the state becomes UFQ_ENABLED only under ufq_list_mutex */
	ops = ufq_state() == UFQ_ENABLED ? READ_ONCE(ufq_cur_ops) : NULL;
	if (ops) {
		if (ops->init_sched)
			ret = ops->init_sched(ufd->q);
		if (ret) {
			ufq_eject(UFQ_EXIT_ERROR, "init_sched failed (%d) on %s",
				  ret, ufd->q->disk ? ufd->q->disk->disk_name : "?");
		} else {
			ufd->bpf_inited = true;
			spin_lock(&ufd->lock);
			rcu_assign_pointer(ufd->ops, ops);
			spin_unlock(&ufd->lock);
		}
	}
	mutex_unlock(&ufq_list_mutex);
}

/*
 * A queue stops using ufq (elevator exit_sched, queue frozen, so nothing is
 * queued and no request of it can complete any more).
 */
void ufq_bpf_queue_exit(struct ufq_data *ufd)
{
	struct ufq_iosched_ops *ops;

	mutex_lock(&ufq_list_mutex);
	spin_lock(&ufd->lock);
	ops = rcu_dereference_protected(ufd->ops, lockdep_is_held(&ufd->lock));
	RCU_INIT_POINTER(ufd->ops, NULL);
	ufq_return_bpf_requests(ufd);
	spin_unlock(&ufd->lock);
	if (ops && ufd->bpf_inited && ops->exit_sched)
		ops->exit_sched(ufd->q);
	ufd->bpf_inited = false;
	list_del_init(&ufd->node);
	mutex_unlock(&ufq_list_mutex);
}

/*
 * A request dispatched by BPF completed; any context.  @gen is the attach
 * generation of the scheduler that dispatched it (ufq_rq_gen()): only that
 * scheduler hears of it, not one attached since.
 */
void ufq_bpf_finish(struct ufq_data *ufd, struct request *rq,
		    unsigned long gen)
{
	struct ufq_iosched_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(ufd->ops);
	/*
	 * Pairs with rcu_assign_pointer() after the generation moved in
	 * ufq_ops_enable(): with the new ops we see the new generation.  With
	 * the old ops the generation cannot have moved on, since an attach
	 * follows a detach's synchronize_rcu().
	 */
	smp_rmb();
	if (ops && ops->finish_req && ufq_state() == UFQ_ENABLED &&
	    gen == ufq_gen_bits(ufq_bpf_gen()))
		ops->finish_req(rq);
	rcu_read_unlock();
}

/*
 * A request dispatched by BPF was requeued by the driver; any context.  As
 * in ufq_bpf_finish(), only the scheduler of attach @gen hears of it.
 */
void ufq_bpf_requeue(struct ufq_data *ufd, struct request *rq,
		     unsigned long gen)
{
	struct ufq_iosched_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(ufd->ops);
	smp_rmb();	/* the generation after the ops: see ufq_bpf_finish() */
	if (ops && ops->requeue_req && ufq_state() == UFQ_ENABLED &&
	    gen == ufq_gen_bits(ufq_bpf_gen()))
		ops->requeue_req(rq);
	rcu_read_unlock();
}

/* How many tags a new request with @opf may take (0: all); process context */
unsigned int ufq_bpf_limit_depth(struct ufq_data *ufd, blk_opf_t opf)
{
	struct ufq_iosched_ops *ops;
	unsigned int depth = 0;

	rcu_read_lock();
	ops = rcu_dereference(ufd->ops);
	if (ops && ops->limit_depth && ufq_state() == UFQ_ENABLED)
		depth = ops->limit_depth(ufd->q, opf);
	rcu_read_unlock();
	return depth;
}

/* The state and exit information, as one snapshot */
struct ufq_exit_info {
	enum ufq_state state;
	enum ufq_exit_kind kind;
	char name[UFQ_OPS_NAME_LEN];
	char reason[UFQ_EXIT_REASON_LEN];
};

static void ufq_read_exit_info(struct ufq_exit_info *ei)
{
	unsigned long flags;

	spin_lock_irqsave(&ufq_exit_lock, flags);
	ei->state = ufq_state_val;
	ei->kind = ufq_exit_kind_val;
	strscpy(ei->reason, ufq_exit_reason);
	strscpy(ei->name, ufq_sched_name);
	spin_unlock_irqrestore(&ufq_exit_lock, flags);
}

void ufq_bpf_show(struct ufq_data *ufd, struct seq_file *m)
{
	struct ufq_exit_info ei;
	bool attached;

	ufq_read_exit_info(&ei);

	rcu_read_lock();
	attached = rcu_access_pointer(ufd->ops);
	rcu_read_unlock();

	seq_printf(m, "name %s\n", ei.state == UFQ_DISABLED && !ei.name[0] ?
		   "none" : ei.name);
	seq_printf(m, "state %s\n", ufq_state_names[ei.state]);
	seq_printf(m, "queue_attached %d\n", attached);
	seq_printf(m, "exit_kind %s\n", ufq_exit_names[ei.kind]);
	seq_printf(m, "exit_reason %s\n", ei.reason);
	seq_printf(m, "watchdog_timeout_ms %u\n",
		   READ_ONCE(watchdog_timeout_ms));
}

/*
 * /sys/kernel/ufq: the state of the BPF scheduler, for all queues in one
 * place, as sched_ext's /sys/kernel/sched_ext/state and root/ops.  One
 * value per file, kept until the next attach: ops (its name, or none),
 * state, exit_kind and exit_reason (one line, see ufq_sanitize_reason()).
 */
enum ufq_sysfs_field {
	UFQ_SYSFS_OPS,
	UFQ_SYSFS_STATE,
	UFQ_SYSFS_EXIT_KIND,
	UFQ_SYSFS_EXIT_REASON,
};

static ssize_t ufq_sysfs_show(char *buf, enum ufq_sysfs_field field)
{
	struct ufq_exit_info ei;

	ufq_read_exit_info(&ei);

	switch (field) {
	case UFQ_SYSFS_OPS:
		return sysfs_emit(buf, "%s\n", ei.name[0] ? ei.name : "none");
	case UFQ_SYSFS_STATE:
		return sysfs_emit(buf, "%s\n", ufq_state_names[ei.state]);
	case UFQ_SYSFS_EXIT_KIND:
		return sysfs_emit(buf, "%s\n", ufq_exit_names[ei.kind]);
	case UFQ_SYSFS_EXIT_REASON:
		return sysfs_emit(buf, "%s\n", ei.reason);
	}
	return -EINVAL;
}

#define UFQ_SYSFS_ATTR(_name, _field)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return ufq_sysfs_show(buf, _field);				\
}									\
static struct kobj_attribute ufq_attr_##_name = __ATTR_RO(_name)

UFQ_SYSFS_ATTR(ops, UFQ_SYSFS_OPS);
UFQ_SYSFS_ATTR(state, UFQ_SYSFS_STATE);
UFQ_SYSFS_ATTR(exit_kind, UFQ_SYSFS_EXIT_KIND);
UFQ_SYSFS_ATTR(exit_reason, UFQ_SYSFS_EXIT_REASON);

static struct attribute *ufq_sysfs_attrs[] = {
	&ufq_attr_ops.attr,
	&ufq_attr_state.attr,
	&ufq_attr_exit_kind.attr,
	&ufq_attr_exit_reason.attr,
	NULL,
};

static const struct attribute_group ufq_sysfs_group = {
	.attrs = ufq_sysfs_attrs,
};

static struct kobject *ufq_kobj;

/*
 * What init_sched returned, as the errno of a failed attach.  Like
 * sched_ext's ops_sanitize_err(): anything but a -errno (a positive value
 * would reach user space as a BPF_LINK_CREATE result, an fd) is -EPROTO.
 */
static int ufq_sanitize_err(int err)
{
	if (err < 0 && err >= -MAX_ERRNO)
		return err;
	return -EPROTO;
}

static int ufq_ops_enable(struct ufq_iosched_ops *ops)
{
	struct ufq_data *ufd;
	unsigned long flags;
	int ret = 0;

	mutex_lock(&ufq_ops_mutex);
	if (ufq_cur_ops) {
		ret = -EBUSY;
		goto out_unlock;
	}

	mutex_lock(&ufq_list_mutex);
	spin_lock_irqsave(&ufq_exit_lock, flags);
	WRITE_ONCE(ufq_state_val, UFQ_ENABLING);
	ufq_exit_kind_val = UFQ_EXIT_NONE;
	ufq_exit_reason[0] = '\0';
	strscpy(ufq_sched_name, ops->name);
	spin_unlock_irqrestore(&ufq_exit_lock, flags);
	/* no queue has ops now: the old scheduler's were cleared and waited for */
	WRITE_ONCE(ufq_attach_gen, ufq_attach_gen + 1);

	list_for_each_entry(ufd, &ufq_queues, node) {
		if (ops->init_sched) {
			ret = ops->init_sched(ufd->q);
			if (ret)
				break;
		}
		ufd->bpf_inited = true;
		spin_lock(&ufd->lock);
		rcu_assign_pointer(ufd->ops, ops);
		spin_unlock(&ufd->lock);
	}

	if (ret) {
		mutex_unlock(&ufq_list_mutex);
		if (ufq_sanitize_err(ret) == ret)
			ufq_eject(UFQ_EXIT_ERROR,
				  "init_sched failed (%d) on attach", ret);
		else
			ufq_eject(UFQ_EXIT_ERROR,
				  "init_sched returned %d, not an errno, on attach",
				  ret);
		ret = ufq_sanitize_err(ret);
		ufq_disable_queues(ops);
		ufq_set_state(UFQ_DISABLED);
		goto out_unlock;
	}

	/*
	 * Under ufq_list_mutex, so that a queue switching to ufq now either
	 * was initialized above or sees UFQ_ENABLED in ufq_bpf_queue_init().
	 */
	WRITE_ONCE(ufq_cur_ops, ops);
	spin_lock_irqsave(&ufq_exit_lock, flags);
	/* an init_sched may have ejected already: the work disables it */
	if (ufq_state_val == UFQ_ENABLING)
		WRITE_ONCE(ufq_state_val, UFQ_ENABLED);
	spin_unlock_irqrestore(&ufq_exit_lock, flags);

	/* the queues got a new policy: kick them */
	list_for_each_entry(ufd, &ufq_queues, node)
		blk_mq_run_hw_queues(ufd->q, true);
	mutex_unlock(&ufq_list_mutex);

	ufq_watchdog_arm();
	pr_info("ufq: BPF scheduler %s enabled\n", ops->name);
out_unlock:
	mutex_unlock(&ufq_ops_mutex);
	return ret;
}

static void ufq_ops_disable(struct ufq_iosched_ops *ops)
{
	unsigned long flags;

	mutex_lock(&ufq_ops_mutex);
	if (ufq_cur_ops != ops) {
		mutex_unlock(&ufq_ops_mutex);
		return;
	}

	spin_lock_irqsave(&ufq_exit_lock, flags);
	if (ufq_state_val == UFQ_ENABLED) {
		ufq_exit_kind_val = UFQ_EXIT_UNREG;
		strscpy(ufq_exit_reason, "detached by user space");
	}
	if (ufq_state_val != UFQ_EJECTED)
		WRITE_ONCE(ufq_state_val, UFQ_DISABLING);
	spin_unlock_irqrestore(&ufq_exit_lock, flags);

	cancel_delayed_work_sync(&ufq_watchdog_work);
	if (ufq_state() == UFQ_DISABLING)
		ufq_disable_queues(ops);

	WRITE_ONCE(ufq_cur_ops, NULL);
	ufq_set_state(UFQ_DISABLED);
	mutex_unlock(&ufq_ops_mutex);
	pr_info("ufq: BPF scheduler %s disabled\n", ops->name);
}

/* struct_ops plumbing */

static int ufq_bpf_reg(void *kdata, struct bpf_link *link)
{
	/*
	 * One scheduler holds the requests of every ufq disk of the host:
	 * attaching needs CAP_SYS_ADMIN in the initial user namespace, not
	 * only the CAP_BPF that a BPF token can delegate into another one.
	 */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return ufq_ops_enable(kdata);
}

static void ufq_bpf_unreg(void *kdata, struct bpf_link *link)
{
	ufq_ops_disable(kdata);
}

static int ufq_bpf_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	/* replacing a running scheduler is not supported: detach first */
	return -EOPNOTSUPP;
}

static int ufq_bpf_validate(void *kdata)
{
	struct ufq_iosched_ops *ops = kdata;

	/* a scheduler takes requests and gives them back */
	if (!ops->insert_req || !ops->dispatch_req)
		return -EINVAL;
	return 0;
}

static int ufq_bpf_init(struct btf *btf)
{
	return 0;
}

static int ufq_bpf_init_member(const struct btf_type *t,
			       const struct btf_member *member,
			       void *kdata, const void *udata)
{
	const struct ufq_iosched_ops *uops = udata;
	struct ufq_iosched_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;
	int ret;

	switch (moff) {
	case offsetof(struct ufq_iosched_ops, name):
		ret = bpf_obj_name_cpy(ops->name, uops->name,
				       sizeof(ops->name));
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -EINVAL;
		return 1;
	}
	return 0;
}

static int ufq_bpf_check_member(const struct btf_type *t,
				const struct btf_member *member,
				const struct bpf_prog *prog)
{
	/*
	 * No member may sleep.  Most run under the queue's UFQ spinlock or
	 * in interrupt context; init_sched and exit_sched run with the queue
	 * frozen and under ufq_list_mutex, so a program that faulted on a
	 * page of a file on that disk, or waited for its I/O, would wait for
	 * the freeze it is part of.
	 */
	if (prog->sleepable)
		return -EINVAL;
	return 0;
}

static bool ufq_bpf_is_valid_access(int off, int size,
				    enum bpf_access_type type,
				    const struct bpf_prog *prog,
				    struct bpf_insn_access_aux *info)
{
	if (type != BPF_READ)
		return false;
	if (off < 0 || off >= sizeof(__u64) * MAX_BPF_FUNC_ARGS)
		return false;
	if (off % size != 0)
		return false;
	return btf_ctx_access(off, size, type, prog, info);
}

static const struct bpf_func_proto *
ufq_bpf_get_func_proto(enum bpf_func_id func_id, const struct bpf_prog *prog)
{
	return bpf_base_func_proto(func_id, prog);
}

/* No btf_struct_access: the kernel objects are read only for BPF. */
static const struct bpf_verifier_ops ufq_bpf_verifier_ops = {
	.get_func_proto		= ufq_bpf_get_func_proto,
	.is_valid_access	= ufq_bpf_is_valid_access,
};

static int ufq_stub_init_sched(struct request_queue *q)
{
	return 0;
}

static int ufq_stub_exit_sched(struct request_queue *q)
{
	return 0;
}

static int ufq_stub_insert_req(struct request_queue *q, struct request *rq,
			       blk_insert_t flags)
{
	return 0;
}

static u64 ufq_stub_dispatch_req(struct request_queue *q)
{
	return 0;
}

static bool ufq_stub_has_req(struct request_queue *q, int rqs_count)
{
	return false;
}

static void ufq_stub_finish_req(struct request *rq)
{
}

static void ufq_stub_merge_req(struct request_queue *q, struct request *rq)
{
}

static void ufq_stub_merge_bio(struct request_queue *q, struct bio *bio,
			       unsigned int nr_segs)
{
}

static u32 ufq_stub_limit_depth(struct request_queue *q, blk_opf_t opf)
{
	return 0;
}

static void ufq_stub_requeue_req(struct request *rq)
{
}

static struct ufq_iosched_ops __bpf_ops_ufq_iosched_ops = {
	.init_sched	= ufq_stub_init_sched,
	.exit_sched	= ufq_stub_exit_sched,
	.insert_req	= ufq_stub_insert_req,
	.dispatch_req	= ufq_stub_dispatch_req,
	.has_req	= ufq_stub_has_req,
	.finish_req	= ufq_stub_finish_req,
	.merge_req	= ufq_stub_merge_req,
	.merge_bio	= ufq_stub_merge_bio,
	.limit_depth	= ufq_stub_limit_depth,
	.requeue_req	= ufq_stub_requeue_req,
};

static struct bpf_struct_ops bpf_ufq_iosched_ops = {
	.verifier_ops	= &ufq_bpf_verifier_ops,
	.reg		= ufq_bpf_reg,
	.unreg		= ufq_bpf_unreg,
	.update		= ufq_bpf_update,
	.validate	= ufq_bpf_validate,
	.init		= ufq_bpf_init,
	.init_member	= ufq_bpf_init_member,
	.check_member	= ufq_bpf_check_member,
	.name		= "ufq_iosched_ops",
	.owner		= THIS_MODULE,
	.cfi_stubs	= &__bpf_ops_ufq_iosched_ops,
};

static int __init ufq_bpfops_init(void)
{
	int ret;

	ufq_wq = alloc_workqueue("ufq", WQ_UNBOUND | WQ_MEM_RECLAIM |
				 WQ_HIGHPRI, 0);
	if (!ufq_wq) {
		ret = -ENOMEM;
		goto err;
	}
	ufq_kobj = kobject_create_and_add("ufq", kernel_kobj);
	if (!ufq_kobj) {
		ret = -ENOMEM;
		goto err_wq;
	}
	ret = sysfs_create_group(ufq_kobj, &ufq_sysfs_group);
	if (ret)
		goto err_kobj;
	ret = register_bpf_struct_ops(&bpf_ufq_iosched_ops, ufq_iosched_ops);
	if (ret)
		goto err_group;
	return 0;

err_group:
	sysfs_remove_group(ufq_kobj, &ufq_sysfs_group);
err_kobj:
	kobject_put(ufq_kobj);
err_wq:
	destroy_workqueue(ufq_wq);
err:
	pr_err("ufq: failed to register struct_ops (%d)\n", ret);
	return ret;
}
late_initcall(ufq_bpfops_init);
