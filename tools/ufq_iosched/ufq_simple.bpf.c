// SPDX-License-Identifier: GPL-2.0
/*
 * ufq_simple: a sector-sorting UFQ I/O scheduler, the example of the UFQ
 * series.
 *
 * Policy
 * ------
 * Per request_queue, under one bpf_spin_lock:
 *
 * - a FIFO list (bpf_list) for requests that have no useful sector order:
 *   anything that is neither a read nor a write (discard, write-zeroes,
 *   ...), and requests inserted at the head if the kernel ever hands
 *   those to BPF.  (The UFQ kernel side of this series keeps head inserts,
 *   i.e. requeues and flush sequences, on its own FIFO and dispatches them
 *   before asking BPF, so in practice they never get here; the list keeps
 *   the place the seed's example gave them.)  The list always goes first.
 * - a read tree and a write tree (bpf_rbtree), sorted by start sector.
 *   Reads are dispatched before writes, in ascending sector order.
 *
 * Two bounds keep every request moving (the UFQ watchdog only checks that
 * a scheduler dispatches when it is asked, not how long a request waits):
 *
 * - Sweeps (C-SCAN): each direction remembers the sector of the request it
 *   dispatched last.  A request arriving at or below that position joins
 *   the next sweep, which sorts after every request of the current one
 *   (the tree key is (sweep, sector, id)).  "Lowest sector first" alone
 *   would let a stream of low sectors starve a high one forever; with
 *   sweeps a request waits for at most one pass over the disk.
 * - Write starvation: after read_batch reads (loader option -b, default
 *   16) were dispatched while writes waited, one write goes first.
 *
 * A read or write that arrives while nothing waits, neither in the trees
 * and list nor in the kernel's FIFO ahead of them (bpf_ufq_kernel_queued()),
 * is dispatched at once from insert_req (UFQ_INSERT_DISPATCH), like a
 * sched_ext program's direct dispatch to an idle CPU: there is nothing to
 * sort it against.  On a fast device, where each request is dispatched
 * before the next arrives, this is almost every request, and it costs one
 * BPF call and no allocation instead of a tree node and a dispatch_req
 * call.  Requests arriving while one such request still waits for the
 * device go to the trees, so at most one request at a time bypasses the
 * sector order.
 *
 * Merging
 * -------
 * merge_bio and merge_req find a neighbour and merge with the KF_SPIN_LOCK
 * kfuncs bpf_request_bio_try_merge() / bpf_request_try_merge().  Linux
 * 6.12 has no rbtree traversal kfuncs (bpf_rbtree_root/left/right came
 * later), so the sector trees cannot be searched for a neighbour.  Instead
 * each queue has two small direct-mapped tables (an element of the
 * "merge_tables" array), written and read under the same lock as the
 * trees:
 *
 * - ends[] holds, in the slot of a hash of its end sector, the id of a
 *   queued request that ends there: a bio starting at that sector may be
 *   back merged into it;
 * - starts[] likewise by start sector, for front merges of a bio that ends
 *   where a request starts.
 *
 * insert_req fills both slots, a successful merge moves the slot of the
 * edge that moved.  Nothing is removed when a request is dispatched, and a
 * newer request may take a slot over: a stale or lost entry costs at most
 * a merge, never correctness, since the kernel checks the id (one the
 * scheduler no longer owns gives -ENOENT; a queue reuses an id only after
 * 2^32 requests) and only
 * merges a bio that really is adjacent to the request.  Looking the
 * candidate up and merging into it happen in one critical section, which
 * is what the KF_SPIN_LOCK kfuncs make possible: without them the program
 * would have to drop the lock between choosing the candidate and merging,
 * and keep the candidates in a map (map helpers cannot be called under a
 * bpf_spin_lock), which costs a hash update per request.
 *
 * A front merge moves the start of a request that sits in a tree.  A
 * node cannot be found (no traversal kfuncs) to be re-sorted, so the
 * request keeps its place, off by the length of the merged bio; the
 * dispatch order is then approximately, not strictly, ascending.
 *
 * All callbacks but finish_req run under the queue's UFQ lock in the
 * kernel, so they never race for one queue; the bpf_spin_lock is still
 * required by the verifier around the graph kfuncs, and keeps the
 * program's state consistent on its own.
 *
 * State per queue: every callback looks it up, four times per queued
 * request (merge_bio, merge_req, insert_req, dispatch_req), so a queue
 * whose q->id is below MAX_QUEUES (q->id comes from an IDA: every queue
 * but those of a machine with hundreds of block devices) has its element
 * of the "queue_array" array, found by index (a few instructions where a
 * hash look-up is a call, a jhash and a key compare), taken in init_sched
 * and given back in exit_sched, which frees the nodes of requests the
 * kernel took back.  Other queues have an element of the "queues" hash map
 * keyed by q->id, created in init_sched and deleted in exit_sched, which
 * frees the nodes likewise.  Statistics are per-CPU counters
 * (enum ufq_simple_stat) that the loader prints.  There is no finish_req:
 * the policy does not need completions, the kernel counts them in debugfs,
 * and the callback would cost a BPF call per request.
 */
#include <ufq/common.bpf.h>

#include "ufq_simple.h"

char _license[] SEC("license") = "GPL";

/* reads dispatched while writes wait before one write goes first */
const volatile u32 read_batch = 16;
/*
 * Loader option -S: decline every dispatch (has_req returns false), a
 * broken scheduler on purpose, to try the watchdog and the loader's report
 * of an eject.  Without -S the loader leaves has_req out (no BPF call).
 */
const volatile bool stall;

UFQ_DEFINE_STATS(UFQ_SIMPLE_NR_STATS);

/* a read or write request in a sector tree */
struct sort_node {
	struct bpf_rb_node rb;
	u64 sweep;
	u64 sector;
	u64 id;
};

/* a request in the FIFO list */
struct fifo_node {
	struct bpf_list_node link;
	u64 id;
};

struct direction {
	u64 sweep;	/* sweep being dispatched */
	u64 pos;	/* start sector of the request dispatched last */
	u32 nr;		/* requests in the tree */
};

#define MAX_QUEUES		256

/*
 * The most nodes exit_sched frees, the most iterations bpf_iter_num allows
 * (BPF_MAX_LOOPS): more than a queue can have requests (MAX_SCHED_RQ, 2048
 * per hardware queue).
 */
#define DRAIN_MAX		(8 * 1024 * 1024)	/* 2^23 */

/* merge candidate tables: MERGE_SLOTS slots indexed by a sector's hash */
#define MERGE_SLOTS_SHIFT	6
#define MERGE_SLOTS		64	/* 2^MERGE_SLOTS_SHIFT */

struct merge_slot {
	u64 sector;
	u64 id;			/* 0: empty */
};

/*
 * The merge candidates of a queue.  They are not in struct sched_queue
 * because its initial value is copied from the stack, which is too small
 * for them; an array element starts out zeroed and is only written under
 * the queue's lock.  (Two queues whose ids are equal modulo MAX_QUEUES
 * would share one, which costs merges, not correctness: see above.)
 */
struct merge_tables {
	struct merge_slot ends[MERGE_SLOTS];	/* back merge candidates */
	struct merge_slot starts[MERGE_SLOTS];	/* front merge candidates */
};

struct sched_queue {
	struct bpf_spin_lock lock;
	u32 live;		/* queue_array: between init_sched and exit_sched */
	struct bpf_rb_root reads __contains(sort_node, rb);
	struct bpf_rb_root writes __contains(sort_node, rb);
	struct bpf_list_head others __contains(fifo_node, link);
	struct direction rd;
	struct direction wr;
	u32 nr_others;
	u32 reads_over_writes;	/* reads dispatched while writes waited */
};

/* queues whose q->id is below MAX_QUEUES */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_QUEUES);
	__type(key, u32);			/* q->id */
	__type(value, struct sched_queue);
} queue_array SEC(".maps");

/* the other queues */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_QUEUES);
	__type(key, int);			/* q->id */
	__type(value, struct sched_queue);
} queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_QUEUES);
	__type(key, u32);			/* q->id % MAX_QUEUES */
	__type(value, struct merge_tables);
} merge_tables SEC(".maps");

static bool node_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct sort_node *na = container_of(a, struct sort_node, rb);
	struct sort_node *nb = container_of(b, struct sort_node, rb);

	if (na->sweep != nb->sweep)
		return na->sweep < nb->sweep;
	if (na->sector != nb->sector)
		return na->sector < nb->sector;
	return na->id < nb->id;
}

/* the element of queue_array for q->id @qid, or NULL */
static __always_inline struct sched_queue *queue_array_elem(int qid)
{
	u32 idx = qid;

	if (qid < 0 || qid >= MAX_QUEUES)
		return NULL;
	return bpf_map_lookup_elem(&queue_array, &idx);
}

/* the state of @q, or NULL between its exit_sched and init_sched */
static __always_inline struct sched_queue *lookup_queue(struct request_queue *q)
{
	int qid = q->id;
	struct sched_queue *sq;

	if (qid >= 0 && qid < MAX_QUEUES) {
		sq = queue_array_elem(qid);
		return sq && sq->live ? sq : NULL;
	}
	return bpf_map_lookup_elem(&queues, &qid);
}

static struct merge_tables *lookup_tables(struct request_queue *q)
{
	u32 slot = (u32)q->id % MAX_QUEUES;

	return bpf_map_lookup_elem(&merge_tables, &slot);
}

/* the slot of @sector in a merge candidate table */
static __always_inline u32 slot_of(u64 sector)
{
	/* Fibonacci hashing: the top bits of the product */
	return (sector * 0x9E3779B97F4A7C15ULL) >> (64 - MERGE_SLOTS_SHIFT) &
	       (MERGE_SLOTS - 1);
}

/*
 * The id of the request @table says is at @sector, or 0; under the lock.
 * @table is the ends or starts of a queue's merge_tables.
 */
static __always_inline u64 slot_lookup(struct merge_slot *table, u64 sector)
{
	struct merge_slot *slot = &table[slot_of(sector)];

	return slot->id && slot->sector == sector ? slot->id : 0;
}

static __always_inline void slot_set(struct merge_slot *table, u64 sector,
				     u64 id)
{
	struct merge_slot *slot = &table[slot_of(sector)];

	slot->sector = sector;
	slot->id = id;
}

/* the edge of request @id moved from @from to @to; under the lock */
static __always_inline void slot_move(struct merge_slot *table, u64 from,
				      u64 to, u64 id)
{
	struct merge_slot *slot = &table[slot_of(from)];

	if (slot->id == id && slot->sector == from)
		slot->id = 0;
	slot_set(table, to, id);
}

/* the sweep a request at @sector joins in direction @d */
static __always_inline u64 sweep_of(struct direction *d, u64 sector)
{
	return sector > d->pos ? d->sweep : d->sweep + 1;
}

/*
 * Take the first request of @root, the tree of direction @d, under the
 * lock; *new_sweep tells whether it starts a new sweep.
 */
static __always_inline struct sort_node *
direction_pop(struct bpf_rb_root *root, struct direction *d, bool *new_sweep)
{
	struct bpf_rb_node *rb = bpf_rbtree_first(root);
	struct sort_node *n;

	if (rb)
		rb = bpf_rbtree_remove(root, rb);
	if (!rb)
		return NULL;
	n = container_of(rb, struct sort_node, rb);
	*new_sweep = n->sweep != d->sweep;
	d->sweep = n->sweep;
	d->pos = n->sector;
	d->nr--;
	return n;
}

/* Free one node queued in @sq; false if there was none. */
static __always_inline bool drain_one(struct sched_queue *sq)
{
	struct bpf_list_node *ln;
	struct bpf_rb_node *rb;

	bpf_spin_lock(&sq->lock);
	rb = bpf_rbtree_first(&sq->reads);
	if (rb) {
		rb = bpf_rbtree_remove(&sq->reads, rb);
	} else {
		rb = bpf_rbtree_first(&sq->writes);
		if (rb)
			rb = bpf_rbtree_remove(&sq->writes, rb);
	}
	if (rb) {
		bpf_spin_unlock(&sq->lock);
		bpf_obj_drop(container_of(rb, struct sort_node, rb));
		return true;
	}
	ln = bpf_list_pop_front(&sq->others);
	bpf_spin_unlock(&sq->lock);
	if (!ln)
		return false;
	bpf_obj_drop(container_of(ln, struct fifo_node, link));
	return true;
}

/* Free every node queued in @sq, as deleting a hash map element does. */
static __always_inline void drain(struct sched_queue *sq)
{
	int i;

	bpf_for(i, 0, DRAIN_MAX) {
		if (!drain_one(sq))
			break;
	}
}

SEC("struct_ops/simple_init_sched")
int BPF_PROG(simple_init_sched, struct request_queue *q)
{
	struct sched_queue empty = {};
	struct sched_queue *sq;
	int qid = q->id;

	if (qid < 0 || qid >= MAX_QUEUES)
		return bpf_map_update_elem(&queues, &qid, &empty, BPF_ANY);

	sq = queue_array_elem(qid);
	if (!sq)
		return -ENOENT;
	/* empty already unless exit_sched was missed: replace it as BPF_ANY does */
	drain(sq);
	bpf_spin_lock(&sq->lock);
	sq->rd.sweep = 0;
	sq->rd.pos = 0;
	sq->rd.nr = 0;
	sq->wr.sweep = 0;
	sq->wr.pos = 0;
	sq->wr.nr = 0;
	sq->nr_others = 0;
	sq->reads_over_writes = 0;
	sq->live = 1;
	bpf_spin_unlock(&sq->lock);
	return 0;
}

SEC("struct_ops/simple_exit_sched")
int BPF_PROG(simple_exit_sched, struct request_queue *q)
{
	struct sched_queue *sq;
	int qid = q->id;

	if (qid < 0 || qid >= MAX_QUEUES) {
		/* frees the nodes of every request still queued here */
		bpf_map_delete_elem(&queues, &qid);
		return 0;
	}

	sq = queue_array_elem(qid);
	if (!sq)
		return 0;
	bpf_spin_lock(&sq->lock);
	sq->live = 0;
	bpf_spin_unlock(&sq->lock);
	/* frees the nodes of every request still queued here */
	drain(sq);
	return 0;
}

static int insert_other(struct sched_queue *sq, u64 id)
{
	struct fifo_node *f = bpf_obj_new(struct fifo_node);

	if (!f)
		return -ENOMEM;
	f->id = id;
	bpf_spin_lock(&sq->lock);
	bpf_list_push_back(&sq->others, &f->link);
	sq->nr_others++;
	bpf_spin_unlock(&sq->lock);
	return 0;
}

/*
 * Dispatch a read or write at @sector at once if nothing waits, neither
 * here nor in the kernel's FIFO: the sorted order of one request is that
 * request, so the tree node, the dispatch_req call and its lookups would
 * be pure cost.  The direction moves to @sector as if dispatch_req had
 * picked it.  All callbacks but finish_req run under the kernel's UFQ
 * lock, so nothing can be queued between this check and the insert that
 * follows when it fails.
 */
static bool try_dispatch_direct(struct sched_queue *sq,
				struct request_queue *q, u32 op, u64 sector)
{
	bool direct;

	/*
	 * Requests wait here: no need to take the lock to know.  (The counts
	 * only change in callbacks, which the UFQ lock serializes, so this
	 * is exact; under the lock below it is checked again anyway.)
	 */
	if (sq->rd.nr || sq->wr.nr || sq->nr_others)
		return false;
	if (bpf_ufq_kernel_queued(q))
		return false;

	bpf_spin_lock(&sq->lock);
	direct = !sq->rd.nr && !sq->wr.nr && !sq->nr_others;
	if (direct) {
		if (op == REQ_OP_READ) {
			sq->rd.pos = sector;
		} else {
			sq->wr.pos = sector;
			sq->reads_over_writes = 0;
		}
	}
	bpf_spin_unlock(&sq->lock);
	return direct;
}

SEC("struct_ops/simple_insert_req")
int BPF_PROG(simple_insert_req, struct request_queue *q,
	     struct request *rq, blk_insert_t flags)
{
	struct sched_queue *sq = lookup_queue(q);
	u64 id = bpf_request_id(rq);
	u64 sector = rq->__sector;
	u64 end = sector + ufq_rq_sectors(rq);
	u32 op = ufq_rq_op(rq);
	struct merge_tables *mt;
	struct sort_node *n;

	if (!sq || !id)
		return -ENOENT;

	if ((flags & UFQ_INSERT_AT_HEAD) ||
	    (op != REQ_OP_READ && op != REQ_OP_WRITE)) {
		if (insert_other(sq, id)) {
			ufq_stat_inc(UFQ_SIMPLE_REFUSED);
			return -ENOMEM;
		}
		ufq_stat_inc(UFQ_SIMPLE_INSERTED_OTHERS);
		return 0;
	}

	if (try_dispatch_direct(sq, q, op, sector)) {
		ufq_stat_inc(UFQ_SIMPLE_DISPATCHED_DIRECT);
		return UFQ_INSERT_DISPATCH;
	}

	n = bpf_obj_new(struct sort_node);
	if (!n) {
		ufq_stat_inc(UFQ_SIMPLE_REFUSED);
		return -ENOMEM;
	}
	n->id = id;
	n->sector = sector;
	mt = lookup_tables(q);

	bpf_spin_lock(&sq->lock);
	if (op == REQ_OP_READ) {
		n->sweep = sweep_of(&sq->rd, sector);
		bpf_rbtree_add(&sq->reads, &n->rb, node_less);
		sq->rd.nr++;
	} else {
		n->sweep = sweep_of(&sq->wr, sector);
		bpf_rbtree_add(&sq->writes, &n->rb, node_less);
		sq->wr.nr++;
	}
	if (mt) {
		slot_set(mt->ends, end, id);
		slot_set(mt->starts, sector, id);
	}
	bpf_spin_unlock(&sq->lock);

	ufq_stat_inc(op == REQ_OP_READ ? UFQ_SIMPLE_INSERTED_READS :
		     UFQ_SIMPLE_INSERTED_WRITES);
	return 0;
}

SEC("struct_ops/simple_dispatch_req")
u64 BPF_PROG(simple_dispatch_req, struct request_queue *q)
{
	struct sched_queue *sq = lookup_queue(q);
	struct bpf_list_node *ln;
	struct sort_node *n;
	bool write, forced = false, sweep = false;
	u64 id;

	if (!sq)
		return 0;

	bpf_spin_lock(&sq->lock);
	ln = bpf_list_pop_front(&sq->others);
	if (ln) {
		struct fifo_node *f = container_of(ln, struct fifo_node, link);

		sq->nr_others--;
		bpf_spin_unlock(&sq->lock);
		id = f->id;
		bpf_obj_drop(f);
		ufq_stat_inc(UFQ_SIMPLE_DISPATCHED_OTHERS);
		return id;
	}

	write = sq->wr.nr &&
		(!sq->rd.nr || sq->reads_over_writes >= read_batch);
	if (write) {
		forced = sq->rd.nr > 0;
		n = direction_pop(&sq->writes, &sq->wr, &sweep);
		sq->reads_over_writes = 0;
	} else {
		n = direction_pop(&sq->reads, &sq->rd, &sweep);
		if (sq->wr.nr)
			sq->reads_over_writes++;
	}
	if (!n) {
		bpf_spin_unlock(&sq->lock);
		return 0;
	}
	id = n->id;
	bpf_spin_unlock(&sq->lock);
	bpf_obj_drop(n);

	ufq_stat_inc(write ? UFQ_SIMPLE_DISPATCHED_WRITES :
		     UFQ_SIMPLE_DISPATCHED_READS);
	if (forced)
		ufq_stat_inc(UFQ_SIMPLE_WRITES_FORCED);
	if (sweep)
		ufq_stat_inc(UFQ_SIMPLE_SWEEPS);
	return id;
}

/*
 * Merge the bio [@sector, @end) into request @id and move the slot of the
 * request's edge that moved, whichever the kernel merged; under the lock.
 */
static __always_inline int merge_bio_slots(struct merge_tables *mt, u64 id,
					   struct bio *bio, u32 nr_segs,
					   u64 sector, u64 end)
{
	int ret = bpf_request_bio_try_merge(id, bio, nr_segs);

	if (ret == UFQ_BACK_MERGE)
		slot_move(mt->ends, sector, end, id);
	else if (ret == UFQ_FRONT_MERGE)
		slot_move(mt->starts, end, sector, id);
	return ret;
}

SEC("struct_ops/simple_merge_bio")
void BPF_PROG(simple_merge_bio, struct request_queue *q,
	      struct bio *bio, unsigned int nr_segs)
{
	u64 sector = bio->bi_iter.bi_sector;
	u64 end = sector + (bio->bi_iter.bi_size >> UFQ_SECTOR_SHIFT);
	struct merge_tables *mt = lookup_tables(q);
	struct sched_queue *sq;
	u64 id;
	int ret = 0;

	/*
	 * Most bios of a random workload have no candidate: see that without
	 * the lock, which the slots do not need here (they only change in
	 * callbacks, which the UFQ lock serializes), and look again under it.
	 */
	if (!mt || (!slot_lookup(mt->ends, sector) &&
		    !slot_lookup(mt->starts, end)))
		return;
	sq = lookup_queue(q);
	if (!sq)
		return;

	bpf_spin_lock(&sq->lock);
	id = slot_lookup(mt->ends, sector);
	if (id)
		ret = merge_bio_slots(mt, id, bio, nr_segs, sector, end);
	/*
	 * Any positive result is a merge (the kernel decides which kind):
	 * the bio is gone, and another try would only get -EALREADY and
	 * lose the result.
	 */
	if (ret <= 0) {
		id = slot_lookup(mt->starts, end);
		if (id)
			ret = merge_bio_slots(mt, id, bio, nr_segs, sector,
					      end);
	}
	bpf_spin_unlock(&sq->lock);

	if (ret == UFQ_BACK_MERGE)
		ufq_stat_inc(UFQ_SIMPLE_BIO_BACK_MERGES);
	else if (ret == UFQ_FRONT_MERGE)
		ufq_stat_inc(UFQ_SIMPLE_BIO_FRONT_MERGES);
}

SEC("struct_ops/simple_merge_req")
void BPF_PROG(simple_merge_req, struct request_queue *q,
	      struct request *rq)
{
	u64 sector = rq->__sector;
	u64 end = sector + ufq_rq_sectors(rq);
	struct merge_tables *mt = lookup_tables(q);
	struct sched_queue *sq;
	u64 id;
	int ret = 0;

	/* no candidate, as in merge_bio */
	if (!mt || !slot_lookup(mt->ends, sector))
		return;
	sq = lookup_queue(q);
	if (!sq)
		return;

	bpf_spin_lock(&sq->lock);
	id = slot_lookup(mt->ends, sector);
	if (id) {
		ret = bpf_request_try_merge(id, rq);
		if (ret == 1)
			slot_move(mt->ends, sector, end, id);
	}
	bpf_spin_unlock(&sq->lock);

	if (ret == 1)
		ufq_stat_inc(UFQ_SIMPLE_RQ_MERGES);
}

SEC("struct_ops/simple_has_req")
bool BPF_PROG(simple_has_req, struct request_queue *q, int rqs_count)
{
	return !stall;
}

SEC(".struct_ops.link")
struct ufq_iosched_ops simple_ops = {
	.init_sched	= (void *)simple_init_sched,
	.exit_sched	= (void *)simple_exit_sched,
	.insert_req	= (void *)simple_insert_req,
	.dispatch_req	= (void *)simple_dispatch_req,
	.has_req	= (void *)simple_has_req,
	.merge_bio	= (void *)simple_merge_bio,
	.merge_req	= (void *)simple_merge_req,
	.name		= "ufq_simple",
};
