/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UFQ (User-programmable Flexible Queueing) I/O scheduler: a blk-mq
 * elevator whose dispatch policy may be supplied by a BPF struct_ops
 * program (struct ufq_iosched_ops).  See Documentation/block/ufq-iosched.rst.
 */
#ifndef _BLOCK_UFQ_IOSCHED_H
#define _BLOCK_UFQ_IOSCHED_H

#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#define UFQ_OPS_NAME_LEN	16
#define UFQ_EXIT_REASON_LEN	128

/**
 * struct ufq_iosched_ops - BPF scheduling policy for UFQ
 *
 * Requests are named by a 64-bit request id (see bpf_request_id()).  The
 * kernel keeps every request it hands to the BPF scheduler on its own
 * per-queue list; the BPF scheduler only orders ids, so it never has to
 * own a reference to a request and the kernel can take all requests back
 * at any time (detach, eject, watchdog).  No member may be a sleepable
 * program: the others run under a spinlock or in interrupt context, and
 * init_sched and exit_sched with the queue frozen.
 *
 * @init_sched: a UFQ queue starts to use this scheduler, either when the
 *	scheduler is attached or when ufq is selected for a queue while the
 *	scheduler is attached.  A non-zero return fails the attach (or ejects
 *	the scheduler when the queue comes later); the attach fails with that
 *	errno if it is one, else with -EPROTO.
 * @exit_sched: the queue stops using this scheduler.  All ids of the queue
 *	are invalid from now on.
 * @insert_req: a request enters the scheduler.  Return 0 if the scheduler
 *	took it; it then has to return its id from @dispatch_req later.
 *	Return UFQ_INSERT_DISPATCH to dispatch it at once instead: the kernel
 *	queues it behind the requests it owns, before the scheduler's (the
 *	way to skip the scheduler's queue when it is empty).  On any other
 *	return the kernel keeps the request and dispatches it itself.
 * @dispatch_req: return the id of the next request to dispatch, or 0 if
 *	there is none to dispatch now.  An id the kernel does not know (not
 *	owned by the scheduler in this queue, nor taken back by a freeze)
 *	ejects the scheduler.  After a 0 (a decline) the kernel does not ask
 *	again until a request is inserted or completes, or the scheduler
 *	calls bpf_ufq_kick() (e.g. from a bpf_timer callback).
 * @has_req: called before @dispatch_req with the number of requests the
 *	scheduler owns in the queue; returning false skips @dispatch_req
 *	and is a decline.
 * @finish_req: a request that @dispatch_req returned, or that @insert_req
 *	dispatched with UFQ_INSERT_DISPATCH, has completed.  May
 *	be called in any context, including hard interrupt context.
 * @merge_req: a new request could be merged into one the scheduler owns
 *	instead of being inserted; use bpf_request_try_merge().
 * @merge_bio: a bio could be merged into one of the scheduler's requests;
 *	use bpf_request_bio_try_merge().  Neither merge callback is called
 *	while the scheduler owns no request in the queue; the kernel then
 *	merges bios into the requests it owns itself.
 * @name: name of the scheduler, shown in debugfs.
 * @limit_depth: a request with flags @opf is about to get a scheduler tag
 *	of @q (process context, without the UFQ lock): return how many of
 *	the queue's q->nr_requests tags such requests may hold at most, or 0
 *	for no limit, as mq-deadline's async_depth limits asynchronous
 *	requests.  Without a limit a job whose queue depth exceeds
 *	nr_requests holds every tag, and a request of higher priority waits
 *	for a tag before the scheduler ever sees it.
 * @requeue_req: a request that the scheduler dispatched was given back by
 *	the driver (blk_mq_requeue_request()).  It does not return to the
 *	scheduler: the kernel dispatches it again first, and @finish_req
 *	follows once when it completes.  Any context, like @finish_req.
 */
struct ufq_iosched_ops {
	int (*init_sched)(struct request_queue *q);
	int (*exit_sched)(struct request_queue *q);
	int (*insert_req)(struct request_queue *q, struct request *rq,
			  blk_insert_t flags);
	u64 (*dispatch_req)(struct request_queue *q);
	bool (*has_req)(struct request_queue *q, int rqs_count);
	void (*finish_req)(struct request *rq);
	void (*merge_req)(struct request_queue *q, struct request *rq);
	void (*merge_bio)(struct request_queue *q, struct bio *bio,
			  unsigned int nr_segs);
	char name[UFQ_OPS_NAME_LEN];
	u32 (*limit_depth)(struct request_queue *q, blk_opf_t opf);
	void (*requeue_req)(struct request *rq);
};

/* insert_req: dispatch this request now, ahead of the scheduler's queue */
#define UFQ_INSERT_DISPATCH	1

/*
 * Where a request is, kept in the low bits of rq->elv.priv[0], with the
 * attach generation of the scheduler that owns or dispatched it above
 * them; rq->elv.priv[1] has data.
 */
enum ufq_rq_state {
	UFQ_RQ_NONE = 0,	/* not (or no longer) in UFQ */
	UFQ_RQ_FIFO,		/* on ufd->fifo, owned by the kernel */
	UFQ_RQ_BPF,		/* on ufd->bpf_list, priv[1] is its id */
	UFQ_RQ_DISPATCHED,	/* dispatched by the kernel, priv[1] sectors */
	UFQ_RQ_DISPATCHED_BPF,	/* dispatched by BPF, priv[1] sectors */
	UFQ_RQ_MERGED,		/* merged into another request */
	UFQ_RQ_DIRECT,		/* on ufd->fifo, UFQ_INSERT_DISPATCH by BPF */
	/*
	 * Requeued by the driver after a dispatch (by the kernel, by BPF),
	 * priv[1] sectors: on ufd->fifo, or on the hctx dispatch list when
	 * it bypasses the scheduler (RQF_DONTPREP)
	 */
	UFQ_RQ_REQUEUED,
	UFQ_RQ_REQUEUED_BPF,
};

struct ufq_stats {
	u64 inserted;
	u64 inserted_sectors;
	u64 dispatched;
	u64 dispatched_sectors;
	u64 bpf_dispatched;
	u64 rq_merged;
	u64 rq_merged_sectors;
	u64 bio_merged;
	u64 bio_merged_sectors;
	u64 bpf_bio_merged;	/* of bio_merged, by BPF's merge kfunc */
	u64 insert_errors;
	atomic64_t finished;
	atomic64_t finished_sectors;
	atomic64_t requeued;	/* any context, like finished */
};

/* One per request_queue using ufq: a global view of the queue. */
struct ufq_data {
	struct request_queue *q;
	/* protects the lists, counters, stats and BPF callbacks */
	spinlock_t lock;
	/* Requests the kernel dispatches itself, before asking BPF. */
	struct list_head fifo;
	/* Requests owned by the BPF scheduler, in insertion order. */
	struct list_head bpf_list;
	unsigned int nr_fifo;
	unsigned int nr_bpf;
	u32 id_seq;

	/* Attached BPF scheduler; written under lock, read under lock or RCU */
	struct ufq_iosched_ops __rcu *ops;
	bool bpf_inited;	/* BPF init_sched() succeeded, under list mutex */

	/* Arguments of the merge callback running under lock, for kfuncs */
	struct bio *merge_bio;
	unsigned int merge_nr_segs;	/* the segments of merge_bio */
	struct request *merge_rq;
	bool merge_done;

	struct list_head node;	/* on ufq_queues */
	struct ufq_stats stats;

	/*
	 * Declines (see ufq_bpf_declined()), under lock but for the lockless
	 * reads of has_work: after BPF was asked and returned nothing, the
	 * queue is not run for it again until it is woken (a request is
	 * inserted or completes, a kick, a freeze), i.e. wake_seq moves
	 * away from wait_seq.
	 */
	bool bpf_waiting;
	int wait_seq;
	atomic_t wake_seq;
	/* for the watchdog: BPF declined continuously since declined_at */
	bool declining;
	unsigned long declined_at;
	/* ids up to this sequence number were taken back by a freeze */
	u32 reclaim_seq;

	struct rcu_head rcu;	/* ufq_kick_queue() looks ufd up under RCU */
};

#define UFQ_RQ_STATE_BITS	8
#define UFQ_RQ_STATE_MASK	((1UL << UFQ_RQ_STATE_BITS) - 1)

/*
 * The attach generation as kept in a request: truncated to the bits above
 * the state, and compared truncated.
 */
static inline unsigned long ufq_gen_bits(u32 gen)
{
	return ((unsigned long)gen << UFQ_RQ_STATE_BITS) >> UFQ_RQ_STATE_BITS;
}

static inline enum ufq_rq_state ufq_rq_state(struct request *rq)
{
	unsigned long v = (unsigned long)READ_ONCE(rq->elv.priv[0]);

	return (enum ufq_rq_state)(v & UFQ_RQ_STATE_MASK);
}

/* The attach generation of a request owned or dispatched by BPF */
static inline unsigned long ufq_rq_gen(struct request *rq)
{
	return (unsigned long)READ_ONCE(rq->elv.priv[0]) >> UFQ_RQ_STATE_BITS;
}

/* @rq is owned or was dispatched by the scheduler of attach @gen */
static inline void ufq_rq_set_state_gen(struct request *rq,
					enum ufq_rq_state state,
					unsigned long data, u32 gen)
{
	WRITE_ONCE(rq->elv.priv[1], (void *)data);
	WRITE_ONCE(rq->elv.priv[0],
		   (void *)(ufq_gen_bits(gen) << UFQ_RQ_STATE_BITS | state));
}

static inline void ufq_rq_set_state(struct request *rq,
				    enum ufq_rq_state state, unsigned long data)
{
	ufq_rq_set_state_gen(rq, state, data, 0);
}

static inline bool ufq_rq_requeued(struct request *rq)
{
	enum ufq_rq_state state = ufq_rq_state(rq);

	return state == UFQ_RQ_REQUEUED || state == UFQ_RQ_REQUEUED_BPF;
}

/* The dispatched state a requeued request goes back to */
static inline enum ufq_rq_state ufq_rq_requeued_state(enum ufq_rq_state state)
{
	return state == UFQ_RQ_REQUEUED_BPF ? UFQ_RQ_DISPATCHED_BPF :
	       UFQ_RQ_DISPATCHED;
}

static inline unsigned long ufq_rq_data(struct request *rq)
{
	return (unsigned long)READ_ONCE(rq->elv.priv[1]);
}

/* ufq-iosched.c */
struct ufq_data *ufq_queue_data(struct request_queue *q);
struct request *ufq_lookup_request(struct ufq_data *ufd, u64 id);
void ufq_account_merged(struct ufq_data *ufd, struct request *rq);
void ufq_return_bpf_requests(struct ufq_data *ufd);
int ufq_kick_queue(u32 queue_id);
void ufq_wake(struct ufq_data *ufd);
bool ufq_bpf_recheck(struct ufq_data *ufd);

/* ufq-bpfops.c */
enum ufq_exit_kind {
	UFQ_EXIT_NONE,
	UFQ_EXIT_UNREG,		/* detached by user space */
	UFQ_EXIT_BPF,		/* bpf_ufq_eject() */
	UFQ_EXIT_WATCHDOG,	/* the scheduler declined for too long */
	UFQ_EXIT_ERROR,		/* the scheduler broke the interface */
};

struct ufq_iosched_ops *ufq_active_ops(struct ufq_data *ufd);
void ufq_bpf_queue_init(struct ufq_data *ufd);
void ufq_bpf_queue_exit(struct ufq_data *ufd);
void ufq_bpf_finish(struct ufq_data *ufd, struct request *rq,
		    unsigned long gen);
u32 ufq_bpf_gen(void);
void ufq_bpf_requeue(struct ufq_data *ufd, struct request *rq,
		     unsigned long gen);
unsigned int ufq_bpf_limit_depth(struct ufq_data *ufd, blk_opf_t opf);
bool ufq_bpf_running(void);
bool ufq_watchdog_check(struct ufq_data *ufd);
__printf(2, 3) bool ufq_eject(enum ufq_exit_kind kind, const char *fmt, ...);
void ufq_bpf_show(struct ufq_data *ufd, struct seq_file *m);

#endif /* _BLOCK_UFQ_IOSCHED_H */
