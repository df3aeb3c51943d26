/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common definitions for UFQ BPF schedulers: the UFQ kfuncs, the BPF graph
 * (list and rbtree) kfuncs of Linux 6.12, and small helpers.
 *
 * A UFQ scheduler is a struct ufq_iosched_ops struct_ops map; see
 * Documentation/block/ufq-iosched.rst for the callbacks and kfuncs.
 */
#ifndef __UFQ_COMMON_BPF_H
#define __UFQ_COMMON_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <asm-generic/errno.h>

/* UFQ kfuncs (block/ufq-kfunc.c), callable from ufq_iosched_ops programs */
u64 bpf_request_id(struct request *rq) __ksym;
/* KF_SPIN_LOCK: may be called while holding a bpf_spin_lock */
int bpf_request_bio_try_merge(u64 rq_id, struct bio *bio, u32 nr_segs) __ksym;
int bpf_request_try_merge(u64 rq_id, struct request *next) __ksym;
u32 bpf_ufq_kernel_queued(struct request_queue *q) __ksym;
void bpf_ufq_eject(const char *reason, u32 reason__sz) __ksym;

/* insert_req: dispatch the request now instead of taking it */
#define UFQ_INSERT_DISPATCH	1

/* Return values of bpf_request_bio_try_merge() (enum elv_merge) */
#define UFQ_FRONT_MERGE		1
#define UFQ_BACK_MERGE		2
#define UFQ_DISCARD_MERGE	3

/*
 * Macros of the block layer that BTF does not carry (vmlinux.h has the
 * enums, e.g. REQ_OP_READ, IOPRIO_CLASS_BE, but no #defines).
 */
#define UFQ_REQ_OP_BITS		8
#define UFQ_REQ_OP_MASK		((1U << UFQ_REQ_OP_BITS) - 1)
#define UFQ_INSERT_AT_HEAD	0x01	/* BLK_MQ_INSERT_AT_HEAD */
#define UFQ_SECTOR_SHIFT	9

#define UFQ_IOPRIO_CLASS_SHIFT	13
#define UFQ_IOPRIO_CLASS(p)	(((p) >> UFQ_IOPRIO_CLASS_SHIFT) & 7)
#define UFQ_IOPRIO_LEVEL(p)	((p) & 7)

static __always_inline u32 ufq_rq_op(const struct request *rq)
{
	return rq->cmd_flags & UFQ_REQ_OP_MASK;
}

static __always_inline u64 ufq_rq_sectors(const struct request *rq)
{
	return rq->__data_len >> UFQ_SECTOR_SHIFT;
}

/*
 * ufq_eject("reason"): eject this scheduler.  The kernel takes all its
 * requests back, dispatches them in FIFO order and shows the reason in
 * debugfs (sched: exit_kind bpf, exit_reason ...), where the loader reads
 * it.
 */
#define ufq_eject(reason)						\
({									\
	char ___reason[] = reason;					\
	bpf_ufq_eject(___reason, sizeof(___reason));			\
})

#ifndef container_of
#define container_of(ptr, type, member)					\
	((type *)((void *)(ptr) - __builtin_offsetof(type, member)))
#endif

/* BPF graph objects and their kfuncs (kernel/bpf/helpers.c) */
#define __contains(name, node)						\
	__attribute__((btf_decl_tag("contains:" #name ":" #node)))

void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
#define bpf_obj_new(type)						\
	((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)

int bpf_list_push_front_impl(struct bpf_list_head *head,
			     struct bpf_list_node *node,
			     void *meta, __u64 off) __ksym;
int bpf_list_push_back_impl(struct bpf_list_head *head,
			    struct bpf_list_node *node,
			    void *meta, __u64 off) __ksym;
struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;
struct bpf_list_node *bpf_list_pop_back(struct bpf_list_head *head) __ksym;
#define bpf_list_push_front(head, node)					\
	bpf_list_push_front_impl(head, node, NULL, 0)
#define bpf_list_push_back(head, node)					\
	bpf_list_push_back_impl(head, node, NULL, 0)

int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			bool (less)(struct bpf_rb_node *a,
				    const struct bpf_rb_node *b),
			void *meta, __u64 off) __ksym;
struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;
struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root,
				      struct bpf_rb_node *node) __ksym;
#define bpf_rbtree_add(root, node, less)				\
	bpf_rbtree_add_impl(root, node, less, NULL, 0)

/*
 * Per-CPU statistics: UFQ_DEFINE_STATS(nr) declares the map "stats", an
 * array of nr u64 counters per CPU that the loader sums up
 * (ufq_read_stats() in ufq/common.h); ufq_stat_add() bumps one on the
 * current CPU.  Callable in any context, including finish_req (which may
 * run in hard interrupt context), but not under a bpf_spin_lock.
 */
#define UFQ_DEFINE_STATS(nr)						\
struct {								\
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);			\
	__uint(max_entries, (nr));					\
	__type(key, u32);						\
	__type(value, u64);						\
} stats SEC(".maps")

#define ufq_stat_add(idx, val)						\
({									\
	u32 ___key = (idx);						\
	u64 *___cnt = bpf_map_lookup_elem(&stats, &___key);		\
	if (___cnt)							\
		*___cnt += (val);					\
})

#define ufq_stat_inc(idx) ufq_stat_add(idx, 1)

#endif /* __UFQ_COMMON_BPF_H */
