// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for the KF_SPIN_LOCK verifier tests.  None of them is loaded by
 * default ("?" sections): kfsl_verifier loads each one on its own and checks
 * the verifier's verdict and, for the accepted ones, the result of a run.
 *
 * "syscall" programs are sleepable (libbpf sets BPF_F_SLEEPABLE for them),
 * which is the case where a kfunc called under the lock must not sleep.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kfsl.h"

char _license[] SEC("license") = "GPL";

/*
 * Built-in UFQ kfuncs (block/ufq-kfunc.c), for ufq_iosched_ops programs:
 * bpf_request_try_merge() is flagged KF_SPIN_LOCK, bpf_ufq_kernel_queued()
 * is not.  They are the built-in (vmlinux BTF) path of the flag.
 */
extern int bpf_request_try_merge(__u64 rq_id, struct request *next) __ksym;
extern __u32 bpf_ufq_kernel_queued(struct request_queue *q) __ksym;
extern __u64 bpf_request_id(struct request *rq) __ksym;
/* Built-in, not flagged */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
/* kfsl_test_mod.ko: the same function flagged and not flagged */
extern __u64 kfsl_test_locked(__u64 a) __ksym;
extern __u64 kfsl_test_unlocked(__u64 a) __ksym;
/* kfsl_test_mod.ko: KF_SLEEPABLE, so never KF_SPIN_LOCK */
extern __u64 kfsl_test_sleepable(__u64 a) __ksym;
/* Graph API kfuncs, which were allowed under a lock before the flag */
extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head,
				   struct bpf_list_node *node,
				   void *meta, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;

#define __contains(name, node) \
	__attribute__((btf_decl_tag("contains:" #name ":" #node)))
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

struct kfsl_val {
	struct bpf_spin_lock lock;
	__u64 v;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct kfsl_val);
} vals SEC(".maps");

struct kfsl_node {
	__u64 v;
	struct bpf_list_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_list_head ghead __contains(kfsl_node, node);

static struct kfsl_val *get_val(void)
{
	int key = 0;

	return bpf_map_lookup_elem(&vals, &key);
}

/*
 * ufq_iosched_ops programs (struct_ops maps, each created only for its own
 * test case): a flagged built-in kfunc under the lock is accepted, an
 * unflagged one refused.  insert_req and dispatch_req complete the maps.
 */
SEC("?struct_ops/insert_req")
int BPF_PROG(ufq_insert_req, struct request_queue *q, struct request *rq,
	     blk_insert_t flags)
{
	return -1;
}

SEC("?struct_ops/dispatch_req")
__u64 BPF_PROG(ufq_dispatch_req, struct request_queue *q)
{
	return 0;
}

/*
 * ufq_flagged_ops is attached and run: a FIFO of the requests of one disk
 * (the loader sets its device number), the others dispatched at once.
 * It holds the first request back until a second one comes, so that
 * merge_req runs with a request to merge into.  All its callbacks run
 * under the queue's UFQ lock, so a single queue needs no lock of its own.
 */
const volatile __u32 ufq_major, ufq_minor;

struct kfsl_ufq ufq_state;

static bool ufq_target(struct request_queue *q)
{
	struct gendisk *disk = q->disk;

	return disk && disk->major == ufq_major &&
	       disk->first_minor == ufq_minor;
}

SEC("?struct_ops/insert_req")
int BPF_PROG(ufq_fifo_insert_req, struct request_queue *q, struct request *rq,
	     blk_insert_t flags)
{
	__u64 id;

	if (!ufq_target(q))
		return 1;	/* UFQ_INSERT_DISPATCH */
	id = bpf_request_id(rq);
	if (!id || ufq_state.tail - ufq_state.head >= KFSL_UFQ_RING)
		return 1;
	ufq_state.ids[ufq_state.tail & (KFSL_UFQ_RING - 1)] = id;
	ufq_state.tail++;
	ufq_state.inserted++;
	ufq_state.last_id = id;
	return 0;
}

SEC("?struct_ops/dispatch_req")
__u64 BPF_PROG(ufq_fifo_dispatch_req, struct request_queue *q)
{
	__u64 id;

	if (!ufq_target(q) || ufq_state.head == ufq_state.tail)
		return 0;
	/* the first request waits for a second one, or a merge */
	if (ufq_state.inserted < 2 && !ufq_state.merge_calls)
		return 0;
	id = ufq_state.ids[ufq_state.head & (KFSL_UFQ_RING - 1)];
	ufq_state.head++;
	ufq_state.dispatched++;
	return id;
}

/* No bio merges, so that a second write becomes a request of its own */
SEC("?struct_ops/merge_bio")
void BPF_PROG(ufq_no_merge_bio, struct request_queue *q, struct bio *bio,
	      unsigned int nr_segs)
{
}

/*
 * Flagged built-in kfunc under the lock: accepted, and run as the merge of
 * the second request into the first; the result is stored under the lock.
 */
SEC("?struct_ops/merge_req")
void BPF_PROG(builtin_flagged_locked, struct request_queue *q,
	      struct request *rq)
{
	struct kfsl_val *val = get_val();
	__u64 id = ufq_state.last_id;

	if (!val || !ufq_target(q))
		return;
	ufq_state.merge_calls++;
	bpf_spin_lock(&val->lock);
	val->v = (__s64)bpf_request_try_merge(id, rq);
	bpf_spin_unlock(&val->lock);
}

/* A UFQ kfunc that is not KF_SPIN_LOCK, under the lock: rejected */
SEC("?struct_ops/merge_req")
void BPF_PROG(ufq_unflagged_locked, struct request_queue *q,
	      struct request *rq)
{
	struct kfsl_val *val = get_val();

	if (!val)
		return;
	bpf_spin_lock(&val->lock);
	val->v = bpf_ufq_kernel_queued(q);
	bpf_spin_unlock(&val->lock);
}

/* Control: the same UFQ kfunc without the lock is accepted */
SEC("?struct_ops/merge_req")
void BPF_PROG(ufq_unflagged_unlocked, struct request_queue *q,
	      struct request *rq)
{
	struct kfsl_val *val = get_val();
	__u32 n = bpf_ufq_kernel_queued(q);

	if (val)
		val->v = n;
}

SEC(".struct_ops.link")
struct ufq_iosched_ops ufq_flagged_ops = {
	.insert_req	= (void *)ufq_fifo_insert_req,
	.dispatch_req	= (void *)ufq_fifo_dispatch_req,
	.merge_bio	= (void *)ufq_no_merge_bio,
	.merge_req	= (void *)builtin_flagged_locked,
	.name		= "kfsl_flagged",
};

SEC(".struct_ops.link")
struct ufq_iosched_ops ufq_unflagged_ops = {
	.insert_req	= (void *)ufq_insert_req,
	.dispatch_req	= (void *)ufq_dispatch_req,
	.merge_req	= (void *)ufq_unflagged_locked,
	.name		= "kfsl_unflagged",
};

SEC(".struct_ops.link")
struct ufq_iosched_ops ufq_unlocked_ops = {
	.insert_req	= (void *)ufq_insert_req,
	.dispatch_req	= (void *)ufq_dispatch_req,
	.merge_req	= (void *)ufq_unflagged_unlocked,
	.name		= "kfsl_unlocked",
};

/* Unflagged built-in kfunc under the lock: rejected */
SEC("?syscall")
int builtin_unflagged_locked(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();
	struct task_struct *task;

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	task = bpf_task_from_pid(args->in);
	bpf_spin_unlock(&val->lock);
	if (!task)
		return 0;
	bpf_task_release(task);
	return 1;
}

/* Control: the same call without the lock is accepted (returns 1) */
SEC("?syscall")
int builtin_unflagged_unlocked(struct kfsl_args *args)
{
	struct task_struct *task;

	task = bpf_task_from_pid(args->in);
	if (!task)
		return 0;
	bpf_task_release(task);
	return 1;
}

/* Helper under the lock: still rejected */
SEC("?syscall")
int helper_locked(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	val->v = bpf_ktime_get_ns();
	bpf_spin_unlock(&val->lock);
	return 0;
}

/* Flagged module kfunc under the lock: accepted, returns (in << 1) | 1 */
SEC("?syscall")
int module_flagged_locked(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();
	__u64 r;

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	r = kfsl_test_locked(args->in);
	val->v = r;
	bpf_spin_unlock(&val->lock);
	return r;
}

/* Unflagged module kfunc under the lock: rejected */
SEC("?syscall")
int module_unflagged_locked(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();
	__u64 r;

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	r = kfsl_test_unlocked(args->in);
	val->v = r;
	bpf_spin_unlock(&val->lock);
	return r;
}

/* Control: the same module kfunc without the lock, returns (in << 1) | 0 */
SEC("?syscall")
int module_unflagged_unlocked(struct kfsl_args *args)
{
	return kfsl_test_unlocked(args->in);
}

/*
 * The flag is looked up in the kfunc sets of the program type: the module
 * registers its kfuncs for BPF_PROG_TYPE_SYSCALL only, so a SCHED_CLS
 * program may not call even the flagged one under a lock.
 */
SEC("?tc")
int module_flagged_other_type(struct __sk_buff *skb)
{
	struct kfsl_val *val = get_val();
	__u64 r;

	if (!val)
		return 0;
	bpf_spin_lock(&val->lock);
	r = kfsl_test_locked(skb->len);
	val->v = r;
	bpf_spin_unlock(&val->lock);
	return 0;
}

/* A flagged kfunc does not lift the other rules: the lock must be released */
SEC("?syscall")
int module_flagged_no_unlock(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	val->v = kfsl_test_locked(args->in);
	return 0;
}

/*
 * A sleepable kfunc under the lock, in a sleepable program: rejected (no
 * kfunc can be both KF_SLEEPABLE and KF_SPIN_LOCK)
 */
SEC("?syscall")
int sleepable_locked(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	val->v = kfsl_test_sleepable(args->in);
	bpf_spin_unlock(&val->lock);
	return 0;
}

/* Control: the same call without the lock is accepted, returns in */
SEC("?syscall")
int sleepable_unlocked(struct kfsl_args *args)
{
	return kfsl_test_sleepable(args->in);
}

/* Graph API kfuncs under the lock: still accepted, returns in */
SEC("?syscall")
int graph_api_locked(struct kfsl_args *args)
{
	struct bpf_list_node *ln;
	struct kfsl_node *n;
	__u64 v;

	n = bpf_obj_new_impl(bpf_core_type_id_local(struct kfsl_node), NULL);
	if (!n)
		return -1;
	n->v = args->in;
	bpf_spin_lock(&glock);
	bpf_list_push_back_impl(&ghead, &n->node, NULL, 0);
	ln = bpf_list_pop_front(&ghead);
	bpf_spin_unlock(&glock);
	if (!ln)
		return -1;
	n = container_of(ln, struct kfsl_node, node);
	v = n->v;
	bpf_obj_drop_impl(n, NULL);
	return v;
}
