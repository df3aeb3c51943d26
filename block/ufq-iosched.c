// SPDX-License-Identifier: GPL-2.0
/*
 * UFQ (User-programmable Flexible Queueing) I/O scheduler.
 *
 * A blk-mq elevator with one set of structures per request_queue (like
 * mq-deadline), so that a policy sees the whole queue.  Without a BPF
 * scheduler attached it is a plain FIFO.  With one attached (see
 * ufq-bpfops.c), the BPF program decides the dispatch order of the
 * requests it accepted, while the kernel keeps them on its own lists so
 * that it can take them back at any time.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/rbtree.h>
#include <linux/seq_file.h>
#include <linux/xarray.h>

#include <trace/events/block.h>

#include "elevator.h"
#include "blk.h"
#include "blk-mq.h"
#include "blk-mq-debugfs.h"
#include "blk-mq-sched.h"
#include "ufq-iosched.h"

static struct elevator_type ufq_elv;

/* The ufq_data of every queue using ufq, by q->id, for bpf_ufq_kick() */
static DEFINE_XARRAY(ufq_queue_ids);

/* Return the UFQ data of @q, or NULL if @q does not use ufq. */
struct ufq_data *ufq_queue_data(struct request_queue *q)
{
	struct elevator_queue *e = q->elevator;

	if (!e || e->type != &ufq_elv)
		return NULL;
	return e->elevator_data;
}

/*
 * A request id is (seq << 32) | (hw queue number << 16) | scheduler tag.
 * The tag part finds the request in O(1) among the scheduler tags of the
 * queue, seq (never 0) tells a live id from a stale one whose tag was
 * reused.  The id is kept in rq->elv.priv[1] while the request is owned
 * by the BPF scheduler.
 */
static bool ufq_make_id(struct ufq_data *ufd, struct request *rq, u64 *id)
{
	unsigned int hw = rq->mq_hctx->queue_num;
	int tag = rq->internal_tag;

	if (tag == BLK_MQ_NO_TAG || tag > U16_MAX || hw > U16_MAX)
		return false;
	if (++ufd->id_seq == 0)
		ufd->id_seq = 1;
	*id = ((u64)ufd->id_seq << 32) | (hw << 16) | tag;
	return true;
}

/*
 * Find the request owned by the BPF scheduler that has id @id in the queue
 * of @ufd, or NULL.  Called with ufd->lock held.
 */
struct request *ufq_lookup_request(struct ufq_data *ufd, u64 id)
{
	struct request_queue *q = ufd->q;
	unsigned int hw = (id >> 16) & U16_MAX;
	unsigned int tag = id & U16_MAX;
	struct blk_mq_hw_ctx *hctx;
	struct blk_mq_tags *tags;
	struct request *rq;

	lockdep_assert_held(&ufd->lock);

	if (!id)
		return NULL;
	hctx = xa_load(&q->hctx_table, hw);
	if (!hctx)
		return NULL;
	tags = hctx->sched_tags;
	if (!tags || tag >= tags->nr_tags)
		return NULL;
	rq = tags->static_rqs[tag];
	if (!rq || rq->q != q)
		return NULL;
	/* The state of an owned request only changes under ufd->lock. */
	if (ufq_rq_state(rq) != UFQ_RQ_BPF || ufq_rq_data(rq) != id)
		return NULL;
	return rq;
}

/* @rq went away by a merge: count it once, forget it if it was queued. */
void ufq_account_merged(struct ufq_data *ufd, struct request *rq)
{
	enum ufq_rq_state state = ufq_rq_state(rq);

	lockdep_assert_held(&ufd->lock);

	if (state == UFQ_RQ_MERGED)
		return;
	if (state == UFQ_RQ_FIFO || state == UFQ_RQ_DIRECT ||
	    state == UFQ_RQ_BPF) {
		list_del_init(&rq->queuelist);
		if (state == UFQ_RQ_BPF)
			ufd->nr_bpf--;
		else
			ufd->nr_fifo--;
		elv_rqhash_del(ufd->q, rq);
		if (ufd->q->last_merge == rq)
			ufd->q->last_merge = NULL;
	}
	ufd->stats.rq_merged++;
	ufd->stats.rq_merged_sectors += blk_rq_sectors(rq);
	ufq_rq_set_state(rq, UFQ_RQ_MERGED, 0);
}

/*
 * Give all requests owned by the BPF scheduler back to the kernel FIFO,
 * after the ones the kernel already owns.  Called with ufd->lock held when
 * the scheduler is detached or ejected; its ids are invalid afterwards.
 */
void ufq_return_bpf_requests(struct ufq_data *ufd)
{
	struct request *rq;

	lockdep_assert_held(&ufd->lock);

	list_for_each_entry(rq, &ufd->bpf_list, queuelist)
		ufq_rq_set_state(rq, UFQ_RQ_FIFO, 0);
	list_splice_tail_init(&ufd->bpf_list, &ufd->fifo);
	ufd->nr_fifo += ufd->nr_bpf;
	ufd->nr_bpf = 0;
	ufd->declining = false;
	WRITE_ONCE(ufd->bpf_waiting, false);
}

/* Ask BPF again: run the queue even if BPF declined last time. */
void ufq_wake(struct ufq_data *ufd)
{
	/* a full barrier: BPF's state before the kick, then the count */
	atomic_inc_return(&ufd->wake_seq);
	blk_mq_run_hw_queues(ufd->q, true);
}

/**
 * ufq_kick_queue - run a queue for its BPF scheduler (bpf_ufq_kick())
 * @queue_id: q->id of a queue using ufq
 *
 * Any context.  Returns 0, or -ENOENT if no queue using ufq has that id
 * or it is going away.
 */
int ufq_kick_queue(u32 queue_id)
{
	struct request_queue *q;
	struct ufq_data *ufd;
	int ret = -ENOENT;

	rcu_read_lock();
	ufd = xa_load(&ufq_queue_ids, queue_id);
	/*
	 * ufd is freed after a grace period, once erased from the xarray,
	 * which happens with the queue frozen: while we hold a usage count,
	 * it is the queue's current elevator data.
	 */
	if (ufd && percpu_ref_tryget(&ufd->q->q_usage_counter)) {
		q = ufd->q;
		ufq_wake(ufd);
		blk_queue_exit(q);
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * The queue is being frozen (elevator switch, nr_requests, nr_hw_queues,
 * del_gendisk, a sysfs store...): its requests must come back at once,
 * the freeze waits for them.  blk_freeze_queue_start() runs the queues.
 */
static bool ufq_queue_freezing(struct request_queue *q)
{
	return percpu_ref_is_dying(&q->q_usage_counter);
}

/* Does the device hold requests of the queue (or of its tag set)? */
static bool ufq_device_busy(struct request_queue *q)
{
	struct blk_mq_hw_ctx *hctx;
	unsigned long i;

	queue_for_each_hw_ctx(q, hctx, i) {
		struct blk_mq_tags *tags = hctx->tags;

		if (tags && (sbitmap_any_bit_set(&tags->bitmap_tags.sb) ||
			     sbitmap_any_bit_set(&tags->breserved_tags.sb)))
			return true;
	}
	return false;
}

/* Has BPF declined, with nothing woken it since?  Lockless. */
static bool ufq_bpf_waits(struct ufq_data *ufd)
{
	/* pairs with smp_store_release() in ufq_bpf_declined() */
	return smp_load_acquire(&ufd->bpf_waiting) &&
		atomic_read(&ufd->wake_seq) == READ_ONCE(ufd->wait_seq) &&
		ufq_bpf_running() && !ufq_queue_freezing(ufd->q);
}

/*
 * BPF owns requests, was asked for one and gave none (has_req false or
 * dispatch_req 0), having seen the wake count @seq.  Do not ask again
 * until woken.  For the watchdog, this is a decline unless the device
 * holds requests: a scheduler may be waiting for them (it limits its
 * depth), and a slow, busy or stuck device is no fault of the scheduler.
 * Called with ufd->lock held.
 */
static void ufq_bpf_declined(struct ufq_data *ufd, int seq)
{
	lockdep_assert_held(&ufd->lock);

	if (ufq_device_busy(ufd->q)) {
		ufd->declining = false;
	} else if (!ufd->declining) {
		ufd->declining = true;
		ufd->declined_at = jiffies;
	}
	WRITE_ONCE(ufd->wait_seq, seq);
	/* has_work sees wait_seq once it sees bpf_waiting: ufq_bpf_waits() */
	smp_store_release(&ufd->bpf_waiting, true);
	/* the watchdog's work may not run (memory pressure): check here too */
	if (ufd->declining)
		ufq_watchdog_check(ufd);
}

/*
 * For the watchdog's work: BPF declined while the device was busy, and
 * the device is idle now, yet BPF was not asked again (the completion
 * woke it before the device released its tag).  The caller wakes it, so
 * that it is asked with the device idle.  Called with ufd->lock held.
 */
bool ufq_bpf_recheck(struct ufq_data *ufd)
{
	lockdep_assert_held(&ufd->lock);

	return ufd->nr_bpf && !ufd->declining && ufq_bpf_waits(ufd) &&
		!ufq_device_busy(ufd->q);
}

/* Was @id handed out before a freeze took its request back? */
static bool ufq_id_reclaimed(struct ufq_data *ufd, u64 id)
{
	u32 seq = id >> 32;

	return seq && ufd->reclaim_seq &&
		(s32)(ufd->reclaim_seq - seq) >= 0;
}

/* Queue @rq on the kernel FIFO: at its head for BLK_MQ_INSERT_AT_HEAD. */
static void ufq_fifo_add(struct ufq_data *ufd, struct request *rq,
			 blk_insert_t flags)
{
	if (flags & BLK_MQ_INSERT_AT_HEAD)
		list_add(&rq->queuelist, &ufd->fifo);
	else
		list_add_tail(&rq->queuelist, &ufd->fifo);
	ufd->nr_fifo++;
}

static void ufq_insert_fifo(struct ufq_data *ufd, struct request *rq,
			    blk_insert_t flags, enum ufq_rq_state state,
			    u32 gen)
{
	ufq_rq_set_state_gen(rq, state, 0, gen);
	ufq_fifo_add(ufd, rq, flags);
}

/* Let BPF merge @rq into one of its requests; true if @rq is gone. */
static bool ufq_bpf_merge_req(struct ufq_data *ufd,
			      struct ufq_iosched_ops *ops, struct request *rq)
{
	bool merged;

	if (!rq_mergeable(rq) || blk_queue_nomerges(ufd->q))
		return false;

	ufd->merge_rq = rq;
	ufd->merge_done = false;
	ops->merge_req(ufd->q, rq);
	merged = ufd->merge_done;
	ufd->merge_rq = NULL;
	ufd->merge_done = false;
	return merged;
}

static void ufq_insert_request(struct ufq_data *ufd, struct request *rq,
			       blk_insert_t flags, struct list_head *free)
{
	struct request_queue *q = ufd->q;
	struct ufq_iosched_ops *ops = ufq_active_ops(ufd);
	u64 id;
	u32 gen;
	int ret;

	lockdep_assert_held(&ufd->lock);

	if (ufq_rq_requeued(rq)) {
		/*
		 * Counted when it was first inserted and dispatched: back to
		 * the kernel FIFO, not merged, not given to BPF again.
		 */
		trace_block_rq_insert(rq);
		ufq_fifo_add(ufd, rq, flags);
		return;
	}

	ufd->stats.inserted++;
	ufd->stats.inserted_sectors += blk_rq_sectors(rq);

	/*
	 * elv_attempt_insert_merge() may go on merging the grown request into
	 * another queued one, which would make an id of the BPF scheduler
	 * stale: while a scheduler is attached, only its merge_req merges.
	 */
	if (ops) {
		/* @rq can only be merged into a request BPF owns */
		if (ops->merge_req && !(flags & BLK_MQ_INSERT_AT_HEAD) &&
		    ufd->nr_bpf) {
			if (ufq_bpf_merge_req(ufd, ops, rq)) {
				ufq_account_merged(ufd, rq);
				list_add(&rq->queuelist, free);
				return;
			}
			/* the merge callback may have ejected the scheduler */
			ops = ufq_active_ops(ufd);
		}
	} else if (blk_mq_sched_try_insert_merge(q, rq, free)) {
		ufq_account_merged(ufd, rq);
		return;
	}

	trace_block_rq_insert(rq);
	rq->fifo_time = jiffies;

	/*
	 * Requests inserted at head (requeues, flush sequences) are
	 * dispatched by the kernel first and never given to BPF.
	 */
	if (ops && !(flags & BLK_MQ_INSERT_AT_HEAD) &&
	    ufq_make_id(ufd, rq, &id)) {
		/* stable under ufd->lock while ops is set (ufq_bpf_gen()) */
		gen = ufq_bpf_gen();
		ufq_rq_set_state_gen(rq, UFQ_RQ_BPF, id, gen);
		list_add_tail(&rq->queuelist, &ufd->bpf_list);
		ufd->nr_bpf++;
		ret = ops->insert_req(q, rq, flags);
		if (ret) {
			list_del_init(&rq->queuelist);
			ufd->nr_bpf--;
		}
		if (ret == UFQ_INSERT_DISPATCH) {
			ufq_insert_fifo(ufd, rq, flags, UFQ_RQ_DIRECT, gen);
		} else if (ret) {
			/* refused: keep it in the kernel FIFO */
			ufd->stats.insert_errors++;
			ufq_insert_fifo(ufd, rq, flags, UFQ_RQ_FIFO, 0);
		}
	} else {
		ufq_insert_fifo(ufd, rq, flags, UFQ_RQ_FIFO, 0);
	}

	if (rq_mergeable(rq)) {
		elv_rqhash_add(q, rq);
		if (!q->last_merge)
			q->last_merge = rq;
	}
}

static void ufq_insert_requests(struct blk_mq_hw_ctx *hctx,
				struct list_head *list, blk_insert_t flags)
{
	struct ufq_data *ufd = hctx->queue->elevator->elevator_data;
	LIST_HEAD(free);

	spin_lock(&ufd->lock);
	/* a new request: ask BPF again, even if it declined */
	WRITE_ONCE(ufd->bpf_waiting, false);
	while (!list_empty(list)) {
		struct request *rq;

		rq = list_first_entry(list, struct request, queuelist);
		list_del_init(&rq->queuelist);
		ufq_insert_request(ufd, rq, flags, &free);
	}
	spin_unlock(&ufd->lock);

	blk_mq_free_requests(&free);
}

/* ids of requests a freeze took back that BPF may return in a row */
#define UFQ_MAX_RECLAIMED_IDS	16

static struct request *ufq_bpf_dispatch(struct ufq_data *ufd,
					struct ufq_iosched_ops *ops)
{
	struct request *rq;
	int seq, i;
	u64 id;

	if (!ufd->nr_bpf)
		return NULL;
	seq = atomic_read(&ufd->wake_seq);
	/*
	 * What a waker's BPF program wrote before the wake is visible to the
	 * callbacks below; pairs with atomic_inc_return() in ufq_wake().
	 */
	smp_rmb();
	if (ops->has_req && !ops->has_req(ufd->q, ufd->nr_bpf))
		goto declined;
	for (i = 0; i < UFQ_MAX_RECLAIMED_IDS; i++) {
		id = ops->dispatch_req(ufd->q);
		if (!id)
			goto declined;
		rq = ufq_lookup_request(ufd, id);
		if (rq) {
			ufd->declining = false;
			WRITE_ONCE(ufd->bpf_waiting, false);
			return rq;
		}
		if (!ufq_id_reclaimed(ufd, id)) {
			ufq_eject(UFQ_EXIT_ERROR,
				  "dispatch_req returned unknown request id %#llx on %s",
				  id, ufd->q->disk ? ufd->q->disk->disk_name : "?");
			return NULL;
		}
		/* already dispatched by the kernel: ask for the next */
	}
	/* not a decline: blk-mq runs the queue again shortly */
	return NULL;
declined:
	ufq_bpf_declined(ufd, seq);
	return NULL;
}

/* @rq leaves the scheduler for the driver: count it, BPF's or the kernel's */
static void ufq_account_dispatch(struct ufq_data *ufd, struct request *rq,
				 bool taken)
{
	enum ufq_rq_state state = ufq_rq_state(rq);
	unsigned long gen = ufq_rq_gen(rq);

	/*
	 * A request that an earlier attach dispatched with UFQ_INSERT_DISPATCH
	 * is the kernel's now: its scheduler is gone, and the one attached
	 * since never saw it.
	 */
	if (state == UFQ_RQ_FIFO || taken || !ufq_active_ops(ufd) ||
	    gen != ufq_gen_bits(ufq_bpf_gen())) {
		state = UFQ_RQ_DISPATCHED;
		gen = 0;
	} else {
		/* BPF chose it, in dispatch_req or insert_req */
		ufd->stats.bpf_dispatched++;
		state = UFQ_RQ_DISPATCHED_BPF;
	}
	ufd->stats.dispatched++;
	ufd->stats.dispatched_sectors += blk_rq_sectors(rq);
	ufq_rq_set_state_gen(rq, state, blk_rq_sectors(rq), gen);
}

static struct request *ufq_dispatch_request(struct blk_mq_hw_ctx *hctx)
{
	struct ufq_data *ufd = hctx->queue->elevator->elevator_data;
	struct request_queue *q = ufd->q;
	struct ufq_iosched_ops *ops;
	struct request *rq;

	bool taken = false;

	spin_lock(&ufd->lock);
	rq = list_first_entry_or_null(&ufd->fifo, struct request, queuelist);
	if (!rq) {
		ops = ufq_active_ops(ufd);
		if (ops && ufq_queue_freezing(q)) {
			/* the freeze waits: take BPF's requests, in order */
			if (ufd->nr_bpf)
				ufd->reclaim_seq = ufd->id_seq;
			ops = NULL;
		} else if (ops) {
			rq = ufq_bpf_dispatch(ufd, ops);
		}
		/* ejected but not yet detached: FIFO over BPF's requests */
		if (!rq && (!ops || !ufq_active_ops(ufd))) {
			rq = list_first_entry_or_null(&ufd->bpf_list,
						      struct request, queuelist);
			taken = true;
		}
	}
	if (rq) {
		enum ufq_rq_state state = ufq_rq_state(rq);

		list_del_init(&rq->queuelist);
		if (state == UFQ_RQ_BPF)
			ufd->nr_bpf--;
		else
			ufd->nr_fifo--;
		elv_rqhash_del(q, rq);
		if (q->last_merge == rq)
			q->last_merge = NULL;
		if (ufq_rq_requeued(rq)) {
			/* dispatched again: counted the first time */
			ufq_rq_set_state_gen(rq, ufq_rq_requeued_state(state),
					     ufq_rq_data(rq), ufq_rq_gen(rq));
		} else {
			ufq_account_dispatch(ufd, rq, taken);
		}
		rq->rq_flags |= RQF_STARTED;
	}
	spin_unlock(&ufd->lock);

	return rq;
}

static bool ufq_has_work(struct blk_mq_hw_ctx *hctx)
{
	struct ufq_data *ufd = hctx->queue->elevator->elevator_data;

	if (!list_empty_careful(&ufd->fifo))
		return true;
	return !list_empty_careful(&ufd->bpf_list) && !ufq_bpf_waits(ufd);
}

/* Let BPF merge @bio into one of its requests; true if it did. */
static bool ufq_bpf_merge_bio(struct ufq_data *ufd,
			      struct ufq_iosched_ops *ops, struct bio *bio,
			      unsigned int nr_segs)
{
	bool merged;

	/* the kfunc does the merge and the accounting, with these nr_segs */
	ufd->merge_bio = bio;
	ufd->merge_nr_segs = nr_segs;
	ufd->merge_done = false;
	ops->merge_bio(ufd->q, bio, nr_segs);
	merged = ufd->merge_done;
	ufd->merge_bio = NULL;
	ufd->merge_nr_segs = 0;
	ufd->merge_done = false;
	return merged;
}

static bool ufq_bio_merge(struct request_queue *q, struct bio *bio,
			  unsigned int nr_segs)
{
	struct ufq_data *ufd = q->elevator->elevator_data;
	unsigned int sectors = bio_sectors(bio);
	struct ufq_iosched_ops *ops;
	struct request *free = NULL;
	bool ret;

	spin_lock(&ufd->lock);
	ops = ufq_active_ops(ufd);
	/*
	 * BPF merges into the requests it owns.  While it owns none, the
	 * kernel merges into its own (its FIFO, e.g. a request dispatched
	 * with UFQ_INSERT_DISPATCH that waits for the device): there is no
	 * BPF id that such a merge could make stale.
	 */
	if (ops && ops->merge_bio && ufd->nr_bpf) {
		ret = ufq_bpf_merge_bio(ufd, ops, bio, nr_segs);
	} else {
		ret = blk_mq_sched_try_merge(q, bio, nr_segs, &free);
		if (ret) {
			ufd->stats.bio_merged++;
			ufd->stats.bio_merged_sectors += sectors;
		}
		if (free)
			ufq_account_merged(ufd, free);
	}
	spin_unlock(&ufd->lock);

	if (free)
		blk_mq_free_request(free);

	return ret;
}

/* @next has been merged into @rq by the block layer. */
static void ufq_requests_merged(struct request_queue *q, struct request *rq,
				struct request *next)
{
	struct ufq_data *ufd = q->elevator->elevator_data;

	ufq_account_merged(ufd, next);
}

/* Called by __blk_mq_alloc_requests(), for __blk_mq_get_tag(). */
static void ufq_limit_depth(blk_opf_t opf, struct blk_mq_alloc_data *data)
{
	struct ufq_data *ufd = data->q->elevator->elevator_data;
	unsigned int depth = ufq_bpf_limit_depth(ufd, opf);

	if (depth)
		data->shallow_depth = min(depth, data->q->nr_requests);
}

/* Called by blk_mq_update_nr_requests(). */
static void ufq_depth_updated(struct blk_mq_hw_ctx *hctx)
{
	/* BPF's limit may be any depth down to 1 */
	sbitmap_queue_min_shallow_depth(&hctx->sched_tags->bitmap_tags, 1);
}

/* Called by blk_mq_init_hctx() and blk_mq_init_sched(). */
static int ufq_init_hctx(struct blk_mq_hw_ctx *hctx, unsigned int hctx_idx)
{
	ufq_depth_updated(hctx);
	return 0;
}

static void ufq_prepare_request(struct request *rq)
{
	ufq_rq_set_state(rq, UFQ_RQ_NONE, 0);
}

/*
 * The driver gave a dispatched request back (blk_mq_requeue_request()).  It
 * comes back through insert_requests, at the head of the queue, or bypasses
 * the scheduler (RQF_DONTPREP), and the kernel dispatches it again.  It is
 * counted once: it stays dispatched in the statistics (and requeued is
 * counted), and the BPF scheduler that dispatched it hears of the requeue
 * and later, once, of its completion.  Any context.
 */
static void ufq_requeue_request(struct request *rq)
{
	struct ufq_data *ufd = rq->q->elevator->elevator_data;
	enum ufq_rq_state state = ufq_rq_state(rq);
	unsigned long gen = ufq_rq_gen(rq);

	switch (state) {
	case UFQ_RQ_DISPATCHED:
	case UFQ_RQ_REQUEUED:
		state = UFQ_RQ_REQUEUED;
		break;
	case UFQ_RQ_DISPATCHED_BPF:
	case UFQ_RQ_REQUEUED_BPF:
		state = UFQ_RQ_REQUEUED_BPF;
		break;
	default:
		/* never dispatched through the scheduler */
		return;
	}
	atomic64_inc(&ufd->stats.requeued);
	ufq_rq_set_state_gen(rq, state, ufq_rq_data(rq), gen);
	if (state == UFQ_RQ_REQUEUED_BPF)
		ufq_bpf_requeue(ufd, rq, gen);
}

static void ufq_finish_request(struct request *rq)
{
	struct ufq_data *ufd = rq->q->elevator->elevator_data;
	enum ufq_rq_state state = ufq_rq_state(rq);
	unsigned long gen = ufq_rq_gen(rq);

	/* requeued and completed without coming back to the scheduler */
	if (ufq_rq_requeued(rq))
		state = ufq_rq_requeued_state(state);

	/* Requests that bypassed the scheduler or were merged away */
	if (state != UFQ_RQ_DISPATCHED && state != UFQ_RQ_DISPATCHED_BPF)
		return;

	atomic64_inc(&ufd->stats.finished);
	atomic64_add(ufq_rq_data(rq), &ufd->stats.finished_sectors);
	ufq_rq_set_state(rq, UFQ_RQ_NONE, 0);
	if (state == UFQ_RQ_DISPATCHED_BPF)
		ufq_bpf_finish(ufd, rq, gen);
	/* the device has room again: ask BPF if it declined */
	if (READ_ONCE(ufd->bpf_waiting))
		ufq_wake(ufd);
}

static int ufq_init_sched(struct request_queue *q, struct elevator_type *e)
{
	struct elevator_queue *eq;
	struct ufq_data *ufd;
	int ret;

	eq = elevator_alloc(q, e);
	if (!eq)
		return -ENOMEM;

	ufd = kzalloc_node(sizeof(*ufd), GFP_KERNEL, q->node);
	if (!ufd) {
		kobject_put(&eq->kobj);
		return -ENOMEM;
	}

	ufd->q = q;
	spin_lock_init(&ufd->lock);
	INIT_LIST_HEAD(&ufd->fifo);
	INIT_LIST_HEAD(&ufd->bpf_list);
	INIT_LIST_HEAD(&ufd->node);
	atomic64_set(&ufd->stats.finished, 0);
	atomic64_set(&ufd->stats.finished_sectors, 0);
	atomic64_set(&ufd->stats.requeued, 0);
	atomic_set(&ufd->wake_seq, 0);
	eq->elevator_data = ufd;

	ret = xa_insert(&ufq_queue_ids, q->id, ufd, GFP_KERNEL);
	if (ret) {
		kfree(ufd);
		kobject_put(&eq->kobj);
		return ret;
	}

	/* One view of the whole queue: dispatch queue wide. */
	blk_queue_flag_set(QUEUE_FLAG_SQ_SCHED, q);

	q->elevator = eq;

	/* Hand the queue to the attached BPF scheduler, if any. */
	ufq_bpf_queue_init(ufd);
	return 0;
}

static void ufq_exit_sched(struct elevator_queue *e)
{
	struct ufq_data *ufd = e->elevator_data;

	ufq_bpf_queue_exit(ufd);

	spin_lock(&ufd->lock);
	WARN_ON_ONCE(!list_empty(&ufd->fifo));
	WARN_ON_ONCE(!list_empty(&ufd->bpf_list));
	/*
	 * A slip in the statistics is no reason to panic (panic_on_warn):
	 * report it, the selftests check these counters exactly.
	 */
	if (ufd->stats.inserted != ufd->stats.dispatched + ufd->stats.rq_merged)
		pr_err("ufq: %s: statistics do not add up: inserted %llu dispatched %llu merged %llu\n",
		       ufd->q->disk ? ufd->q->disk->disk_name : "?",
		       ufd->stats.inserted,
		       ufd->stats.dispatched, ufd->stats.rq_merged);
	spin_unlock(&ufd->lock);

	xa_erase(&ufq_queue_ids, ufd->q->id);
	kfree_rcu(ufd, rcu);
}

#ifdef CONFIG_BLK_DEBUG_FS
static int ufq_stats_show(void *data, struct seq_file *m)
{
	struct request_queue *q = data;
	struct ufq_data *ufd = q->elevator->elevator_data;
	struct ufq_stats s;
	unsigned int nr_fifo, nr_bpf;

	spin_lock(&ufd->lock);
	s = ufd->stats;
	nr_fifo = ufd->nr_fifo;
	nr_bpf = ufd->nr_bpf;
	spin_unlock(&ufd->lock);

	seq_printf(m, "inserted %llu\n", s.inserted);
	seq_printf(m, "inserted_sectors %llu\n", s.inserted_sectors);
	seq_printf(m, "dispatched %llu\n", s.dispatched);
	seq_printf(m, "dispatched_sectors %llu\n", s.dispatched_sectors);
	seq_printf(m, "bpf_dispatched %llu\n", s.bpf_dispatched);
	seq_printf(m, "merged_requests %llu\n", s.rq_merged);
	seq_printf(m, "merged_request_sectors %llu\n", s.rq_merged_sectors);
	seq_printf(m, "merged_bios %llu\n", s.bio_merged);
	seq_printf(m, "merged_bio_sectors %llu\n", s.bio_merged_sectors);
	seq_printf(m, "bpf_merged_bios %llu\n", s.bpf_bio_merged);
	seq_printf(m, "finished %lld\n", atomic64_read(&s.finished));
	seq_printf(m, "finished_sectors %lld\n",
		   atomic64_read(&s.finished_sectors));
	seq_printf(m, "insert_errors %llu\n", s.insert_errors);
	seq_printf(m, "requeued %lld\n", atomic64_read(&s.requeued));
	seq_printf(m, "queued_fifo %u\n", nr_fifo);
	seq_printf(m, "queued_bpf %u\n", nr_bpf);
	return 0;
}

static int ufq_sched_show(void *data, struct seq_file *m)
{
	struct request_queue *q = data;

	ufq_bpf_show(q->elevator->elevator_data, m);
	return 0;
}

static void *ufq_fifo_start(struct seq_file *m, loff_t *pos)
	__acquires(&ufd->lock)
{
	struct request_queue *q = m->private;
	struct ufq_data *ufd = q->elevator->elevator_data;

	spin_lock(&ufd->lock);
	return seq_list_start(&ufd->fifo, *pos);
}

static void *ufq_fifo_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct request_queue *q = m->private;
	struct ufq_data *ufd = q->elevator->elevator_data;

	return seq_list_next(v, &ufd->fifo, pos);
}

static void *ufq_bpf_list_start(struct seq_file *m, loff_t *pos)
	__acquires(&ufd->lock)
{
	struct request_queue *q = m->private;
	struct ufq_data *ufd = q->elevator->elevator_data;

	spin_lock(&ufd->lock);
	return seq_list_start(&ufd->bpf_list, *pos);
}

static void *ufq_bpf_list_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct request_queue *q = m->private;
	struct ufq_data *ufd = q->elevator->elevator_data;

	return seq_list_next(v, &ufd->bpf_list, pos);
}

static void ufq_list_stop(struct seq_file *m, void *v)
	__releases(&ufd->lock)
{
	struct request_queue *q = m->private;
	struct ufq_data *ufd = q->elevator->elevator_data;

	spin_unlock(&ufd->lock);
}

static const struct seq_operations ufq_fifo_seq_ops = {
	.start	= ufq_fifo_start,
	.next	= ufq_fifo_next,
	.stop	= ufq_list_stop,
	.show	= blk_mq_debugfs_rq_show,
};

static const struct seq_operations ufq_bpf_list_seq_ops = {
	.start	= ufq_bpf_list_start,
	.next	= ufq_bpf_list_next,
	.stop	= ufq_list_stop,
	.show	= blk_mq_debugfs_rq_show,
};

static const struct blk_mq_debugfs_attr ufq_queue_debugfs_attrs[] = {
	{"stats", 0400, ufq_stats_show},
	{"sched", 0400, ufq_sched_show},
	{"fifo", 0400, .seq_ops = &ufq_fifo_seq_ops},
	{"bpf_queue", 0400, .seq_ops = &ufq_bpf_list_seq_ops},
	{},
};
#endif

static struct elevator_type ufq_elv = {
	.ops = {
		.insert_requests	= ufq_insert_requests,
		.dispatch_request	= ufq_dispatch_request,
		.has_work		= ufq_has_work,
		.bio_merge		= ufq_bio_merge,
		.requests_merged	= ufq_requests_merged,
		.limit_depth		= ufq_limit_depth,
		.depth_updated		= ufq_depth_updated,
		.init_hctx		= ufq_init_hctx,
		.prepare_request	= ufq_prepare_request,
		.requeue_request	= ufq_requeue_request,
		.finish_request		= ufq_finish_request,
		.init_sched		= ufq_init_sched,
		.exit_sched		= ufq_exit_sched,
	},
#ifdef CONFIG_BLK_DEBUG_FS
	.queue_debugfs_attrs = ufq_queue_debugfs_attrs,
#endif
	.elevator_name = "ufq",
	.elevator_owner = THIS_MODULE,
};

static int __init ufq_iosched_init(void)
{
	return elv_register(&ufq_elv);
}
device_initcall(ufq_iosched_init);
