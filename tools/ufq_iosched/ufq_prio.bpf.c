// SPDX-License-Identifier: GPL-2.0
/*
 * ufq_prio: proportional I/O sharing by I/O priority, a UFQ use case.
 *
 * Use case
 * --------
 * A latency-sensitive service (a database answering reads, an interactive
 * program) shares a disk with bulk jobs (backups, compaction, batch
 * analytics) that keep dozens of requests queued.  Both usually run in
 * the best-effort class, at different levels (ionice -c2 -n0 for the
 * service, -n7 for the batch job).  mq-deadline only tells the classes
 * apart (RT, BE, IDLE), not the levels within one, and kyber and none
 * ignore I/O priorities, so a BE level 0 read waits behind the batch
 * job's queue like any other request.  BFQ does weigh levels, at a much
 * higher CPU cost per request.  ufq_prio does it in a few dozen lines of
 * BPF, and its weights are loader options rather than kernel code.
 *
 * Policy
 * ------
 * Requests go to one of ten buckets by their I/O priority (that of their
 * first bio, as req_get_ioprio()):
 * the RT class, BE levels 0 to 7, and the IDLE class; requests without a
 * class count as BE level 4, the kernel's default for a task of nice 0.
 * Each bucket has a weight (defaults RT 64, BE level l 8 - l as in BFQ,
 * IDLE 1; loader option -w).  Buckets are served by start-time fair
 * queueing, a virtual-time form of weighted fair queueing:
 *
 * - every bucket has a virtual time; dispatching a request of S sectors
 *   from bucket b advances b's time by S * 1024 / weight[b], so a bucket
 *   with twice the weight advances half as fast;
 * - dispatch takes the oldest request of the backlogged bucket with the
 *   smallest virtual time (ties go to the higher priority bucket);
 * - the queue's virtual clock is the start time of the request dispatched
 *   last, and a bucket that becomes backlogged starts no earlier than the
 *   clock, so idle time does not bank credit.
 *
 * So buckets that stay backlogged get dispatch bandwidth in proportion to
 * their weights (BE level 0 : BE level 7 = 8 : 1 by default), and a
 * request of a bucket that was idle goes out after at most about one
 * request per other backlogged bucket: the high priority reader of the
 * use case waits for the request in flight, not for the batch job's
 * queue.  No bucket starves (its virtual time ends up the smallest).
 * There is no strict class priority on purpose: strict priority starves.
 *
 * That only works for requests that reach the scheduler: a request needs
 * a scheduler tag first, and a bulk job whose queue depth exceeds the
 * queue's nr_requests would hold them all.  limit_depth keeps requests
 * below BE level 0 to 3/4 of the tags (as mq-deadline's async_depth does
 * for asynchronous requests), so RT and BE level 0 requests always get
 * one at once.
 *
 * Implementation
 * --------------
 * Per request_queue, one element of the "queues" hash map (keyed by
 * q->id): a bpf_spin_lock, one FIFO bpf_list per bucket, and the virtual
 * times.  A map value holds at most BTF_FIELDS_MAX (11) special fields in
 * 6.12, so ten lists and the lock fill it exactly.  Graph kfuncs need a
 * list head at a constant offset, so bucket numbers are turned into list
 * heads by a switch.  The charge of a request is its size at insert:
 * ufq_prio leaves bio merging to the kernel (no merge_bio callback: the
 * kernel back-merges through its request hash, which keeps the id and
 * start sector), so a request that grows later is charged its first size.
 */
#include <ufq/common.bpf.h>

#include "ufq_prio.h"

char _license[] SEC("license") = "GPL";

#define NR_BUCKETS	UFQ_PRIO_NR_BUCKETS
#define VTIME_SCALE	1024

const volatile u32 weights[NR_BUCKETS] = UFQ_PRIO_DEFAULT_WEIGHTS;

UFQ_DEFINE_STATS(UFQ_PRIO_NR_STATS);

struct prio_node {
	struct bpf_list_node link;
	u64 id;
	u64 sectors;
};

struct prio_queue {
	struct bpf_spin_lock lock;
	struct bpf_list_head lists[NR_BUCKETS] __contains(prio_node, link);
	u64 vclock;
	u64 vtime[NR_BUCKETS];
	u32 nr[NR_BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, int);			/* q->id */
	__type(value, struct prio_queue);
} queues SEC(".maps");

static u32 bucket_of_ioprio(u32 ioprio)
{
	switch (UFQ_IOPRIO_CLASS(ioprio)) {
	case IOPRIO_CLASS_RT:
		return UFQ_PRIO_RT;
	case IOPRIO_CLASS_BE:
		return UFQ_PRIO_BE0 + UFQ_IOPRIO_LEVEL(ioprio);
	case IOPRIO_CLASS_IDLE:
		return UFQ_PRIO_IDLE;
	default:
		return UFQ_PRIO_BE0 + 4;
	}
}

/* like req_get_ioprio(): a request's priority is its first bio's */
static u32 bucket_of(const struct request *rq)
{
	struct bio *bio = rq->bio;

	return bucket_of_ioprio(bio ? bio->bi_ioprio : 0);
}

/*
 * The graph kfuncs need a list head at a constant offset: one call per
 * bucket.  Bucket numbers beyond the last are clamped to it.
 */
static __always_inline void bucket_push(struct prio_queue *pq, u32 b,
					struct prio_node *n)
{
	switch (b) {
	case 0:
		bpf_list_push_back(&pq->lists[0], &n->link);
		break;
	case 1:
		bpf_list_push_back(&pq->lists[1], &n->link);
		break;
	case 2:
		bpf_list_push_back(&pq->lists[2], &n->link);
		break;
	case 3:
		bpf_list_push_back(&pq->lists[3], &n->link);
		break;
	case 4:
		bpf_list_push_back(&pq->lists[4], &n->link);
		break;
	case 5:
		bpf_list_push_back(&pq->lists[5], &n->link);
		break;
	case 6:
		bpf_list_push_back(&pq->lists[6], &n->link);
		break;
	case 7:
		bpf_list_push_back(&pq->lists[7], &n->link);
		break;
	case 8:
		bpf_list_push_back(&pq->lists[8], &n->link);
		break;
	default:
		bpf_list_push_back(&pq->lists[NR_BUCKETS - 1], &n->link);
	}
}

static __always_inline struct bpf_list_node *
bucket_pop(struct prio_queue *pq, u32 b)
{
	switch (b) {
	case 0:
		return bpf_list_pop_front(&pq->lists[0]);
	case 1:
		return bpf_list_pop_front(&pq->lists[1]);
	case 2:
		return bpf_list_pop_front(&pq->lists[2]);
	case 3:
		return bpf_list_pop_front(&pq->lists[3]);
	case 4:
		return bpf_list_pop_front(&pq->lists[4]);
	case 5:
		return bpf_list_pop_front(&pq->lists[5]);
	case 6:
		return bpf_list_pop_front(&pq->lists[6]);
	case 7:
		return bpf_list_pop_front(&pq->lists[7]);
	case 8:
		return bpf_list_pop_front(&pq->lists[8]);
	default:
		return bpf_list_pop_front(&pq->lists[NR_BUCKETS - 1]);
	}
}

/* the backlogged bucket with the smallest virtual time, or -1 */
static __always_inline int pick_bucket(struct prio_queue *pq)
{
	u64 best_vtime = 0;
	int b, best = -1;

	for (b = 0; b < NR_BUCKETS; b++) {
		if (!pq->nr[b])
			continue;
		if (best < 0 || pq->vtime[b] < best_vtime) {
			best = b;
			best_vtime = pq->vtime[b];
		}
	}
	return best;
}

static __always_inline u64 charge(u32 b, u64 sectors)
{
	u32 w = b < NR_BUCKETS ? weights[b] : 1;

	return (sectors ? sectors : 1) * VTIME_SCALE / (w ? w : 1);
}

SEC("struct_ops/prio_init_sched")
int BPF_PROG(prio_init_sched, struct request_queue *q)
{
	struct prio_queue empty = {};
	int qid = q->id;

	return bpf_map_update_elem(&queues, &qid, &empty, BPF_ANY);
}

SEC("struct_ops/prio_exit_sched")
int BPF_PROG(prio_exit_sched, struct request_queue *q)
{
	int qid = q->id;

	/* frees the nodes of every request still queued here */
	bpf_map_delete_elem(&queues, &qid);
	return 0;
}

SEC("struct_ops/prio_insert_req")
int BPF_PROG(prio_insert_req, struct request_queue *q,
	     struct request *rq, blk_insert_t flags)
{
	int qid = q->id;
	struct prio_queue *pq = bpf_map_lookup_elem(&queues, &qid);
	u64 id = bpf_request_id(rq);
	u32 b = bucket_of(rq);
	struct prio_node *n;

	if (!pq || !id)
		return -ENOENT;
	if (b >= NR_BUCKETS)
		b = NR_BUCKETS - 1;

	n = bpf_obj_new(struct prio_node);
	if (!n) {
		ufq_stat_inc(UFQ_PRIO_REFUSED);
		return -ENOMEM;
	}
	n->id = id;
	n->sectors = ufq_rq_sectors(rq);

	bpf_spin_lock(&pq->lock);
	/* a bucket that was idle starts at the clock: no banked credit */
	if (!pq->nr[b] && pq->vtime[b] < pq->vclock)
		pq->vtime[b] = pq->vclock;
	pq->nr[b]++;
	bucket_push(pq, b, n);
	bpf_spin_unlock(&pq->lock);

	ufq_stat_inc(UFQ_PRIO_STAT(b, UFQ_PRIO_INSERTED));
	return 0;
}

SEC("struct_ops/prio_dispatch_req")
u64 BPF_PROG(prio_dispatch_req, struct request_queue *q)
{
	int qid = q->id;
	struct prio_queue *pq = bpf_map_lookup_elem(&queues, &qid);
	struct bpf_list_node *ln;
	struct prio_node *n;
	u64 id, sectors;
	int b;

	if (!pq)
		return 0;

	bpf_spin_lock(&pq->lock);
	b = pick_bucket(pq);
	if (b < 0 || b >= NR_BUCKETS) {
		bpf_spin_unlock(&pq->lock);
		return 0;
	}
	ln = bucket_pop(pq, b);
	if (!ln) {
		bpf_spin_unlock(&pq->lock);
		return 0;
	}
	n = container_of(ln, struct prio_node, link);
	id = n->id;
	sectors = n->sectors;
	pq->nr[b]--;
	pq->vclock = pq->vtime[b];
	pq->vtime[b] += charge(b, sectors);
	bpf_spin_unlock(&pq->lock);
	bpf_obj_drop(n);

	ufq_stat_inc(UFQ_PRIO_STAT(b, UFQ_PRIO_DISPATCHED));
	ufq_stat_add(UFQ_PRIO_STAT(b, UFQ_PRIO_DISPATCHED_SECTORS), sectors);
	return id;
}

SEC("struct_ops/prio_finish_req")
void BPF_PROG(prio_finish_req, struct request *rq)
{
	ufq_stat_inc(UFQ_PRIO_FINISHED);
}

/*
 * A new request of the current task is about to get a scheduler tag:
 * below BE level 0, requests may hold at most 3/4 of the queue's tags, so
 * that RT and BE level 0 requests always find one (the bio's priority is
 * the task's unless the I/O set its own, e.g. with aio's IOCB_FLAG_IOPRIO).
 * Without the limit a bulk job with a queue depth beyond nr_requests
 * holds every tag, and a high priority request waits for a tag behind
 * the bulk job's requests before it ever reaches insert_req.
 */
SEC("struct_ops/prio_limit_depth")
u32 BPF_PROG(prio_limit_depth, struct request_queue *q, blk_opf_t opf)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct io_context *ioc = task->io_context;
	u32 ioprio = ioc ? ioc->ioprio : 0;
	u32 depth;

	if (bucket_of_ioprio(ioprio) <= UFQ_PRIO_BE0)
		return 0;
	depth = q->nr_requests * 3 / 4;
	return depth ? depth : 1;
}

SEC(".struct_ops.link")
struct ufq_iosched_ops prio_ops = {
	.init_sched	= (void *)prio_init_sched,
	.exit_sched	= (void *)prio_exit_sched,
	.insert_req	= (void *)prio_insert_req,
	.dispatch_req	= (void *)prio_dispatch_req,
	.finish_req	= (void *)prio_finish_req,
	.limit_depth	= (void *)prio_limit_depth,
	.name		= "ufq_prio",
};
