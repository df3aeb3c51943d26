// SPDX-License-Identifier: GPL-2.0
/*
 * N sequential NOPs, three ways, on the same kind of ring
 * (SINGLE_ISSUER | DEFER_TASKRUN | NO_SQARRAY | SQ_REWIND):
 *
 *   link2  a 2-NOP link chain per io_uring_enter(2), submit and wait
 *   qd1    one NOP per io_uring_enter(2), submit and wait
 *   bpf    the BPF event loop (nops_ops, QD 1): one io_uring_enter(2)
 *
 * and, to see what a loop step costs, steps of the BPF loop that do nothing
 * (bpf_empty, bpf_empty_ns from a non-sleepable program) or only look up
 * the three regions (bpf_regions).
 *
 *   iou_bench VARIANT NR_NOPS   prints {"variant": ..., "nops": N, "seconds": S}
 */
#define _GNU_SOURCE
#include <time.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_common.h"
#include "nops.skel.h"

#define LOOP_FLAGS	(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | \
			 IORING_SETUP_NO_SQARRAY | IORING_SETUP_SQ_REWIND)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

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

int main(int argc, char **argv)
{
	struct iou_region_desc rd;
	struct nops_params *p = NULL;
	struct bpf_link *link = NULL;
	struct nops *skel = NULL;
	struct iou_ring r;
	const char *variant;
	uint64_t nr;
	double t;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s link2|qd1|bpf|bpf_empty|bpf_empty_ns|bpf_regions NR\n",
			argv[0]);
		return 1;
	}
	variant = argv[1];
	nr = strtoull(argv[2], NULL, 0) & ~1ULL;
	ret = iou_setup_flags(NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES, LOOP_FLAGS, &r);
	if (ret) {
		fprintf(stderr, "setup: %d\n", ret);
		return 1;
	}
	if (!strncmp(variant, "bpf", 3)) {
		p = iou_alloc_region(4096);
		if (!p || iou_register_region(&r, p, 4096, &rd))
			return 1;
		p->nr = nr;
		p->qd = 1;
		skel = nops__open();
		if (!skel)
			return 1;
		skel->struct_ops.nops_ops->ring_fd = r.fd;
		skel->struct_ops.queued_ops->ring_fd = r.fd;
	skel->struct_ops.empty_ops->ring_fd = r.fd;
	skel->struct_ops.empty_ns_ops->ring_fd = r.fd;
	skel->struct_ops.regions_ops->ring_fd = r.fd;
		if (nops__load(skel))
			return 1;
		skel->bss->empty_left = nr;
		link = bpf_map__attach_struct_ops(!strcmp(variant, "bpf_empty") ?
						  skel->maps.empty_ops :
						  !strcmp(variant, "bpf_empty_ns") ?
						  skel->maps.empty_ns_ops :
						  !strcmp(variant, "bpf_regions") ?
						  skel->maps.regions_ops :
						  skel->maps.nops_ops);
		if (!link) {
			fprintf(stderr, "attach: %d\n", -errno);
			return 1;
		}
	}

	t = now();
	if (!strcmp(variant, "link2")) {
		ret = run_link2(&r, nr);
	} else if (!strcmp(variant, "qd1")) {
		ret = run_qd1(&r, nr);
	} else if (!strcmp(variant, "bpf")) {
		ret = iou_enter(r.fd, 0, 0, 0);
		if (!ret && (p->error || p->completed != nr || p->bad_cqes))
			ret = -1;
	} else if (!strncmp(variant, "bpf_", 4)) {
		ret = iou_enter(r.fd, 0, 0, 0);
		if (!ret && skel->bss->empty_left)
			ret = -1;
	} else {
		fprintf(stderr, "unknown variant %s\n", variant);
		return 1;
	}
	t = now() - t;
	if (ret) {
		fprintf(stderr, "%s failed: %d\n", variant, ret);
		return 1;
	}
	printf("{\"variant\": \"%s\", \"nops\": %llu, \"seconds\": %.6f}\n",
	       variant, (unsigned long long)nr, t);
	if (link)
		bpf_link__destroy(link);
	if (skel)
		nops__destroy(skel);
	iou_exit(&r);
	return 0;
}
