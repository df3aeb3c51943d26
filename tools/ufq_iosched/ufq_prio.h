/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between ufq_prio.bpf.c and its loader ufq_prio.c */
#ifndef __UFQ_PRIO_H
#define __UFQ_PRIO_H

/*
 * Buckets by I/O priority (ioprio_set(2), ionice(1)): the whole RT class,
 * the eight levels of the BE class, and the IDLE class.  Requests without
 * a priority class count as BE level 4, the kernel's default.
 */
enum ufq_prio_bucket {
	UFQ_PRIO_RT,
	UFQ_PRIO_BE0,
	UFQ_PRIO_BE7 = UFQ_PRIO_BE0 + 7,
	UFQ_PRIO_IDLE,
	UFQ_PRIO_NR_BUCKETS,
};

/* Default weights: RT 64, BE level l 8 - l (like BFQ), IDLE 1 */
#define UFQ_PRIO_DEFAULT_WEIGHTS { 64, 8, 7, 6, 5, 4, 3, 2, 1, 1 }
#define UFQ_PRIO_MAX_WEIGHT	1000

/* Per-CPU counters in the "stats" map: three per bucket, then the rest */
enum ufq_prio_bucket_stat {
	UFQ_PRIO_INSERTED,
	UFQ_PRIO_DISPATCHED,
	UFQ_PRIO_DISPATCHED_SECTORS,
	UFQ_PRIO_NR_BUCKET_STATS,
};

#define UFQ_PRIO_STAT(bucket, what)	((bucket) * UFQ_PRIO_NR_BUCKET_STATS + (what))
#define UFQ_PRIO_FINISHED	(UFQ_PRIO_NR_BUCKETS * UFQ_PRIO_NR_BUCKET_STATS)
#define UFQ_PRIO_REFUSED	(UFQ_PRIO_FINISHED + 1)
#define UFQ_PRIO_NR_STATS	(UFQ_PRIO_FINISHED + 2)

#endif /* __UFQ_PRIO_H */
