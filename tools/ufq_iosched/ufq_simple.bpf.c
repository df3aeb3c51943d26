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
 * Two bounds keep every request moving, because the UFQ watchdog ejects a
 * scheduler that leaves a request undispatched for too long
 * (ufq.watchdog_timeout_ms):
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
 * Merging
 * -------
 * merge_bio and merge_req find a neighbour and merge with the KF_SPIN_LOCK
 * kfuncs bpf_request_bio_try_merge() / bpf_request_try_merge().  Linux
 * 6.12 has no rbtree traversal kfuncs (bpf_rbtree_root/left/right came
 * later), so the sector trees cannot be searched for a neighbour.  Instead:
 *
 * - the "positions" LRU hash maps (queue, end sector) to the id of the
 *   request that ends there (back merge candidates) and (queue, start
 *   sector) to the request that starts there (front merge candidates).
 *   Entries are written at insert and after each merge and never removed
 *   when a request leaves: a stale entry costs nothing, since the kernel
 *   checks the id (an id the scheduler no longer owns gives -ENOENT) and
 *   only merges a bio that really is adjacent to the request.  The LRU
 *   bounds the memory.  Map helpers cannot be called under a
 *   bpf_spin_lock, so the map is read before taking the lock.
 * - the last inserted request (hint_id/hint_end, like the block layer's
 *   q->last_merge) lives next to the trees under the lock, catches
 *   sequential streams without a map lookup hit, and is cleared by the
 *   dispatch that pops it in the same critical section.  Reading the hint
 *   and merging into it happen in one critical section, which is what the
 *   KF_SPIN_LOCK kfuncs make possible: without them the program would have
 *   to drop the lock between choosing the candidate and merging into it.
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
 * State per queue is an element of the "queues" hash map keyed by q->id,
 * created in init_sched and deleted in exit_sched, which frees the nodes
 * of requests the kernel took back.  Statistics are per-CPU counters
 * (enum ufq_simple_stat) that the loader prints.
 */
#include <ufq/common.bpf.h>

#include "ufq_simple.h"

char _license[] SEC("license") = "GPL";

/* reads dispatched while writes wait before one write goes first */
const volatile u32 read_batch = 16;

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

struct sched_queue {
	struct bpf_spin_lock lock;
	struct bpf_rb_root reads __contains(sort_node, rb);
	struct bpf_rb_root writes __contains(sort_node, rb);
	struct bpf_list_head others __contains(fifo_node, link);
	struct direction rd;
	struct direction wr;
	u32 nr_others;
	u32 reads_over_writes;	/* reads dispatched while writes waited */
	u64 hint_id;		/* last inserted read or write, 0 if none */
	u64 hint_end;		/* its end sector */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, int);			/* q->id */
	__type(value, struct sched_queue);
} queues SEC(".maps");

enum pos_kind {
	POS_END,	/* a request ends at .sector: back merge candidate */
	POS_START,	/* a request starts at .sector: front merge candidate */
};

struct pos_key {
	int qid;
	u32 kind;
	u64 sector;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pos_key);
	__type(value, u64);			/* request id */
} positions SEC(".maps");

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

static struct sched_queue *lookup_queue(struct request_queue *q)
{
	int qid = q->id;

	return bpf_map_lookup_elem(&queues, &qid);
}

static u64 position_lookup(int qid, u32 kind, u64 sector)
{
	struct pos_key key = { .qid = qid, .kind = kind, .sector = sector };
	u64 *id = bpf_map_lookup_elem(&positions, &key);

	return id ? *id : 0;
}

static void position_set(int qid, u32 kind, u64 sector, u64 id)
{
	struct pos_key key = { .qid = qid, .kind = kind, .sector = sector };

	bpf_map_update_elem(&positions, &key, &id, BPF_ANY);
}

static void position_move(int qid, u32 kind, u64 from, u64 to, u64 id)
{
	struct pos_key key = { .qid = qid, .kind = kind, .sector = from };

	bpf_map_delete_elem(&positions, &key);
	position_set(qid, kind, to, id);
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

SEC("struct_ops/simple_init_sched")
int BPF_PROG(simple_init_sched, struct request_queue *q)
{
	struct sched_queue empty = {};
	int qid = q->id;

	return bpf_map_update_elem(&queues, &qid, &empty, BPF_ANY);
}

SEC("struct_ops/simple_exit_sched")
int BPF_PROG(simple_exit_sched, struct request_queue *q)
{
	int qid = q->id;

	/* frees the nodes of every request still queued here */
	bpf_map_delete_elem(&queues, &qid);
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

SEC("struct_ops/simple_insert_req")
int BPF_PROG(simple_insert_req, struct request_queue *q,
		   struct request *rq, blk_insert_t flags)
{
	struct sched_queue *sq = lookup_queue(q);
	u64 id = bpf_request_id(rq);
	u64 sector = rq->__sector;
	u64 end = sector + ufq_rq_sectors(rq);
	u32 op = ufq_rq_op(rq);
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

	n = bpf_obj_new(struct sort_node);
	if (!n) {
		ufq_stat_inc(UFQ_SIMPLE_REFUSED);
		return -ENOMEM;
	}
	n->id = id;
	n->sector = sector;

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
	sq->hint_id = id;
	sq->hint_end = end;
	bpf_spin_unlock(&sq->lock);

	position_set(q->id, POS_END, end, id);
	position_set(q->id, POS_START, sector, id);
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
	if (sq->hint_id == id)
		sq->hint_id = 0;
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

SEC("struct_ops/simple_finish_req")
void BPF_PROG(simple_finish_req, struct request *rq)
{
	ufq_stat_inc(UFQ_SIMPLE_FINISHED);
}

SEC("struct_ops/simple_merge_bio")
void BPF_PROG(simple_merge_bio, struct request_queue *q,
		    struct bio *bio, unsigned int nr_segs)
{
	struct sched_queue *sq = lookup_queue(q);
	u64 sector = bio->bi_iter.bi_sector;
	u64 end = sector + (bio->bi_iter.bi_size >> UFQ_SECTOR_SHIFT);
	u64 back_id, front_id, merged_id = 0;
	bool hint_hit = false;
	int ret = 0;

	if (!sq)
		return;
	back_id = position_lookup(q->id, POS_END, sector);
	front_id = position_lookup(q->id, POS_START, end);

	bpf_spin_lock(&sq->lock);
	if (sq->hint_id && sq->hint_end == sector) {
		ret = bpf_request_bio_try_merge(sq->hint_id, bio, nr_segs);
		if (ret == UFQ_BACK_MERGE) {
			merged_id = sq->hint_id;
			sq->hint_end = end;
			hint_hit = true;
		}
	}
	if (ret != UFQ_BACK_MERGE && back_id && back_id != sq->hint_id) {
		ret = bpf_request_bio_try_merge(back_id, bio, nr_segs);
		if (ret == UFQ_BACK_MERGE)
			merged_id = back_id;
	}
	if (!merged_id && front_id) {
		ret = bpf_request_bio_try_merge(front_id, bio, nr_segs);
		if (ret == UFQ_FRONT_MERGE)
			merged_id = front_id;
	}
	bpf_spin_unlock(&sq->lock);

	if (!merged_id)
		return;
	if (ret == UFQ_BACK_MERGE) {
		position_move(q->id, POS_END, sector, end, merged_id);
		ufq_stat_inc(UFQ_SIMPLE_BIO_BACK_MERGES);
		if (hint_hit)
			ufq_stat_inc(UFQ_SIMPLE_MERGE_HINT_HITS);
	} else {
		position_move(q->id, POS_START, end, sector, merged_id);
		ufq_stat_inc(UFQ_SIMPLE_BIO_FRONT_MERGES);
	}
}

SEC("struct_ops/simple_merge_req")
void BPF_PROG(simple_merge_req, struct request_queue *q,
		    struct request *rq)
{
	struct sched_queue *sq = lookup_queue(q);
	u64 sector = rq->__sector;
	u64 end = sector + ufq_rq_sectors(rq);
	u64 back_id, merged_id = 0;
	bool hint_hit = false;
	int ret = 0;

	if (!sq)
		return;
	back_id = position_lookup(q->id, POS_END, sector);

	bpf_spin_lock(&sq->lock);
	if (sq->hint_id && sq->hint_end == sector) {
		ret = bpf_request_try_merge(sq->hint_id, rq);
		if (ret == 1) {
			merged_id = sq->hint_id;
			sq->hint_end = end;
			hint_hit = true;
		}
	}
	if (!merged_id && back_id && back_id != sq->hint_id) {
		ret = bpf_request_try_merge(back_id, rq);
		if (ret == 1)
			merged_id = back_id;
	}
	bpf_spin_unlock(&sq->lock);

	if (!merged_id)
		return;
	position_move(q->id, POS_END, sector, end, merged_id);
	ufq_stat_inc(UFQ_SIMPLE_RQ_MERGES);
	if (hint_hit)
		ufq_stat_inc(UFQ_SIMPLE_MERGE_HINT_HITS);
}

SEC(".struct_ops.link")
struct ufq_iosched_ops simple_ops = {
	.init_sched	= (void *)simple_init_sched,
	.exit_sched	= (void *)simple_exit_sched,
	.insert_req	= (void *)simple_insert_req,
	.dispatch_req	= (void *)simple_dispatch_req,
	.finish_req	= (void *)simple_finish_req,
	.merge_bio	= (void *)simple_merge_bio,
	.merge_req	= (void *)simple_merge_req,
	.name		= "ufq_simple",
};
