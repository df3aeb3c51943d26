// SPDX-License-Identifier: GPL-2.0
/*
 * Puts two io_uring rings in known states and reports what the application
 * sees of them, for the drgn helper test (selftests/drgn):
 *
 *   iou_ring_report REPORT
 *
 * Ring "bpf": SINGLE_ISSUER | DEFER_TASKRUN with nops.bpf.c's queued_ops
 * installed.  The application queues BPF_QUEUED NOPs; one io_uring_enter(2)
 * runs the BPF loop, which submits and reaps BPF_LOOP_NR of them, so the SQ
 * keeps the rest.
 * Ring "overflow": no BPF ops, a CQ of OVF_CQ entries; more NOPs complete
 * than fit, the rest wait on the kernel's CQ overflow list.
 *
 * Writes "pid N" and one "ring key=value..." line per ring to REPORT
 * (atomically, by rename), then waits for SIGTERM or SIGINT, detaches,
 * closes the rings and exits 0.  Exits 1 with a message on stderr if a
 * ring does not reach the expected state.
 */
#include <signal.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_bpf_info.h"
#include "iou_common.h"
#include "iou_nops.h"

#define BPF_QUEUED	8
#define BPF_LOOP_NR	5
#define BPF_LOOP_QD	2
#define OVF_SQ		8
#define OVF_CQ		8
#define OVF_REAPED	2

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "iou_ring_report: %s: %s\n", what, strerror(err));
	return 1;
}

/* A ring and where its SQ flags are, which struct iou_ring does not keep */
struct ring {
	struct iou_ring r;
	unsigned int *sq_flags;
};

static int ring_setup(struct ring *ring, unsigned int sq, unsigned int cq,
		      unsigned int flags)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = flags | IORING_SETUP_CQSIZE;
	p.cq_entries = cq;
	ret = iou_setup(sq, &p, &ring->r);
	if (!ret)
		ring->sq_flags = ring->r.ring_ptr + p.sq_off.flags;
	return ret;
}

static void report_ring(FILE *f, const char *name, struct ring *ring,
			unsigned int overflow_pending)
{
	struct iou_ring *r = &ring->r;

	fprintf(f, "ring name=%s fd=%d setup_flags=%#x sq_entries=%u cq_entries=%u "
		"sq_head=%u sq_tail=%u cq_head=%u cq_tail=%u sq_flags=%#x "
		"cq_overflow=%u overflow_pending=%u",
		name, r->fd, r->flags, r->sq_entries, r->cq_entries,
		__atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE),
		__atomic_load_n(r->sq_tail, __ATOMIC_ACQUIRE),
		__atomic_load_n(r->cq_head, __ATOMIC_ACQUIRE),
		__atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE),
		__atomic_load_n(ring->sq_flags, __ATOMIC_ACQUIRE),
		__atomic_load_n(r->cq_overflow, __ATOMIC_ACQUIRE),
		overflow_pending);
}

/* BPF_QUEUED NOPs queued, BPF_LOOP_NR of them run by the BPF loop */
static int bpf_ring_setup(struct ring *ring, struct nops **skelp,
			  struct bpf_link **linkp)
{
	struct iou_ring *r = &ring->r;
	struct io_uring_region_desc rd;
	struct qd_params *p;
	struct nops *skel;
	unsigned int i;
	int ret;

	ret = ring_setup(ring, NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES,
			 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
	if (ret)
		return fail("setup of the bpf ring", -ret);
	p = iou_alloc_region(3 * 4096);
	if (!p)
		return fail("region memory", errno);
	ret = iou_register_region(r, p, 3 * 4096, &rd);
	if (ret)
		return fail("IORING_REGISTER_MEM_REGION", -ret);
	p->nr = BPF_LOOP_NR;
	p->qd = BPF_LOOP_QD;
	for (i = 0; i < BPF_QUEUED; i++) {
		struct io_uring_sqe *sqe = iou_get_sqe(r);

		iou_prep_nop(sqe, i + 1);
	}
	iou_flush_sq(r);

	skel = nops_load(r->fd);
	if (!skel)
		return fail("load nops.bpf.o", errno);
	*skelp = skel;
	*linkp = bpf_map__attach_struct_ops(skel->maps.queued_ops);
	if (!*linkp)
		return fail("attach queued_ops", errno);

	ret = iou_enter(r->fd, BPF_QUEUED, 0, 0);
	if (ret < 0)
		return fail("io_uring_enter running the BPF loop", -ret);
	if (p->error || p->completed != BPF_LOOP_NR) {
		fprintf(stderr, "iou_ring_report: BPF loop: error %d, %llu of %u done\n",
			p->error, (unsigned long long)p->completed, BPF_LOOP_NR);
		return 1;
	}
	return 0;
}

/* 2 * OVF_SQ NOPs into a CQ of OVF_CQ entries, OVF_REAPED reaped between */
static int overflow_ring_setup(struct ring *ring, unsigned int *pending)
{
	struct iou_ring *r = &ring->r;
	struct io_uring_cqe cqe;
	unsigned int i, round;
	int ret;

	ret = ring_setup(ring, OVF_SQ, OVF_CQ, 0);
	if (ret)
		return fail("setup of the overflow ring", -ret);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < OVF_SQ; i++)
			iou_prep_nop(iou_get_sqe(r), round * OVF_SQ + i + 1);
		ret = iou_submit(r, 0);
		if (ret != OVF_SQ)
			return fail("submit to the overflow ring", ret < 0 ? -ret : EIO);
		for (i = 0; round == 0 && i < OVF_REAPED; i++)
			if (!iou_pop_cqe(r, &cqe))
				return fail("reap from the overflow ring", EIO);
	}
	/* every NOP completed: its CQE is in the CQ or on the overflow list */
	*pending = 2 * OVF_SQ - __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
	if (!*pending)
		return fail("the CQ did not overflow", EIO);
	return 0;
}

int main(int argc, char **argv)
{
	struct ring bpf_ring = { .r.fd = -1 }, ovf_ring = { .r.fd = -1 };
	struct bpf_map_info info;
	struct bpf_link *link = NULL;
	struct nops *skel = NULL;
	unsigned int pending = 0;
	char tmp[4096];
	FILE *f;
	int ret = 1;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s REPORT\n", argv[0]);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	if (bpf_ring_setup(&bpf_ring, &skel, &link) ||
	    overflow_ring_setup(&ovf_ring, &pending))
		goto out;
	err = map_info(skel->maps.queued_ops, &info);
	if (err) {
		fail("map info of queued_ops", -err);
		goto out;
	}

	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f) {
		fail(tmp, errno);
		goto out;
	}
	fprintf(f, "pid %d\n", getpid());
	report_ring(f, "bpf", &bpf_ring, 0);
	fprintf(f, " bpf_map=%s bpf_map_id=%u bpf_prog=queued_step\n",
		info.name, info.id);
	report_ring(f, "overflow", &ovf_ring, pending);
	fprintf(f, "\n");
	if (fclose(f) || rename(tmp, argv[1])) {
		fail(argv[1], errno);
		goto out;
	}

	while (!stop)
		pause();
	ret = 0;
out:
	bpf_link__destroy(link);
	nops__destroy(skel);
	iou_exit(&ovf_ring.r);
	iou_exit(&bpf_ring.r);
	return ret;
}
