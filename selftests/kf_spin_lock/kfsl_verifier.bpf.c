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
#include <bpf/bpf_core_read.h>
#include "kfsl.h"

char _license[] SEC("license") = "GPL";

/* Built-in: net/bpf/test_run.c, flagged KF_SPIN_LOCK by the patch */
extern __u64 bpf_kfunc_call_test_spin_lock(__u64 a) __ksym;
/* Built-in, not flagged */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
/* kfsl_test_mod.ko: the same function flagged and not flagged */
extern __u64 kfsl_test_locked(__u64 a) __ksym;
extern __u64 kfsl_test_unlocked(__u64 a) __ksym;
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

/* Flagged built-in kfunc under the lock: accepted, returns in + 1 */
SEC("?syscall")
int builtin_flagged_locked(struct kfsl_args *args)
{
	struct kfsl_val *val = get_val();
	__u64 r;

	if (!val)
		return -1;
	bpf_spin_lock(&val->lock);
	r = bpf_kfunc_call_test_spin_lock(args->in);
	val->v = r;
	bpf_spin_unlock(&val->lock);
	return r;
}

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
