// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal UFQ BPF scheduler for the selftests: a FIFO per queue, kept in
 * a bpf_list under a bpf_spin_lock in a hash map keyed by q->id, with
 * back merges of bios and requests into the last inserted request (the
 * merge kfuncs are called under the lock, KF_SPIN_LOCK).
 *
 * The mode (set by the loader before load) makes it misbehave on purpose:
 *   FIFO   a correct scheduler
 *   STALL  takes requests and never dispatches them (the watchdog ejects it)
 *   EJECT  ejects itself with bpf_ufq_eject() after eject_after dispatches
 *   BADID  returns an id it does not own (the kernel ejects it)
 *   RQMERGE FIFO that merges no bio, so that new requests get merged
 *   BADSEGS FIFO whose merge_bio first asks each bio merge with the
 *          segment counts 0 and 1 (when they are not merge_bio's nr_segs),
 *          then with the right one; it holds requests back (see
 *          badsegs_hold()) so that bios find one to merge into even on a
 *          fast device
 *   INITPOS FIFO whose init_sched returns 1 (neither 0 nor an errno)
 *   KICK   FIFO that declines until a bpf_timer callback kicks the queue
 *          (bpf_ufq_kick()) kick_ms later, then dispatches until empty
 *   EJECTNL EJECT with a reason that has a newline and a fake line
 *   DIRECT dispatches every request from insert_req (UFQ_INSERT_DISPATCH)
 *   KEEPID FIFO that keeps the id of every request it dispatched, in its
 *          map, after the request completed: an id is the only handle a
 *          program can keep, and it holds nothing (no tag, no usage count)
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ufq_fifo.h"

char _license[] SEC("license") = "GPL";

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - __builtin_offsetof(type, member)))
#endif

#define __contains(name, node) \
	__attribute__((btf_decl_tag("contains:" #name ":" #node)))

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
#define bpf_obj_new(type) \
	((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
extern int bpf_list_push_back_impl(struct bpf_list_head *head,
				   struct bpf_list_node *node,
				   void *meta, __u64 off) __ksym;
#define bpf_list_push_back(head, node) \
	bpf_list_push_back_impl(head, node, NULL, 0)
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;

/* UFQ kfuncs */
extern u64 bpf_request_id(struct request *rq) __ksym;
extern int bpf_request_bio_try_merge(u64 rq_id, struct bio *bio,
				     u32 nr_segs) __ksym;
extern int bpf_request_try_merge(u64 rq_id, struct request *next) __ksym;
extern void bpf_ufq_eject(const char *reason, u32 reason__sz) __ksym;
extern int bpf_ufq_kick(u32 queue_id) __ksym;

#define CLOCK_MONOTONIC	1

const volatile int mode = UFQ_TEST_FIFO;
const volatile __u64 eject_after = 100;
const volatile __u64 kick_ms = 10;

struct fifo_node {
	struct bpf_list_node link;
	u64 id;
};

struct qdata {
	struct bpf_spin_lock lock;
	struct bpf_list_head head __contains(fifo_node, link);
	u64 last_id;	/* last inserted request, for back merges */
	u64 last_end;	/* its end sector */
	u64 queued;
	u64 last_insert_ns;
	/* KICK, BADSEGS: the timer that kicks the queue */
	struct bpf_timer timer;
	int qid;
	bool armed;
	bool released;	/* KICK: dispatch until the list is empty */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, int);
	__type(value, struct qdata);
} queues SEC(".maps");

struct ufq_test_counters counters;
/* KEEPID: the ids of the last UFQ_TEST_KEPT dispatched requests */
__u64 kept_ids[UFQ_TEST_KEPT];

static struct qdata *lookup_q(struct request_queue *q)
{
	int key = q->id;

	return bpf_map_lookup_elem(&queues, &key);
}

/* the timer fired: let dispatch_req go on, ask the kernel to call it */
static int kick_cb(void *map, int *key, struct qdata *qd)
{
	qd->armed = false;
	qd->released = true;
	if (bpf_ufq_kick(qd->qid))
		__sync_fetch_and_add(&counters.kick_errors, 1);
	else
		__sync_fetch_and_add(&counters.kicks, 1);
	return 0;
}

/* decline: dispatch_req is not called again until the timer kicks */
static u64 decline_until_kick(struct qdata *qd, u64 ms)
{
	__sync_fetch_and_add(&counters.declined, 1);
	if (!qd->armed) {
		qd->armed = true;
		__sync_fetch_and_add(&counters.timers, 1);
		bpf_timer_start(&qd->timer, ms * 1000000, 0);
	}
	return 0;
}

SEC("struct_ops/init_sched")
int BPF_PROG(fifo_init_sched, struct request_queue *q)
{
	struct qdata zero = {};
	struct qdata *qd;
	int key = q->id;
	int ret;

	ret = bpf_map_update_elem(&queues, &key, &zero, BPF_NOEXIST);
	if (ret)
		return ret;
	qd = bpf_map_lookup_elem(&queues, &key);
	if (!qd)
		return -2; /* -ENOENT */
	qd->qid = key;
	ret = bpf_timer_init(&qd->timer, &queues, CLOCK_MONOTONIC);
	if (!ret)
		ret = bpf_timer_set_callback(&qd->timer, kick_cb);
	if (ret)
		return ret;
	__sync_fetch_and_add(&counters.init_sched, 1);
	if (mode == UFQ_TEST_INITPOS)
		return 1;
	return 0;
}

SEC("struct_ops/exit_sched")
int BPF_PROG(fifo_exit_sched, struct request_queue *q)
{
	int key = q->id;

	/* frees the nodes still on the list */
	bpf_map_delete_elem(&queues, &key);
	__sync_fetch_and_add(&counters.exit_sched, 1);
	return 0;
}

SEC("struct_ops/insert_req")
int BPF_PROG(fifo_insert_req, struct request_queue *q, struct request *rq,
	     blk_insert_t flags)
{
	struct qdata *qd = lookup_q(q);
	struct fifo_node *n;
	u64 id = bpf_request_id(rq), now;

	if (!qd || !id)
		return -2; /* -ENOENT */
	if (mode == UFQ_TEST_DIRECT) {
		__sync_fetch_and_add(&counters.inserted, 1);
		return 1; /* UFQ_INSERT_DISPATCH */
	}

	n = bpf_obj_new(struct fifo_node);
	if (!n)
		return -12; /* -ENOMEM */
	n->id = id;

	/* not inside merge_req: the merge kfunc refuses with -EINVAL */
	if (bpf_request_try_merge(id, rq) == -22)
		__sync_fetch_and_add(&counters.einval, 1);

	now = bpf_ktime_get_ns();
	bpf_spin_lock(&qd->lock);
	bpf_list_push_back(&qd->head, &n->link);
	qd->last_id = id;
	qd->last_end = rq->__sector + (rq->__data_len >> 9);
	qd->queued++;
	qd->last_insert_ns = now;
	bpf_spin_unlock(&qd->lock);

	__sync_fetch_and_add(&counters.inserted, 1);
	return 0;
}

/*
 * BADSEGS: dispatch nothing while fewer than 8 requests wait and the last
 * came less than 2 ms ago (a timer kicks the queue 2 ms later).
 */
static bool badsegs_hold(struct qdata *qd)
{
	u64 now = bpf_ktime_get_ns(), last, queued;

	bpf_spin_lock(&qd->lock);
	last = qd->last_insert_ns;
	queued = qd->queued;
	bpf_spin_unlock(&qd->lock);
	return queued < 8 && now - last < 2000000;
}

SEC("struct_ops/dispatch_req")
u64 BPF_PROG(fifo_dispatch_req, struct request_queue *q)
{
	struct qdata *qd = lookup_q(q);
	struct bpf_list_node *ln;
	struct fifo_node *n;
	u64 id, nr;

	if (!qd || mode == UFQ_TEST_STALL)
		return 0;

	if (mode == UFQ_TEST_BADID)
		return 0x1234ffffULL;
	if (mode == UFQ_TEST_BADSEGS && badsegs_hold(qd))
		return decline_until_kick(qd, 2);
	if (mode == UFQ_TEST_KICK && !qd->released)
		return decline_until_kick(qd, kick_ms);

	bpf_spin_lock(&qd->lock);
	ln = bpf_list_pop_front(&qd->head);
	if (ln)
		qd->queued--;
	bpf_spin_unlock(&qd->lock);
	/* KICK: the next request waits for the next kick */
	if (!qd->queued)
		qd->released = false;
	if (!ln)
		return 0;
	n = container_of(ln, struct fifo_node, link);
	id = n->id;
	bpf_obj_drop(n);

	nr = __sync_fetch_and_add(&counters.dispatched, 1) + 1;
	if (mode == UFQ_TEST_KEEPID) {
		kept_ids[nr & (UFQ_TEST_KEPT - 1)] = id;
		__sync_fetch_and_add(&counters.kept, 1);
	}
	if (mode == UFQ_TEST_EJECT && nr == eject_after) {
		char reason[] = "ufq selftest: ejecting on purpose";

		bpf_ufq_eject(reason, sizeof(reason));
	}
	if (mode == UFQ_TEST_EJECTNL && nr == eject_after) {
		char reason[] = "ufq selftest\nstate: enabled\x7f";

		bpf_ufq_eject(reason, sizeof(reason));
	}
	return id;
}

SEC("struct_ops/has_req")
bool BPF_PROG(fifo_has_req, struct request_queue *q, int rqs_count)
{
	__sync_fetch_and_add(&counters.has_req, 1);
	return rqs_count > 0;
}

SEC("struct_ops/finish_req")
void BPF_PROG(fifo_finish_req, struct request *rq)
{
	__sync_fetch_and_add(&counters.finished, 1);
}

SEC("struct_ops/requeue_req")
void BPF_PROG(fifo_requeue_req, struct request *rq)
{
	__sync_fetch_and_add(&counters.requeued, 1);
}

SEC("struct_ops/merge_req")
void BPF_PROG(fifo_merge_req, struct request_queue *q, struct request *rq)
{
	struct qdata *qd = lookup_q(q);
	u64 sector = rq->__sector;
	u64 end = sector + (rq->__data_len >> 9);
	int ret = 0;

	if (!qd)
		return;
	bpf_spin_lock(&qd->lock);
	if (qd->last_id && qd->last_end == sector) {
		ret = bpf_request_try_merge(qd->last_id, rq);
		if (ret == 1)
			qd->last_end = end;
	}
	bpf_spin_unlock(&qd->lock);
	if (ret == 1)
		__sync_fetch_and_add(&counters.rq_merged, 1);
	else if (ret < 0 && ret != -2)
		__sync_fetch_and_add(&counters.merge_errors, 1);
}

SEC("struct_ops/merge_bio")
void BPF_PROG(fifo_merge_bio, struct request_queue *q, struct bio *bio,
	      unsigned int nr_segs)
{
	struct qdata *qd = lookup_q(q);
	u64 sector = bio->bi_iter.bi_sector;
	u64 end = sector + (bio->bi_iter.bi_size >> 9);
	int ret = 0, unowned = 0, again = 0;
	u32 segs, nr_wrong = 0, wrong_einval = 0, wrong_merged = 0;

	if (!qd || mode == UFQ_TEST_RQMERGE)
		return;
	bpf_spin_lock(&qd->lock);
	/* segment counts 0 and 1, when they are not the bio's */
	for (segs = 0; mode == UFQ_TEST_BADSEGS && segs < 2; segs++) {
		if (segs == nr_segs || !qd->last_id || qd->last_end != sector)
			continue;
		ret = bpf_request_bio_try_merge(qd->last_id, bio, segs);
		nr_wrong++;
		if (ret == -22)
			wrong_einval++;
		if (ret > 0) {
			wrong_merged++;
			qd->last_end = end;
		}
	}
	ret = 0;
	if (qd->last_id && qd->last_end == sector) {
		/* the same tag with another sequence number: not owned */
		unowned = bpf_request_bio_try_merge(qd->last_id ^ (1ULL << 63),
						    bio, nr_segs);
		ret = bpf_request_bio_try_merge(qd->last_id, bio, nr_segs);
		if (ret == 2) {	/* back merge */
			qd->last_end = end;
			/* the bio is merged: a second merge is refused */
			again = bpf_request_bio_try_merge(qd->last_id, bio,
							  nr_segs);
		}
	}
	bpf_spin_unlock(&qd->lock);
	if (nr_wrong) {
		__sync_fetch_and_add(&counters.wrong_segs, nr_wrong);
		__sync_fetch_and_add(&counters.wrong_segs_einval, wrong_einval);
		__sync_fetch_and_add(&counters.wrong_segs_merged, wrong_merged);
	}
	if (unowned == -2)
		__sync_fetch_and_add(&counters.enoent, 1);
	if (again == -114)
		__sync_fetch_and_add(&counters.ealready, 1);
	if (ret > 0)
		__sync_fetch_and_add(&counters.bio_merged, 1);
	else if (ret < 0 && ret != -2)
		__sync_fetch_and_add(&counters.merge_errors, 1);
}

SEC(".struct_ops.link")
struct ufq_iosched_ops fifo_ops = {
	.init_sched	= (void *)fifo_init_sched,
	.exit_sched	= (void *)fifo_exit_sched,
	.insert_req	= (void *)fifo_insert_req,
	.dispatch_req	= (void *)fifo_dispatch_req,
	.has_req	= (void *)fifo_has_req,
	.finish_req	= (void *)fifo_finish_req,
	.requeue_req	= (void *)fifo_requeue_req,
	.merge_req	= (void *)fifo_merge_req,
	.merge_bio	= (void *)fifo_merge_bio,
	.name		= "ufq_test_fifo",
};
