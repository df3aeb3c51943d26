/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between ufq_simple.bpf.c and its loader ufq_simple.c */
#ifndef __UFQ_SIMPLE_H
#define __UFQ_SIMPLE_H

/* Per-CPU counters in the "stats" map, summed by the loader */
enum ufq_simple_stat {
	/* requests dispatched from insert_req are only counted here: */
	UFQ_SIMPLE_DISPATCHED_DIRECT,	/* from insert_req: nothing waited */
	UFQ_SIMPLE_INSERTED_READS,	/* taken into the read tree */
	UFQ_SIMPLE_INSERTED_WRITES,	/* taken into the write tree */
	UFQ_SIMPLE_INSERTED_OTHERS,	/* taken into the FIFO list */
	UFQ_SIMPLE_DISPATCHED_READS,
	UFQ_SIMPLE_DISPATCHED_WRITES,
	UFQ_SIMPLE_DISPATCHED_OTHERS,
	UFQ_SIMPLE_WRITES_FORCED,	/* a write went first: reads starved it */
	UFQ_SIMPLE_SWEEPS,		/* a direction started a new sweep */
	UFQ_SIMPLE_BIO_BACK_MERGES,
	UFQ_SIMPLE_BIO_FRONT_MERGES,
	UFQ_SIMPLE_RQ_MERGES,
	UFQ_SIMPLE_REFUSED,		/* insert_req failed (no memory) */
	UFQ_SIMPLE_NR_STATS,
};

#endif /* __UFQ_SIMPLE_H */
