// SPDX-License-Identifier: GPL-2.0
/*
 * N sequential NOPs (each submitted after the one before it completed) on
 * the same kind of ring (SINGLE_ISSUER | DEFER_TASKRUN | NO_SQARRAY |
 * SQ_REWIND):
 *
 *   link2       a 2-NOP link chain per io_uring_enter(2), submit and wait
 *   qd1         one NOP per io_uring_enter(2), submit and wait
 *   bpf         the BPF event loop (nops_ops, QD 1), one NOP per loop step,
 *               all in one io_uring_enter(2)
 *   bpf_inline  the BPF event loop (nops_inline_ops, QD 1): a step reaps
 *               the inline completion and submits the next NOP, up to
 *               NOPS_INLINE_MAX per step
 *
 * and, to see what a loop step costs, steps of the BPF loop that do nothing
 * (bpf_empty; bpf_empty_ns from a non-sleepable program) or only look up
 * the three regions (bpf_regions).  Only the NOPs (or steps) are timed, not
 * loading the BPF program.
 *
 *   iou_bench VARIANT NR   prints {"variant": ..., "nops": NR, "seconds": S}
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_common.h"
#include "iou_nops.h"


static int reap(struct iou_ring *r, unsigned int n, uint64_t first_ud)
{
	struct io_uring_cqe cqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!iou_pop_cqe(r, &cqe) || cqe.res || cqe.user_data != first_ud + i) {
			fprintf(stderr, "bad or missing CQE %u\n", i);
			return -1;
		}
	}
	return 0;
}

static int run_link2(struct iou_ring *r, uint64_t nr)
{
	uint64_t i;
	int ret;

	for (i = 0; i < nr; i += 2) {
		iou_prep_nop(&r->sqes[0], i + 1);
		r->sqes[0].flags = IOSQE_IO_LINK;
		iou_prep_nop(&r->sqes[1], i + 2);
		ret = iou_enter(r->fd, 2, 2, IORING_ENTER_GETEVENTS);
		if (ret != 2 || reap(r, 2, i + 1)) {
			fprintf(stderr, "link2: enter %d\n", ret);
			return -1;
		}
	}
	return 0;
}

static int run_qd1(struct iou_ring *r, uint64_t nr)
{
	uint64_t i;
	int ret;

	for (i = 0; i < nr; i++) {
		iou_prep_nop(&r->sqes[0], i + 1);
		ret = iou_enter(r->fd, 1, 1, IORING_ENTER_GETEVENTS);
		if (ret != 1 || reap(r, 1, i + 1)) {
			fprintf(stderr, "qd1: enter %d\n", ret);
			return -1;
		}
	}
	return 0;
}

/* The BPF variants: which ops run the NOPs (or empty steps) */
static struct bpf_map *bpf_variant_map(struct nops *skel, const char *variant)
{
	if (!strcmp(variant, "bpf"))
		return skel->maps.nops_ops;
	if (!strcmp(variant, "bpf_inline"))
		return skel->maps.nops_inline_ops;
	if (!strcmp(variant, "bpf_empty"))
		return skel->maps.empty_ops;
	if (!strcmp(variant, "bpf_empty_ns"))
		return skel->maps.empty_ns_ops;
	if (!strcmp(variant, "bpf_regions"))
		return skel->maps.regions_ops;
	return NULL;
}

static int run_bpf(struct iou_ring *r, const char *variant, uint64_t nr,
		   double *seconds)
{
	struct io_uring_region_desc rd;
	struct nops_params *p;
	struct bpf_link *link;
	struct bpf_map *map;
	struct nops *skel;
	int ret;

	p = iou_alloc_region(4096);
	if (!p || iou_register_region(r, p, 4096, &rd))
		return -1;
	p->nr = nr;
	p->qd = 1;
	p->per_step = NOPS_INLINE_MAX;
	skel = nops_load(r->fd);
	if (!skel)
		return -1;
	skel->bss->empty_left = nr;
	map = bpf_variant_map(skel, variant);
	if (!map) {
		fprintf(stderr, "unknown variant %s\n", variant);
		return -1;
	}
	link = bpf_map__attach_struct_ops(map);
	if (!link) {
		fprintf(stderr, "attach: %d\n", -errno);
		return -1;
	}
	*seconds = iou_now();
	ret = iou_enter(r->fd, 0, 0, 0);
	*seconds = iou_now() - *seconds;
	if (map == skel->maps.nops_ops || map == skel->maps.nops_inline_ops) {
		if (!ret && (p->error || p->completed != nr || p->bad_cqes))
			ret = -1;
		fprintf(stderr, "%s: %llu NOPs in %llu loop steps\n", variant,
			(unsigned long long)p->completed, (unsigned long long)p->steps);
	} else if (!ret && skel->bss->empty_left) {
		ret = -1;
	}
	bpf_link__destroy(link);
	nops__destroy(skel);
	return ret;
}

int main(int argc, char **argv)
{
	struct iou_ring r;
	const char *variant;
	double t = 0;
	uint64_t nr;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s link2|qd1|bpf|bpf_inline|bpf_empty|bpf_empty_ns|bpf_regions NR\n",
			argv[0]);
		return 1;
	}
	variant = argv[1];
	nr = strtoull(argv[2], NULL, 0) & ~1ULL;
	ret = iou_setup_flags(NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES, IOU_LOOP_FLAGS, &r);
	if (ret) {
		fprintf(stderr, "setup: %d\n", ret);
		return 1;
	}
	if (!strcmp(variant, "link2")) {
		t = iou_now();
		ret = run_link2(&r, nr);
		t = iou_now() - t;
	} else if (!strcmp(variant, "qd1")) {
		t = iou_now();
		ret = run_qd1(&r, nr);
		t = iou_now() - t;
	} else {
		ret = run_bpf(&r, variant, nr, &t);
	}
	if (ret) {
		fprintf(stderr, "%s failed: %d\n", variant, ret);
		return 1;
	}
	printf("{\"variant\": \"%s\", \"nops\": %llu, \"seconds\": %.6f}\n",
	       variant, (unsigned long long)nr, t);
	iou_exit(&r);
	return 0;
}
