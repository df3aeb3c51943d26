// SPDX-License-Identifier: GPL-2.0
/*
 * Puts a ring with IORING_OP_BPF operations and the BPF loop ops in a known
 * state and reports what the application sees of it, for the drgn helper
 * test (selftests/drgn):
 *
 *   iou_opbpf_report REPORT
 *
 * The ring (BPF_EXT | SINGLE_ISSUER | DEFER_TASKRUN) has opbpf.bpf.c's op0
 * in slot 0 and op1 in slot 3.  One operation of slot 0 runs and completes;
 * then the application submits, without waiting,
 *
 *   READ of an empty pipe -> BPF (slot 0) -> BPF (slot 3)    user_data 10, 11, 12
 *   TIMEOUT of an hour    -> BPF (slot 3)                    user_data 20, 21
 *
 * so that five requests are in flight, three of them BPF operations
 * waiting in their links, and last installs nops.bpf.c's empty_ops as the
 * ring's loop ops (never run: nothing enters the ring again).
 *
 * Writes "pid N", a "ring ..." line, a "loop ..." line, one "op ..." line
 * per slot and one "request ..." line per BPF operation in flight to REPORT
 * (atomically, by rename), then waits for SIGTERM or SIGINT, detaches,
 * closes the ring and exits 0.  Exits 1 with a message on stderr if the
 * ring does not reach that state.
 */
#include <signal.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_bpf_info.h"
#include "iou_common.h"
#include "iou_nops.h"
#include "iou_opbpf.h"
#include "opbpf.skel.h"

#define RING_FLAGS	(IORING_SETUP_BPF_EXT | IORING_SETUP_SINGLE_ISSUER | \
			 IORING_SETUP_DEFER_TASKRUN)
#define SLOT_A		0
#define SLOT_B		3
#define NR_IN_FLIGHT	5

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "iou_opbpf_report: %s: %s\n", what, strerror(err));
	return 1;
}

static struct io_uring_sqe *next_sqe(struct iou_ring *r, uint8_t opcode,
				     uint64_t user_data, uint8_t flags)
{
	struct io_uring_sqe *sqe = iou_get_sqe(r);

	sqe->opcode = opcode;
	sqe->user_data = user_data;
	sqe->flags = flags;
	return sqe;
}

static void bpf_sqe(struct iou_ring *r, unsigned int slot, uint64_t user_data,
		    uint8_t flags)
{
	struct io_uring_sqe *sqe = iou_get_sqe(r);

	io_uring_prep_bpf(sqe, slot, OPB_FLAGS(OPB_RET_ARG, 7), NULL, 0);
	sqe->user_data = user_data;
	sqe->flags = flags;
}

int main(int argc, char **argv)
{
	static struct __kernel_timespec hour = { .tv_sec = 3600 };
	struct bpf_link *la = NULL, *lb = NULL, *loop = NULL;
	struct bpf_map_info ia, ib, il;
	struct opbpf *skel = NULL;
	struct nops *nops = NULL;
	struct io_uring_cqe cqe;
	struct io_uring_sqe *sqe;
	struct iou_ring r = { .fd = -1 };
	int fds[2] = { -1, -1 }, ret = 1, err;
	char buf[16], tmp[4096], progs[256];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s REPORT\n", argv[0]);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	err = iou_setup_flags(NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES, RING_FLAGS, &r);
	if (err)
		return fail("setup", -err);
	skel = opbpf__open();
	if (!skel) {
		fail("open opbpf.bpf.o", errno);
		goto out;
	}
	skel->struct_ops.op0->ring_fd = r.fd;
	skel->struct_ops.op1->ring_fd = r.fd;
	skel->struct_ops.op1->id = SLOT_B;
	skel->struct_ops.op2->ring_fd = r.fd;
	if (opbpf__load(skel)) {
		fail("load opbpf.bpf.o", errno);
		goto out;
	}
	la = bpf_map__attach_struct_ops(skel->maps.op0);
	lb = la ? bpf_map__attach_struct_ops(skel->maps.op1) : NULL;
	if (!la || !lb) {
		fail("attach op0 and op1", errno);
		goto out;
	}

	/* one operation that completes: not in flight */
	bpf_sqe(&r, SLOT_A, 1, 0);
	err = iou_submit(&r, 1);
	if (err != 1 || !iou_pop_cqe(&r, &cqe) || cqe.res != 7) {
		fail("the completed operation", err < 0 ? -err : EIO);
		goto out;
	}

	if (pipe(fds)) {
		fail("pipe", errno);
		goto out;
	}
	sqe = next_sqe(&r, IORING_OP_READ, 10, IOSQE_IO_LINK);
	sqe->fd = fds[0];
	sqe->addr = (uintptr_t)buf;
	sqe->len = sizeof(buf);
	sqe->off = -1;
	bpf_sqe(&r, SLOT_A, 11, IOSQE_IO_LINK);
	bpf_sqe(&r, SLOT_B, 12, 0);
	sqe = next_sqe(&r, IORING_OP_TIMEOUT, 20, IOSQE_IO_LINK);
	sqe->addr = (uintptr_t)&hour;
	sqe->len = 1;
	bpf_sqe(&r, SLOT_B, 21, 0);
	err = iou_submit(&r, 0);
	if (err != NR_IN_FLIGHT || iou_cq_ready(&r)) {
		fail("submitting the links", err < 0 ? -err : EIO);
		goto out;
	}

	nops = nops_load(r.fd);
	if (!nops) {
		fail("load nops.bpf.o", errno);
		goto out;
	}
	loop = bpf_map__attach_struct_ops(nops->maps.empty_ops);
	if (!loop) {
		fail("attach empty_ops", errno);
		goto out;
	}
	err = map_info(skel->maps.op0, &ia);
	err = err ?: map_info(skel->maps.op1, &ib);
	err = err ?: map_info(nops->maps.empty_ops, &il);
	if (err) {
		fail("map info", -err);
		goto out;
	}

	/* op0 and op1 share their programs */
	snprintf(progs, sizeof(progs), "prep_fn=%s issue_fn=%s fail_fn=%s cleanup_fn=%s",
		 bpf_program__name(skel->progs.t_prep), bpf_program__name(skel->progs.t_issue),
		 bpf_program__name(skel->progs.t_fail),
		 bpf_program__name(skel->progs.t_cleanup));
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f) {
		fail(tmp, errno);
		goto out;
	}
	fprintf(f, "pid %d\n", getpid());
	fprintf(f, "ring fd=%d setup_flags=%#x in_flight=%d\n", r.fd, r.flags, NR_IN_FLIGHT);
	fprintf(f, "loop map=%s map_id=%u loop_step=empty_step\n", il.name, il.id);
	fprintf(f, "op slot=%d map=%s map_id=%u in_flight=1 %s\n", SLOT_A, ia.name, ia.id,
		progs);
	fprintf(f, "op slot=%d map=%s map_id=%u in_flight=2 %s\n", SLOT_B, ib.name, ib.id,
		progs);
	fprintf(f, "request user_data=11 slot=%d behind=%d\n", SLOT_A, IORING_OP_READ);
	fprintf(f, "request user_data=12 slot=%d behind=%d\n", SLOT_B, IORING_OP_BPF);
	fprintf(f, "request user_data=21 slot=%d behind=%d\n", SLOT_B, IORING_OP_TIMEOUT);
	if (fclose(f) || rename(tmp, argv[1])) {
		fail(argv[1], errno);
		goto out;
	}

	while (!stop)
		pause();
	ret = 0;
out:
	bpf_link__destroy(loop);
	bpf_link__destroy(lb);
	bpf_link__destroy(la);
	iou_exit(&r);
	nops__destroy(nops);
	opbpf__destroy(skel);
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	return ret;
}
