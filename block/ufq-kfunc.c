// SPDX-License-Identifier: GPL-2.0
/*
 * UFQ I/O scheduler: kfuncs for ufq_iosched_ops programs.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/err.h>

#include "elevator.h"
#include "blk.h"
#include "blk-mq.h"
#include "ufq-iosched.h"

__bpf_kfunc_start_defs();

/**
 * bpf_request_id - the id of a request owned by the BPF scheduler
 * @rq: request passed to insert_req
 *
 * Returns the id under which @rq can be dispatched (returned from
 * dispatch_req) or merged into (bpf_request_bio_try_merge(),
 * bpf_request_try_merge()), or 0 if @rq is not owned by the scheduler.
 */
__bpf_kfunc u64 bpf_request_id(struct request *rq)
{
	if (ufq_rq_state(rq) != UFQ_RQ_BPF)
		return 0;
	return ufq_rq_data(rq);
}

/*
 * The request @rq_id names, for a merge kfunc called from the merge
 * callback that runs with @bio and @nr_segs (merge_bio) or @next
 * (merge_req) on @ufd's queue, or an ERR_PTR: -EINVAL if no such callback
 * runs, -EALREADY if it merged already, -ENOENT if the scheduler owns no
 * request @rq_id there.
 */
static struct request *ufq_merge_target(struct ufq_data *ufd,
					const struct bio *bio,
					unsigned int nr_segs,
					const struct request *next, u64 rq_id)
{
	struct request *rq;

	if (!ufd || READ_ONCE(ufd->merge_bio) != bio ||
	    READ_ONCE(ufd->merge_rq) != next)
		return ERR_PTR(-EINVAL);
	lockdep_assert_held(&ufd->lock);
	if (bio && nr_segs != ufd->merge_nr_segs)
		return ERR_PTR(-EINVAL);
	if (ufd->merge_done)
		return ERR_PTR(-EALREADY);
	rq = ufq_lookup_request(ufd, rq_id);
	return rq ?: ERR_PTR(-ENOENT);
}

/**
 * bpf_request_bio_try_merge - merge the bio of merge_bio into a request
 * @rq_id: id of a request owned by the scheduler in the bio's queue
 * @bio: the bio passed to the running merge_bio callback
 * @nr_segs: the nr_segs passed to merge_bio
 *
 * May be called under the program's bpf_spin_lock (KF_SPIN_LOCK), only
 * from merge_bio, at most once successfully per call.  The request's
 * segment count grows by the segments of @bio that the kernel counted;
 * any other @nr_segs would miscount it, so that mapping the request
 * overruns the driver's scatterlist, and is refused.  Returns
 * 2 (ELEVATOR_BACK_MERGE: the request now ends where the bio ended),
 * 1 (ELEVATOR_FRONT_MERGE: the request now starts at the bio's sector,
 * re-sort it), 3 (ELEVATOR_DISCARD_MERGE), 0 if the two cannot be merged,
 * -ENOENT for an unknown id, -EINVAL outside merge_bio or with another
 * @nr_segs than merge_bio's, and -EALREADY if the bio is already merged.
 */
__bpf_kfunc int bpf_request_bio_try_merge(u64 rq_id, struct bio *bio,
					  u32 nr_segs)
{
	struct request_queue *q = bdev_get_queue(bio->bi_bdev);
	struct ufq_data *ufd = ufq_queue_data(q);
	unsigned int sectors = bio_sectors(bio);
	enum elv_merge type;
	struct request *rq;

	rq = ufq_merge_target(ufd, bio, nr_segs, NULL, rq_id);
	if (IS_ERR(rq))
		return PTR_ERR(rq);

	if (!blk_rq_merge_ok(rq, bio))
		return 0;
	type = blk_try_merge(rq, bio);
	if (type == ELEVATOR_NO_MERGE)
		return 0;
	if (blk_attempt_bio_merge(q, rq, bio, ufd->merge_nr_segs,
				  true) != BIO_MERGE_OK)
		return 0;
	if (type != ELEVATOR_DISCARD_MERGE)
		elv_merged_request(q, rq, type);

	ufd->merge_done = true;
	ufd->stats.bio_merged++;
	ufd->stats.bio_merged_sectors += sectors;
	ufd->stats.bpf_bio_merged++;
	return type;
}

/**
 * bpf_request_try_merge - merge the request of merge_req into another
 * @rq_id: id of a request owned by the scheduler, in the same queue
 * @next: the request passed to the running merge_req callback
 *
 * Appends @next to the request @rq_id if @next starts where it ends (a back
 * merge); @next is then freed by the kernel and never inserted.  May be
 * called under the program's bpf_spin_lock (KF_SPIN_LOCK), only from
 * merge_req.  Returns 1 if merged, 0 if not, -ENOENT for an unknown id,
 * -EINVAL outside merge_req and -EALREADY if @next is already merged.
 */
__bpf_kfunc int bpf_request_try_merge(u64 rq_id, struct request *next)
{
	struct request_queue *q = next->q;
	struct ufq_data *ufd = ufq_queue_data(q);
	struct request *rq;

	rq = ufq_merge_target(ufd, NULL, 0, next, rq_id);
	if (IS_ERR(rq))
		return PTR_ERR(rq);
	if (!blk_attempt_req_merge(q, rq, next))
		return 0;

	ufd->merge_done = true;
	return 1;
}

/**
 * bpf_ufq_kernel_queued - requests the kernel queues ahead of the scheduler
 * @q: a queue the calling callback runs for
 *
 * Returns the number of requests waiting in the kernel's own FIFO of @q,
 * which are dispatched before any the scheduler owns: requeues, flush
 * sequences, requests insert_req refused or dispatched with
 * UFQ_INSERT_DISPATCH.  Exact in every callback but finish_req, which
 * runs without the UFQ lock.  Returns 0 if @q does not use ufq.
 */
__bpf_kfunc u32 bpf_ufq_kernel_queued(struct request_queue *q)
{
	struct ufq_data *ufd = ufq_queue_data(q);

	return ufd ? READ_ONCE(ufd->nr_fifo) : 0;
}

/**
 * bpf_ufq_eject - eject the running BPF scheduler
 * @reason: why, shown in debugfs (sched) and the kernel log
 * @reason__sz: size of @reason
 *
 * The kernel takes back every request and dispatches in FIFO order until
 * the scheduler is detached.
 */
__bpf_kfunc void bpf_ufq_eject(const char *reason, u32 reason__sz)
{
	char buf[UFQ_EXIT_REASON_LEN];
	u32 len = min_t(u32, reason__sz, sizeof(buf) - 1);

	memcpy(buf, reason, len);
	buf[len] = '\0';
	ufq_eject(UFQ_EXIT_BPF, "%s", buf);
}

/**
 * bpf_ufq_kick - ask the scheduler to dispatch on a queue again
 * @queue_id: q->id of a queue using ufq
 *
 * After the scheduler declined to dispatch (has_req returned false or
 * dispatch_req returned 0 while it owned requests of the queue), the
 * kernel does not ask it again until a request of the queue is inserted
 * or completes, or the scheduler kicks the queue: a policy that holds
 * requests back (for merges, for a deadline, to idle) arms a bpf_timer
 * and kicks from its callback, as a sched_ext scheduler does with
 * scx_bpf_kick_cpu().  Any context, including bpf_timer callbacks.
 * Returns 0, or -ENOENT if no queue using ufq has that id.
 */
__bpf_kfunc int bpf_ufq_kick(u32 queue_id)
{
	return ufq_kick_queue(queue_id);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(ufq_kfunc_ids)
BTF_ID_FLAGS(func, bpf_request_id, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_request_bio_try_merge, KF_TRUSTED_ARGS | KF_SPIN_LOCK)
BTF_ID_FLAGS(func, bpf_request_try_merge, KF_TRUSTED_ARGS | KF_SPIN_LOCK)
BTF_ID_FLAGS(func, bpf_ufq_kernel_queued, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_ufq_eject)
BTF_ID_FLAGS(func, bpf_ufq_kick)
BTF_KFUNCS_END(ufq_kfunc_ids)

BTF_ID_LIST(ufq_btf_ids)
BTF_ID(struct, ufq_iosched_ops)

/* Only ufq_iosched_ops programs may call the UFQ kfuncs. */
static int ufq_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&ufq_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type == BPF_PROG_TYPE_STRUCT_OPS &&
	    prog->aux->attach_btf && !btf_is_module(prog->aux->attach_btf) &&
	    prog->aux->attach_btf_id == ufq_btf_ids[0])
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set ufq_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &ufq_kfunc_ids,
	.filter	= ufq_kfunc_filter,
};

static int __init ufq_kfunc_init(void)
{
	int ret;

	/*
	 * No kfunc acquires a request and struct request has no kptr
	 * destructor: a program cannot keep a request (its tags and the
	 * queue's usage count) beyond a callback, so eject, detach, freezes
	 * and del_gendisk never wait for user space to free a map.
	 */
	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&ufq_kfunc_set);
	if (ret)
		pr_err("ufq: failed to register kfuncs (%d)\n", ret);
	return ret;
}
late_initcall(ufq_kfunc_init);
