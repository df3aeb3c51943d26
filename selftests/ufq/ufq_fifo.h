/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between ufq_fifo.bpf.c and ufq_test.c */
#ifndef UFQ_FIFO_H
#define UFQ_FIFO_H

enum ufq_test_mode {
	UFQ_TEST_FIFO,
	UFQ_TEST_STALL,
	UFQ_TEST_EJECT,
	UFQ_TEST_BADID,
	UFQ_TEST_RQMERGE,
	UFQ_TEST_BADSEGS,
	UFQ_TEST_INITPOS,
	UFQ_TEST_KICK,
	UFQ_TEST_EJECTNL,
	UFQ_TEST_DIRECT,
	UFQ_TEST_KEEPID,
};

/* KEEPID: how many dispatched ids the scheduler keeps */
#define UFQ_TEST_KEPT	64

struct ufq_test_counters {
	unsigned long long init_sched;
	unsigned long long exit_sched;
	unsigned long long inserted;
	unsigned long long dispatched;
	unsigned long long finished;
	unsigned long long has_req;
	unsigned long long rq_merged;
	unsigned long long bio_merged;
	unsigned long long merge_errors;
	/* the merge kfuncs' refusals, provoked on purpose */
	unsigned long long einval;	/* called outside a merge callback */
	unsigned long long enoent;	/* an id the scheduler does not own */
	unsigned long long ealready;	/* a second merge of the same bio */
	/* BADSEGS: bio merges asked with a segment count not merge_bio's */
	unsigned long long wrong_segs;		/* such calls */
	unsigned long long wrong_segs_einval;	/* refused with -EINVAL */
	unsigned long long wrong_segs_merged;	/* merged all the same */
	/* KICK and BADSEGS: declines, bpf_timer starts, bpf_ufq_kick() calls */
	unsigned long long declined;
	unsigned long long timers;
	unsigned long long kicks;
	unsigned long long kick_errors;
	/* KEEPID: ids of dispatched requests kept in the map */
	unsigned long long kept;
	/* requeue_req calls */
	unsigned long long requeued;
};

#endif
