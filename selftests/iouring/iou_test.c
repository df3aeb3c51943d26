// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the BPF-controlled io_uring series on 6.12: memory regions,
 * IORING_SETUP_SQ_REWIND, and the BPF event loop (attach refusals, errors,
 * lifetime, nops, queue depth, CQ overflow, cp).
 *
 *   iou_test -l        list the test cases
 *   iou_test CASE      run one; exit 0 pass, 1 fail, 4 skip (a missing
 *                      feature; with HARNESS_STRICT=1 that fails instead)
 *
 * run.sh runs every case in its own process and prints KTAP.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_testlib.h"
#include "strict.h"
#include "iou_common.h"
#include "iou_nops.h"
#include "iou_cp.h"
#include "misc.skel.h"
#include "ovf.skel.h"
#include "bad_write.skel.h"
#include "bad_write2.skel.h"
#include "no_step.skel.h"
#include "sleepless.skel.h"
#include "foreign.skel.h"
#include "doc_example.skel.h"

#define MAP_OFF_PARAM_REGION	0x20000000ULL

/* A ring for the BPF loop: SINGLE_ISSUER | DEFER_TASKRUN | NO_SQARRAY | SQ_REWIND */
static int loop_ring(struct iou_ring *r, unsigned int sq, unsigned int cq)
{
	return iou_setup_flags(sq, cq, IOU_LOOP_FLAGS, r);
}

/* ---------------------------------------------------------------- regions */

static int t_region_user(void)
{
	struct io_uring_region_desc rd;
	struct iou_ring r;
	void *mem, *p;
	int ret;

	CHECK(!iou_setup_flags(8, 0, 0, &r), "setup");
	mem = iou_alloc_region(4096);
	CHECK(mem, "alloc");
	ret = iou_register_region(&r, mem, 4096, &rd);
	CHECK(ret == 0, "register user region: %d", ret);
	CHECK(rd.mmap_offset == 0, "mmap_offset %llu for user memory",
	      (unsigned long long)rd.mmap_offset);
	ret = iou_register_region(&r, mem, 4096, &rd);
	CHECK(ret == -EBUSY, "second region: %d", ret);
	/* user memory is not mapped through the ring fd */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd,
		 MAP_OFF_PARAM_REGION);
	CHECK(p == MAP_FAILED, "mmap of a user region");
	iou_exit(&r);
	/* the pages were unpinned, the memory is still ours */
	memset(mem, 0x5a, 4096);
	munmap(mem, 4096);
	return KSFT_PASS;
}

/* Kernel memory, registered through mini_liburing's io_uring_register_region() */
static int t_region_kernel(void)
{
	struct io_uring_mem_region_reg reg = {};
	struct io_uring_region_desc rd = {};
	struct io_uring ring;
	unsigned char *p;
	int i, ret;

	CHECK(!io_uring_queue_init(8, &ring, 0), "setup");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ring.ring_fd,
		 MAP_OFF_PARAM_REGION);
	CHECK(p == MAP_FAILED, "mmap before registration");
	rd.size = 8192;
	reg.region_uptr = (uintptr_t)&rd;
	ret = io_uring_register_region(&ring, &reg);
	CHECK(ret == 0, "register kernel region: %d", ret);
	CHECK(rd.mmap_offset == MAP_OFF_PARAM_REGION, "mmap_offset %#llx",
	      (unsigned long long)rd.mmap_offset);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, ring.ring_fd,
		 rd.mmap_offset);
	CHECK(p != MAP_FAILED, "mmap region: %d", errno);
	for (i = 0; i < 8192; i++)
		CHECK(p[i] == 0, "byte %d not zeroed", i);
	for (i = 0; i < 8192; i++)
		p[i] = i * 7;
	munmap(p, 8192);
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, ring.ring_fd, rd.mmap_offset);
	CHECK(p != MAP_FAILED, "mmap region again: %d", errno);
	for (i = 0; i < 8192; i++)
		CHECK(p[i] == (unsigned char)(i * 7), "byte %d lost", i);
	munmap(p, 8192);
	memset(&rd, 0, sizeof(rd));
	rd.size = 4096;
	ret = io_uring_register_region(&ring, &reg);
	CHECK(ret == -EBUSY, "second region: %d", ret);
	io_uring_queue_exit(&ring);
	return KSFT_PASS;
}

static int region_reg(struct iou_ring *r, struct io_uring_region_desc *rd,
		      uint64_t flags, unsigned int nr)
{
	struct io_uring_mem_region_reg reg = {
		.region_uptr = (uintptr_t)rd,
		.flags = flags,
	};

	return iou_register(r->fd, IORING_REGISTER_MEM_REGION, &reg, nr);
}

static int t_region_bad_args(void)
{
	struct io_uring_mem_region_reg reg;
	struct io_uring_region_desc rd;
	struct iou_ring r;
	char *mem;
	int ret;

	CHECK(!iou_setup_flags(8, 0, 0, &r), "setup");
	mem = iou_alloc_region(8192);
	CHECK(mem, "alloc");

#define BAD(expect, what, ...) do {						\
	memset(&rd, 0, sizeof(rd));						\
	rd.user_addr = (uintptr_t)mem;						\
	rd.size = 4096;								\
	rd.flags = IORING_MEM_REGION_TYPE_USER;					\
	__VA_ARGS__;								\
	ret = region_reg(&r, &rd, 0, 1);					\
	CHECK(ret == (expect), "%s: %d, expected %d", what, ret, expect);	\
} while (0)

	BAD(-EINVAL, "size 0", rd.size = 0);
	BAD(-EINVAL, "size not page aligned", rd.size = 100);
	BAD(-EINVAL, "address not page aligned", rd.user_addr += 8);
	BAD(-EINVAL, "id set", rd.id = 1);
	BAD(-EINVAL, "mmap_offset set", rd.mmap_offset = 4096);
	BAD(-EINVAL, "reserved set", rd.__resv[2] = 1);
	BAD(-EINVAL, "unknown flag", rd.flags |= 2);
	BAD(-EFAULT, "user type without address", rd.user_addr = 0);
	BAD(-EFAULT, "address without user type", rd.flags = 0);
	BAD(-EFAULT, "unmapped user memory", rd.user_addr = 4096);
	BAD(-EOVERFLOW, "address + size overflows",
	    rd.user_addr = -4096ULL; rd.size = 8192);
	/* 2^28 pages: a page array over kvmalloc's INT_MAX bytes */
	BAD(-E2BIG, "user region over the kvmalloc limit", rd.size = 1ULL << 40);
	BAD(-E2BIG, "kernel region over the kvmalloc limit",
	    rd.flags = 0; rd.user_addr = 0; rd.size = 1ULL << 40);

	memset(&rd, 0, sizeof(rd));
	rd.user_addr = (uintptr_t)mem;
	rd.size = 4096;
	rd.flags = IORING_MEM_REGION_TYPE_USER;
	ret = region_reg(&r, &rd, 1, 1);
	CHECK(ret == -EINVAL, "registration flag: %d", ret);
	ret = region_reg(&r, &rd, 0, 2);
	CHECK(ret == -EINVAL, "nr_args 2: %d", ret);
	ret = iou_register(r.fd, IORING_REGISTER_MEM_REGION, NULL, 1);
	CHECK(ret == -EINVAL, "NULL argument: %d", ret);
	ret = iou_register(r.fd, IORING_REGISTER_MEM_REGION, (void *)8, 1);
	CHECK(ret == -EFAULT, "bad argument pointer: %d", ret);
	memset(&reg, 0, sizeof(reg));
	reg.region_uptr = 8;
	ret = iou_register(r.fd, IORING_REGISTER_MEM_REGION, &reg, 1);
	CHECK(ret == -EFAULT, "bad descriptor pointer: %d", ret);
	reg.region_uptr = (uintptr_t)&rd;
	reg.__resv[1] = 1;
	ret = iou_register(r.fd, IORING_REGISTER_MEM_REGION, &reg, 1);
	CHECK(ret == -EINVAL, "reserved registration field: %d", ret);

	/* none of the failures left anything behind */
	ret = region_reg(&r, &rd, 0, 1);
	CHECK(ret == 0, "valid registration after failures: %d", ret);
	iou_exit(&r);
	return KSFT_PASS;
}

/* -------------------------------------------------------------- SQ_REWIND */

static int t_rewind_flags(void)
{
	struct iou_ring r;
	int ret;

	ret = iou_setup_flags(8, 0, IORING_SETUP_SQ_REWIND, &r);
	CHECK(ret == -EINVAL, "SQ_REWIND without NO_SQARRAY: %d", ret);
	ret = iou_setup_flags(8, 0, IORING_SETUP_SQ_REWIND |
			      IORING_SETUP_NO_SQARRAY | IORING_SETUP_SQPOLL, &r);
	CHECK(ret == -EINVAL, "SQ_REWIND with SQPOLL: %d", ret);
	ret = iou_setup_flags(8, 0, IORING_SETUP_SQ_REWIND |
			      IORING_SETUP_NO_SQARRAY, &r);
	CHECK(ret == 0, "SQ_REWIND with NO_SQARRAY: %d", ret);
	iou_exit(&r);
	return KSFT_PASS;
}

/* Submissions through mini_liburing, which places each batch from index 0 */
static int t_rewind_submit(void)
{
	struct io_uring_params params = {
		.flags = IORING_SETUP_SQ_REWIND | IORING_SETUP_NO_SQARRAY,
	};
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int round, i, k, ret;

	CHECK(!io_uring_queue_init_params(8, &ring, &params), "setup");
	for (round = 0; round < 20; round++) {
		k = 1 + round % 8;
		for (i = 0; i < k; i++) {
			sqe = io_uring_get_sqe(&ring);
			CHECK(sqe == &ring.sq.sqes[i], "round %d: SQE %d not at index %d",
			      round, i, i);
			iou_prep_nop(sqe, round * 100 + i);
		}
		if (k == 8)
			CHECK(!io_uring_get_sqe(&ring), "SQE beyond a full SQ");
		ret = io_uring_submit(&ring);
		CHECK(ret == k, "round %d: submitted %d of %d", round, ret, k);
		for (i = 0; i < k; i++) {
			CHECK(!io_uring_wait_cqe(&ring, &cqe), "round %d: CQE %d missing",
			      round, i);
			CHECK(cqe->user_data == (uint64_t)(round * 100 + i) &&
			      cqe->res == 0, "round %d: CQE %d: %llu %d", round, i,
			      (unsigned long long)cqe->user_data, cqe->res);
			io_uring_cqe_seen(&ring);
		}
		CHECK(*ring.cq.khead == *ring.cq.ktail, "extra CQE");
		CHECK(*ring.sq.khead == 0 && *ring.sq.ktail == 0,
		      "SQ head %u tail %u moved", *ring.sq.khead, *ring.sq.ktail);
	}
	/* more than the SQ holds: one SQ worth, from index 0 */
	for (i = 0; i < 8; i++)
		iou_prep_nop(&ring.sq.sqes[i], 1000 + i);
	ret = io_uring_enter(ring.ring_fd, 20, 0, 0, NULL);
	CHECK(ret == 8, "submitted %d of an 8 entry SQ", ret);
	ret = io_uring_enter(ring.ring_fd, 0, 8, IORING_ENTER_GETEVENTS, NULL);
	CHECK(ret == 0, "wait: %d", ret);
	for (i = 0; i < 8; i++) {
		CHECK(!io_uring_wait_cqe(&ring, &cqe) && cqe->user_data == 1000 + i,
		      "CQE %d", i);
		io_uring_cqe_seen(&ring);
	}
	io_uring_queue_exit(&ring);
	return KSFT_PASS;
}

static int t_rewind_drain(void)
{
	struct __kernel_timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
	struct io_uring_cqe cqe = {};
	struct io_uring_sqe *sqe;
	struct iou_ring r;
	int ret;

	CHECK(!iou_setup_flags(8, 0, IORING_SETUP_SQ_REWIND |
			       IORING_SETUP_NO_SQARRAY, &r), "setup");
	sqe = &r.sqes[0];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_TIMEOUT;
	sqe->addr = (uintptr_t)&ts;
	sqe->len = 1;
	sqe->user_data = 1;
	ret = iou_enter(r.fd, 1, 0, 0);
	CHECK(ret == 1, "submit timeout: %d", ret);
	/* same SQ slot: drained after the timeout, whose slot it reuses */
	iou_prep_nop(sqe, 2);
	sqe->flags = IOSQE_IO_DRAIN;
	ret = iou_enter(r.fd, 1, 0, 0);
	CHECK(ret == 1, "submit drained nop: %d", ret);
	/* a firing timeout wakes waiters early: wait for both CQEs */
	while (iou_cq_ready(&r) < 2) {
		ret = iou_enter(r.fd, 0, 2 - iou_cq_ready(&r),
				IORING_ENTER_GETEVENTS);
		CHECK(ret == 0, "wait: %d", ret);
	}
	CHECK(iou_pop_cqe(&r, &cqe) && cqe.user_data == 1 && cqe.res == -ETIME,
	      "first CQE %llu %d", (unsigned long long)cqe.user_data, cqe.res);
	CHECK(iou_pop_cqe(&r, &cqe) && cqe.user_data == 2 && cqe.res == 0,
	      "second CQE %llu %d", (unsigned long long)cqe.user_data, cqe.res);
	iou_exit(&r);
	return KSFT_PASS;
}

/* ------------------------------------------------------- attach and loop */

static struct misc *misc_load(int ring_fd)
{
	struct misc *skel = misc__open();

	if (!skel)
		return NULL;
	skel->struct_ops.stop_ops->ring_fd = ring_fd;
	skel->struct_ops.stop2_ops->ring_fd = ring_fd;
	skel->struct_ops.bad_ops->ring_fd = ring_fd;
	skel->struct_ops.wait_ops->ring_fd = ring_fd;
	skel->struct_ops.region_ops->ring_fd = ring_fd;
	skel->struct_ops.spin_ops->ring_fd = ring_fd;
	skel->struct_ops.seen_ops->ring_fd = ring_fd;
	skel->struct_ops.buf_ops->ring_fd = ring_fd;
	skel->struct_ops.peek_ops->ring_fd = ring_fd;
	if (misc__load(skel)) {
		misc__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Attach @map, expecting failure with @err (0: success) */
static struct bpf_link *attach_expect(struct bpf_map *map, int err)
{
	struct bpf_link *link;

	errno = 0;
	link = bpf_map__attach_struct_ops(map);
	if (err == 0)
		return link;
	if (link) {
		printf("attach of %s succeeded, expected %d\n",
		       bpf_map__name(map), -err);
		bpf_link__destroy(link);
		return NULL;
	}
	if (errno != err) {
		printf("attach of %s failed with %d, expected %d\n",
		       bpf_map__name(map), -errno, -err);
		return NULL;
	}
	return (struct bpf_link *)1;
}

/* One NOP through the plain submit and wait path */
static int nop_roundtrip(struct iou_ring *r, uint64_t ud)
{
	struct io_uring_cqe cqe = {};
	int ret;

	if (r->flags & IORING_SETUP_SQ_REWIND) {
		iou_prep_nop(&r->sqes[0], ud);
		ret = iou_enter(r->fd, 1, 1, IORING_ENTER_GETEVENTS);
	} else {
		iou_prep_nop(iou_get_sqe(r), ud);
		ret = iou_submit(r, 1);
	}
	if (ret != 1) {
		printf("plain submit after the loop: %d\n", ret);
		return -1;
	}
	if (!iou_pop_cqe(r, &cqe) || cqe.user_data != ud || cqe.res) {
		printf("plain NOP CQE missing or wrong\n");
		return -1;
	}
	return 0;
}

static int t_attach_stop(void)
{
	struct bpf_link *link;
	struct iou_ring r;
	struct misc *skel;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.stop_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0 && skel->bss->steps == 1, "loop: %d, %llu steps", ret,
	      (unsigned long long)skel->bss->steps);
	/* the syscall arguments do not matter to the loop */
	iou_prep_nop(&r.sqes[0], 1);
	ret = iou_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS);
	CHECK(ret == 0 && skel->bss->steps == 2, "loop: %d, %llu steps", ret,
	      (unsigned long long)skel->bss->steps);
	CHECK(iou_cq_ready(&r) == 0, "the loop submitted the SQ itself");
	bpf_link__destroy(link);
	/* without ops the ring works as before */
	CHECK(!nop_roundtrip(&r, 7), "plain ring after detach");
	CHECK(skel->bss->steps == 2, "steps after detach");
	misc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int refuse_ring(unsigned int flags, int err, const char *what)
{
	struct bpf_link *link;
	struct iou_ring r;
	struct misc *skel;
	int ret;

	ret = iou_setup_flags(8, 0, flags, &r);
	CHECK(ret == 0, "%s: setup: %d", what, ret);
	skel = misc_load(r.fd);
	CHECK(skel, "%s: load", what);
	link = attach_expect(skel->maps.stop_ops, err);
	CHECK(link, "%s refused wrongly", what);
	/* refused, so the ring does what the syscall says */
	if (!(flags & (IORING_SETUP_SQPOLL | IORING_SETUP_IOPOLL))) {
		CHECK(!nop_roundtrip(&r, 3), "%s: plain submit", what);
		CHECK(skel->bss->steps == 0, "%s: loop ran", what);
	}
	misc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_attach_sqpoll(void)
{
	return refuse_ring(IORING_SETUP_SQPOLL, EOPNOTSUPP, "SQPOLL");
}

static int t_attach_iopoll(void)
{
	if (refuse_ring(IORING_SETUP_IOPOLL, EOPNOTSUPP, "IOPOLL"))
		return KSFT_FAIL;
	return refuse_ring(IORING_SETUP_IOPOLL | IORING_SETUP_SINGLE_ISSUER |
			   IORING_SETUP_DEFER_TASKRUN, EOPNOTSUPP,
			   "IOPOLL with DEFER_TASKRUN");
}

static int t_attach_no_defer_taskrun(void)
{
	if (refuse_ring(0, EOPNOTSUPP, "plain ring"))
		return KSFT_FAIL;
	if (refuse_ring(IORING_SETUP_SINGLE_ISSUER, EOPNOTSUPP, "SINGLE_ISSUER"))
		return KSFT_FAIL;
	return refuse_ring(IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
			   EOPNOTSUPP, "COOP_TASKRUN");
}

static int t_attach_busy(void)
{
	struct bpf_link *link, *link2;
	struct iou_ring r;
	struct misc *skel;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.stop_ops, 0);
	CHECK(link, "attach: %d", -errno);
	CHECK(attach_expect(skel->maps.stop2_ops, EBUSY), "second ops");
	CHECK(attach_expect(skel->maps.stop_ops, EBUSY), "same map again");
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0 && skel->bss->steps == 1, "loop: %d", ret);
	bpf_link__destroy(link);
	/* free again */
	link2 = attach_expect(skel->maps.stop2_ops, 0);
	CHECK(link2, "attach after detach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0 && skel->bss->steps == 2, "loop: %d", ret);
	bpf_link__destroy(link2);
	misc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int bad_fd_case(int fd, int err, const char *what)
{
	struct misc *skel = misc_load(fd);

	CHECK(skel, "%s: load", what);
	CHECK(attach_expect(skel->maps.stop_ops, err), "%s", what);
	misc__destroy(skel);
	return KSFT_PASS;
}

static int t_attach_bad_fd(void)
{
	return bad_ring_fds(bad_fd_case);
}

static int t_attach_no_loop_step(void)
{
	struct bpf_link *link;
	struct no_step *skel;
	struct iou_ring r;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	skel = no_step__open();
	CHECK(skel, "open");
	skel->struct_ops.no_step_ops->ring_fd = r.fd;
	libbpf_quiet = true;
	ret = no_step__load(skel);
	libbpf_quiet = false;
	if (!ret) {
		link = bpf_map__attach_struct_ops(skel->maps.no_step_ops);
		CHECK(!link, "ops without loop_step attached");
		ret = -errno;
	}
	CHECK(ret == -EINVAL, "ops without loop_step: %d", ret);
	no_step__destroy(skel);
	CHECK(!nop_roundtrip(&r, 5), "plain ring");
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_verifier_bad_write(void)
{
	const char *msg = "only iou_loop_params->cq_wait_idx is writable";

	/* ring->cq_entries */
	if (LOAD_MUST_FAIL(bad_write, msg))
		return KSFT_FAIL;
	/* past params->cq_wait_idx */
	return LOAD_MUST_FAIL(bad_write2, msg);
}

static int t_verifier_sleepable_kfunc(void)
{
	return LOAD_MUST_FAIL(sleepless, "program must be sleepable to call sleepable kfunc bpf_io_uring_submit_sqes");
}

static int t_verifier_foreign_struct_ops(void)
{
	return LOAD_MUST_FAIL(foreign, "calling kernel function bpf_io_uring_get_region is not allowed");
}

static int t_loop_bad_return(void)
{
	struct bpf_link *link;
	struct iou_ring r;
	struct misc *skel;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.bad_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == -EINVAL && skel->bss->steps == 1, "return 7: %d, %llu steps",
	      ret, (unsigned long long)skel->bss->steps);
	skel->data->bad_ret = -1;
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == -EINVAL && skel->bss->steps == 2, "return -1: %d", ret);
	skel->data->bad_ret = 1;	/* IOU_LOOP_STOP */
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0 && skel->bss->steps == 3, "return STOP: %d", ret);
	bpf_link__destroy(link);
	misc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static void on_signal(int sig)
{
}

struct helper {
	pthread_t thread;
	pthread_t target;
	struct misc *skel;
	struct bpf_link *link;
	int ring_fd;
	int action;
	int ret;
};

enum {
	HELP_SIGNAL,
	HELP_DETACH,
	HELP_CLOSE_DETACH,
	HELP_ENTER,
};

/* Waits until the loop sleeps, then ends it from outside */
static void *helper_fn(void *arg)
{
	struct helper *h = arg;
	int i;

	if (h->action == HELP_ENTER) {
		h->ret = iou_enter(h->ring_fd, 0, 0, 0);
		return NULL;
	}
	for (i = 0; i < 500 && !__atomic_load_n(&h->skel->bss->steps, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	usleep(200000);
	switch (h->action) {
	case HELP_SIGNAL:
		pthread_kill(h->target, SIGUSR1);
		break;
	case HELP_CLOSE_DETACH:
		close(h->ring_fd);
		usleep(100000);
		/* fallthrough */
	case HELP_DETACH:
		bpf_link__destroy(h->link);
		h->link = NULL;
		break;
	}
	return NULL;
}

static int run_waiting_loop(int action, int expect)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct helper h = { .action = action };
	struct iou_ring r;
	double t0;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	h.skel = misc_load(r.fd);
	CHECK(h.skel, "load");
	h.link = attach_expect(h.skel->maps.wait_ops, 0);
	CHECK(h.link, "attach: %d", -errno);
	h.ring_fd = r.fd;
	h.target = pthread_self();
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
	CHECK(!pthread_create(&h.thread, NULL, helper_fn, &h), "thread");
	t0 = iou_now();
	ret = iou_enter(r.fd, 0, 0, 0);
	pthread_join(h.thread, NULL);
	CHECK(ret == expect, "loop ended with %d, expected %d", ret, expect);
	/* it slept rather than spun */
	CHECK(h.skel->bss->steps >= 1 && h.skel->bss->steps < 100,
	      "%llu steps in %.2fs", (unsigned long long)h.skel->bss->steps,
	      iou_now() - t0);
	if (action == HELP_CLOSE_DETACH) {
		/* the mappings hold the last reference to the ring */
		munmap(r.sqes, r.sqes_sz);
		munmap(r.ring_ptr, r.ring_sz);
		misc__destroy(h.skel);
		return KSFT_PASS;
	}
	if (h.link)
		bpf_link__destroy(h.link);
	CHECK(!nop_roundtrip(&r, 9), "plain ring after the loop");
	misc__destroy(h.skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_loop_eintr(void)
{
	return run_waiting_loop(HELP_SIGNAL, -EINTR);
}

static int t_loop_detach_running(void)
{
	return run_waiting_loop(HELP_DETACH, -EFAULT);
}

static int t_loop_close_ring_running(void)
{
	return run_waiting_loop(HELP_CLOSE_DETACH, -EFAULT);
}

/* The state letter in /proc/.../stat at @path ("pid (comm) state ..."), or '?' */
static char proc_state(const char *path)
{
	char st[512];
	char state = '?';
	FILE *f;
	char *p;

	f = fopen(path, "r");
	if (f && fgets(st, sizeof(st), f)) {
		/* comm may hold spaces */
		p = strrchr(st, ')');
		if (p && p[1] == ' ')
			state = p[2];
	}
	if (f)
		fclose(f);
	return state;
}

static char task_state(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	return proc_state(path);
}

/*
 * Waits up to @seconds for task @pid to sleep in io_uring_enter: the
 * syscall number /proc/PID/syscall shows (its first field, "running" or -1
 * when the task is not blocked in a syscall) and state S in /proc/PID/stat.
 * Says what it saw; returns 0 once both hold, -1 otherwise.
 */
static int wait_asleep_in_enter(pid_t pid, double seconds)
{
	char path[64], sc[256] = "";
	double t0 = iou_now();
	char state = '?';
	FILE *f;

	do {
		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		f = fopen(path, "r");
		if (!f || !fgets(sc, sizeof(sc), f))
			snprintf(sc, sizeof(sc), "unreadable (%s)", strerror(errno));
		if (f)
			fclose(f);
		sc[strcspn(sc, "\n")] = 0;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		state = proc_state(path);
		if (state == 'S' && atoi(sc) == __NR_io_uring_enter) {
			printf("child %d asleep in io_uring_enter (syscall %d) after %.2fs: /proc/%d/syscall \"%s\", state %c\n",
			       pid, __NR_io_uring_enter, iou_now() - t0, pid, sc, state);
			return 0;
		}
		usleep(10000);
	} while (iou_now() - t0 < seconds);
	printf("child %d not asleep in io_uring_enter (syscall %d) within %.0fs: /proc/%d/syscall \"%s\", state %c\n",
	       pid, __NR_io_uring_enter, seconds, pid, sc, state);
	return -1;
}

/*
 * In a forked child: a loop ring with wait_ops attached, then one byte on
 * @notify_fd for the parent.  Ends the child (status 2 to 5) on failure.
 */
static struct bpf_link *child_attach_wait(struct iou_ring *r, struct misc **skel,
					  int notify_fd)
{
	struct bpf_link *link;
	char c = 0;

	if (loop_ring(r, 8, 0))
		_exit(2);
	*skel = misc_load(r->fd);
	if (!*skel)
		_exit(3);
	link = bpf_map__attach_struct_ops((*skel)->maps.wait_ops);
	if (!link)
		_exit(4);
	if (write(notify_fd, &c, 1) != 1)
		_exit(5);
	return link;
}

/* A task killed while its loop sleeps: the syscall ends, exit tears down */
static int t_loop_killed(void)
{
	int status, i, pipefd[2];
	char c = 0;
	pid_t pid;

	CHECK(!pipe(pipefd), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		struct iou_ring r;
		struct misc *skel;

		close(pipefd[0]);
		child_attach_wait(&r, &skel, pipefd[1]);
		iou_enter(r.fd, 0, 0, 0);
		_exit(6);
	}
	close(pipefd[1]);
	CHECK(read(pipefd[0], &c, 1) == 1, "child did not attach");
	if (wait_asleep_in_enter(pid, 30)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(0, "the kill would not hit the sleeping loop");
	}
	CHECK(!kill(pid, SIGKILL), "kill");
	for (i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	CHECK(i < 1000, "killed task still in its loop");
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "child status %#x", status);
	/* let the ring and the link go away before the next test */
	usleep(300000);
	return KSFT_PASS;
}

static int t_loop_other_task(void)
{
	struct helper h = { .action = HELP_ENTER };
	struct bpf_link *link;
	struct iou_ring r;
	struct misc *skel;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.stop_ops, 0);
	CHECK(link, "attach: %d", -errno);
	h.ring_fd = r.fd;
	CHECK(!pthread_create(&h.thread, NULL, helper_fn, &h), "thread");
	pthread_join(h.thread, NULL);
	CHECK(h.ret == -EEXIST, "enter from another task: %d", h.ret);
	CHECK(skel->bss->steps == 0, "loop ran in another task");
	CHECK(iou_enter(r.fd, 0, 0, 0) == 0 && skel->bss->steps == 1, "submitter");
	bpf_link__destroy(link);
	misc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_ring_freed_before_link(void)
{
	struct bpf_link *link, *link2;
	struct iou_ring r, r2;
	struct misc *skel;
	int fd, ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	fd = r.fd;
	skel = misc_load(fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.stop_ops, 0);
	CHECK(link, "attach: %d", -errno);
	CHECK(iou_enter(fd, 0, 0, 0) == 0, "loop");
	/* free the ring with the ops installed, the link stays */
	iou_exit(&r);
	usleep(500000);
	/* a new ring at the same fd number takes the same map */
	CHECK(!loop_ring(&r2, 8, 0), "setup 2");
	if (r2.fd != fd) {
		CHECK(dup2(r2.fd, fd) == fd, "dup2");
		close(r2.fd);
		r2.fd = fd;
	}
	/* the ops left the freed ring, but the map is taken until its link goes */
	link2 = attach_expect(skel->maps.stop_ops, EBUSY);
	CHECK(link2, "map linked twice");
	CHECK(iou_enter(r2.fd, 0, 0, 0) == 0 && skel->bss->steps == 1,
	      "the new ring has no ops but ran a loop");
	bpf_link__destroy(link);
	link2 = attach_expect(skel->maps.stop_ops, 0);
	CHECK(link2, "map free after its ring and link went: %d", -errno);
	ret = iou_enter(r2.fd, 0, 0, 0);
	CHECK(ret == 0 && skel->bss->steps == 2, "loop on the new ring: %d", ret);
	/* and now the link goes first */
	bpf_link__destroy(link2);
	CHECK(!nop_roundtrip(&r2, 11), "plain ring");
	misc__destroy(skel);
	iou_exit(&r2);
	return KSFT_PASS;
}

/*
 * As mainline, the first step runs before the loop looks at signals: a
 * signal pending when io_uring_enter(2) starts ends the loop after one
 * step.  A signal cannot be pending at syscall entry on its own (it is
 * delivered on the way back to user space), so a tracer stops the child at
 * the entry of io_uring_enter, queues SIGUSR1 and lets the syscall run.
 */
static int t_loop_signal_pending_at_entry(void)
{
	struct __ptrace_syscall_info info;
	int status, i, pipefd[2];
	bool at_enter = false;
	char c = 0;
	pid_t pid;

	CHECK(!pipe(pipefd), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_signal };
		struct bpf_link *link;
		struct iou_ring r;
		struct misc *skel;
		int ret;

		close(pipefd[0]);
		sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
		link = child_attach_wait(&r, &skel, pipefd[1]);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(6);
		raise(SIGSTOP);
		ret = iou_enter(r.fd, 0, 0, 0);
		if (ret != -EINTR || skel->bss->steps != 1) {
			printf("signal pending at entry: loop ended with %d after %llu steps, expected %d after 1\n",
			       ret, (unsigned long long)skel->bss->steps, -EINTR);
			_exit(1);
		}
		bpf_link__destroy(link);
		if (nop_roundtrip(&r, 12))
			_exit(7);
		_exit(0);
	}
	close(pipefd[1]);
	CHECK(read(pipefd[0], &c, 1) == 1, "child did not attach");
	CHECK(waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) &&
	      WSTOPSIG(status) == SIGSTOP, "child not stopped: %#x", status);
	CHECK(!ptrace(PTRACE_SETOPTIONS, pid, NULL,
		      (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)),
	      "PTRACE_SETOPTIONS: %s", strerror(errno));
	for (i = 0; i < 100 && !at_enter; i++) {
		CHECK(!ptrace(PTRACE_SYSCALL, pid, NULL, NULL), "PTRACE_SYSCALL: %s",
		      strerror(errno));
		CHECK(waitpid(pid, &status, 0) == pid && WIFSTOPPED(status),
		      "child status %#x", status);
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		memset(&info, 0, sizeof(info));
		CHECK(ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info),
			     &info) > 0, "PTRACE_GET_SYSCALL_INFO: %s", strerror(errno));
		at_enter = info.op == PTRACE_SYSCALL_INFO_ENTRY &&
			   info.entry.nr == __NR_io_uring_enter;
	}
	if (!at_enter) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(0, "child never entered io_uring_enter");
	}
	/* stopped at the entry: the signal stays pending while the syscall runs */
	CHECK(!kill(pid, SIGUSR1), "kill");
	CHECK(!ptrace(PTRACE_DETACH, pid, NULL, NULL), "PTRACE_DETACH: %s",
	      strerror(errno));
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child status %#x", status);
	return KSFT_PASS;
}

/*
 * As mainline, deferred completions are run after a step, not before the
 * first: a READ submitted before the loop, whose data arrived before it
 * (its completion queued as deferred task_work), is seen by the second step.
 */
static int t_loop_first_step_cqes(void)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe = {};
	struct bpf_link *link;
	struct iou_ring r;
	struct misc *skel;
	int ret, pipefd[2];
	char buf[8];

	CHECK(!pipe(pipefd), "pipe");
	CHECK(!loop_ring(&r, 8, 0), "setup");
	sqe = &r.sqes[0];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ;
	sqe->fd = pipefd[0];
	sqe->addr = (uintptr_t)buf;
	sqe->len = sizeof(buf);
	sqe->user_data = 5;
	ret = iou_enter(r.fd, 1, 0, 0);
	CHECK(ret == 1, "submit read: %d", ret);
	CHECK(write(pipefd[1], "x", 1) == 1, "write");
	CHECK(iou_cq_ready(&r) == 0, "the read completed without task_work");
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.seen_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0 && skel->bss->steps == 2, "loop: %d after %llu steps", ret,
	      (unsigned long long)skel->bss->steps);
	CHECK(skel->data->seen_tail0 == 0 && skel->data->seen_tail1 == 1,
	      "CQ tail %u at the first step, %u at the second; expected 0, 1",
	      skel->data->seen_tail0, skel->data->seen_tail1);
	CHECK(iou_pop_cqe(&r, &cqe) && cqe.user_data == 5 && cqe.res == 1,
	      "read CQE %llu %d", (unsigned long long)cqe.user_data, cqe.res);
	bpf_link__destroy(link);
	misc__destroy(skel);
	iou_exit(&r);
	close(pipefd[0]);
	close(pipefd[1]);
	return KSFT_PASS;
}

struct spinner {
	pthread_t thread;
	struct misc *skel;
	struct bpf_link *link;
	struct iou_ring ring;
	int ready;	/* 1 attached, -1 failed */
	int ret;
	pid_t detach_tid;
	int detached;
	int ended;	/* the loop returned */
	bool plain_ok;	/* a NOP through the plain path after the detach */
};

/* Creates the ring (the loop must run in its submitter) and spins in its loop */
static void *spinner_fn(void *arg)
{
	struct spinner *s = arg;
	int i;

	if (loop_ring(&s->ring, 8, 0))
		goto fail;
	s->skel = misc_load(s->ring.fd);
	if (!s->skel)
		goto fail;
	s->link = bpf_map__attach_struct_ops(s->skel->maps.spin_ops);
	if (!s->link)
		goto fail;
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	s->ret = iou_enter(s->ring.fd, 0, 0, 0);
	__atomic_store_n(&s->ended, 1, __ATOMIC_RELEASE);
	/* once the link went, the ring works as before, for its submitter */
	for (i = 0; i < 3000 && !__atomic_load_n(&s->detached, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	s->plain_ok = __atomic_load_n(&s->detached, __ATOMIC_ACQUIRE) &&
		      !nop_roundtrip(&s->ring, 13);
	return NULL;
fail:
	__atomic_store_n(&s->ready, -1, __ATOMIC_RELEASE);
	return NULL;
}

/* Destroys the spinning ring's link: waits for its ->uring_lock */
static void *detacher_fn(void *arg)
{
	struct spinner *s = arg;

	__atomic_store_n(&s->detach_tid, gettid(), __ATOMIC_RELEASE);
	bpf_link__destroy(s->link);
	__atomic_store_n(&s->detached, 1, __ATOMIC_RELEASE);
	return NULL;
}


/* What a sleeping task waits for, from /proc (CONFIG_STACKTRACE) */
static void show_task_stack(pid_t tid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
}

/*
 * A loop that keeps returning IOU_LOOP_CONTINUE holds its ring's
 * ->uring_lock (here for seconds within each step, so that the lock is
 * never dropped for task_work in between); destroying its link waits for
 * that lock, holding the lock that orders attach and detach.  Freeing any
 * other ring, one without ops, must not wait behind them: as mainline, it
 * looks for ops under its own ->uring_lock first.  The ring freed holds
 * the write end of a pipe as a registered file, so the reader sees EOF once
 * the ring is gone.  Kept under the soft lockup threshold: the step spins
 * for SPIN_FREE_TIMEOUT_MS at most.
 */
#define SPIN_FREE_TIMEOUT_MS	8000

static int t_ring_free_while_loop_spins(void)
{
	struct spinner s = {};
	pthread_t detacher;
	struct pollfd pfd;
	int i, ret, pipefd[2];
	double t0, freed = -1;
	struct iou_ring b;
	char state = '?';
	char c;

	CHECK(!pthread_create(&s.thread, NULL, spinner_fn, &s), "thread");
	for (i = 0; i < 3000 && !__atomic_load_n(&s.ready, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	CHECK(__atomic_load_n(&s.ready, __ATOMIC_ACQUIRE) == 1, "spinning ring not attached");
	for (i = 0; i < 3000 && !__atomic_load_n(&s.skel->bss->steps, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	CHECK(s.skel->bss->steps, "the loop does not run");

	CHECK(!pthread_create(&detacher, NULL, detacher_fn, &s), "thread");
	/* until the detacher sleeps on the spinning ring's lock */
	for (i = 0; i < 1000; i++) {
		pid_t tid = __atomic_load_n(&s.detach_tid, __ATOMIC_ACQUIRE);

		if (tid && (state = task_state(tid)) == 'D')
			break;
		usleep(10000);
	}
	printf("detacher state %c after %.2fs, %llu steps\n", state, i / 100.0,
	       (unsigned long long)s.skel->bss->steps);
	if (state == 'D')
		show_task_stack(s.detach_tid);
	ret = __atomic_load_n(&s.detached, __ATOMIC_ACQUIRE) ||
	      __atomic_load_n(&s.ended, __ATOMIC_ACQUIRE);

	/* a plain ring holding the only write end of a pipe, freed now */
	CHECK(!pipe(pipefd), "pipe");
	CHECK(!iou_setup_flags(8, 0, 0, &b), "setup");
	CHECK(iou_register(b.fd, IORING_REGISTER_FILES, &pipefd[1], 1) == 0,
	      "register file");
	close(pipefd[1]);
	t0 = iou_now();
	iou_exit(&b);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, SPIN_FREE_TIMEOUT_MS) == 1 && read(pipefd[0], &c, 1) == 0)
		freed = iou_now() - t0;

	ret = ret || __atomic_load_n(&s.detached, __ATOMIC_ACQUIRE) ||
	      __atomic_load_n(&s.ended, __ATOMIC_ACQUIRE);

	/* end the loop: the detach and anything behind it proceed */
	__atomic_store_n(&s.skel->bss->spin_release, 1, __ATOMIC_RELEASE);
	pthread_join(s.thread, NULL);
	pthread_join(detacher, NULL);
	close(pipefd[0]);
	CHECK(!ret, "the link went or the loop ended before the ring was freed");
	CHECK(freed >= 0, "a ring without ops was not freed within %ds while another ring's detach waited for its spinning loop",
	      SPIN_FREE_TIMEOUT_MS / 1000);
	printf("ring freed in %.2fs, %llu steps\n", freed,
	       (unsigned long long)s.skel->bss->steps);
	CHECK(s.ret == 0, "spinning loop ended with %d", s.ret);
	CHECK(s.plain_ok, "plain ring after the loop and the detach");
	misc__destroy(s.skel);
	iou_exit(&s.ring);
	return KSFT_PASS;
}

/*
 * Register opcodes 6.12 does not implement, 31 to 33 (SEND_MSG_RING,
 * ZCRX_IFQ, RESIZE_RINGS in later kernels), below IORING_REGISTER_MEM_REGION
 * at mainline's 34: -EINVAL whatever the fd, as without the series.
 */
static int t_register_unknown_opcodes(void)
{
	struct io_uring_restriction res;
	struct iou_ring r, rd;
	unsigned int op;
	int ret;

	CHECK(IORING_REGISTER_MEM_REGION == 34, "IORING_REGISTER_MEM_REGION is %d",
	      IORING_REGISTER_MEM_REGION);
	CHECK(!iou_setup_flags(8, 0, 0, &r), "setup");
	CHECK(!iou_setup_flags(8, 0, IORING_SETUP_R_DISABLED, &rd), "setup disabled");
	for (op = 31; op <= 33; op++) {
		ret = iou_register(-1, op, NULL, 0);
		CHECK(ret == -EINVAL, "opcode %u, fd -1: %d", op, ret);
		ret = iou_register(r.fd, op, NULL, 0);
		CHECK(ret == -EINVAL, "opcode %u, ring fd: %d", op, ret);
		ret = iou_register(r.fd, op | IORING_REGISTER_USE_REGISTERED_RING,
				   NULL, 0);
		CHECK(ret == -EINVAL, "opcode %u, registered ring index: %d", op, ret);
		memset(&res, 0, sizeof(res));
		res.opcode = IORING_RESTRICTION_REGISTER_OP;
		res.register_op = op;
		ret = iou_register(rd.fd, IORING_REGISTER_RESTRICTIONS, &res, 1);
		CHECK(ret == -EINVAL, "restriction to opcode %u: %d", op, ret);
	}
	ret = iou_register(-1, IORING_REGISTER_LAST, NULL, 0);
	CHECK(ret == -EINVAL, "IORING_REGISTER_LAST, fd -1: %d", ret);
	/* implemented opcodes look at the fd first, as before */
	ret = iou_register(-1, IORING_REGISTER_MEM_REGION, NULL, 1);
	CHECK(ret == -EBADF, "IORING_REGISTER_MEM_REGION, fd -1: %d", ret);
	ret = iou_register(-1, IORING_REGISTER_BUFFERS, NULL, 1);
	CHECK(ret == -EBADF, "IORING_REGISTER_BUFFERS, fd -1: %d", ret);
	iou_exit(&rd);
	iou_exit(&r);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- regions from BPF */

static int region_bpf(bool kernel_mem, bool none)
{
	struct io_uring_region_desc rd;
	struct bpf_link *link;
	size_t size = kernel_mem ? 8192 : 4096;
	struct iou_ring r;
	struct misc *skel;
	uint64_t *mem = NULL;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	if (!none) {
		if (kernel_mem) {
			CHECK(!iou_register_region(&r, NULL, size, &rd), "register");
			mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				   r.fd, rd.mmap_offset);
			CHECK(mem != MAP_FAILED, "mmap");
		} else {
			mem = iou_alloc_region(size);
			CHECK(mem && !iou_register_region(&r, mem, size, &rd),
			      "register");
		}
		mem[0] = REGION_MAGIC_APP;
	}
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	skel->data->region_mem_size = size;
	link = attach_expect(skel->maps.region_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0, "loop: %d", ret);
	CHECK(skel->bss->region_cq_over_null, "CQ region larger than the ring");
	CHECK(skel->bss->region_bad_id_null, "unknown region id");
	CHECK(skel->bss->region_sq_ok, "SQ region");
	if (none) {
		CHECK(!skel->bss->region_mem_ok, "MEM region without one");
	} else {
		CHECK(skel->bss->region_mem_ok, "MEM region");
		CHECK(skel->bss->region_mem_over_null, "MEM region beyond its size");
		CHECK(skel->bss->region_seen == REGION_MAGIC_APP,
		      "BPF read %#llx", (unsigned long long)skel->bss->region_seen);
		CHECK(mem[1] == REGION_MAGIC_BPF && mem[511] == REGION_MAGIC_APP + 1,
		      "BPF writes not seen");
		if (kernel_mem)
			CHECK(mem[1023] == REGION_MAGIC_BPF, "end of the region");
	}
	bpf_link__destroy(link);
	misc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_region_bpf_user(void)
{
	return region_bpf(false, false);
}

static int t_region_bpf_kernel(void)
{
	return region_bpf(true, false);
}

static int t_region_bpf_none(void)
{
	return region_bpf(false, true);
}

/* ------------------------------------------------- registered buffers */

enum buf_setup { BUF_NONE, BUF_SPARSE, BUF_REAL };

#define BUF_LEN		(3 * 4096)
/* buffer 0 starts this far into a page: the bvecs do not start aligned */
#define BUF_SKEW	100
/* offsets in buffer 0 where its second and third pages start */
#define BUF_PAGE2	(4096 - BUF_SKEW)
#define BUF_PAGE3	(2 * 4096 - BUF_SKEW)

static inline uint8_t buf_pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/*
 * buf_step of misc.bpf.c reads 64 bytes across the first page boundary of
 * buffer 0, writes 64 across the second, takes a 16-byte slice, and tries
 * each refusal: checked byte for byte against the test's own memory.
 */
static int loop_buf(enum buf_setup setup)
{
	struct io_uring_rsrc_register rr = {
		.nr = 4, .flags = IORING_RSRC_REGISTER_SPARSE,
	};
	uint8_t *mem = NULL, *buf0 = NULL, *buf1 = NULL;
	struct iovec iov[2];
	struct bpf_link *link;
	struct iou_ring r;
	struct misc *skel;
	size_t i;
	int ret;

	CHECK(!loop_ring(&r, 8, 0), "setup");
	if (setup == BUF_SPARSE) {
		ret = iou_register(r.fd, IORING_REGISTER_BUFFERS2, &rr, sizeof(rr));
		CHECK(ret == 0, "sparse registration: %d", ret);
	} else if (setup == BUF_REAL) {
		CHECK(!posix_memalign((void **)&mem, 4096, BUF_LEN + 2 * 4096),
		      "alloc");
		buf0 = mem + BUF_SKEW;
		buf1 = mem + BUF_LEN + 4096;
		for (i = 0; i < BUF_LEN; i++)
			buf0[i] = buf_pattern(i);
		memset(buf1, 0x5a, 4096);
		iov[0] = (struct iovec){ buf0, BUF_LEN };
		iov[1] = (struct iovec){ buf1, 4096 };
		ret = iou_register(r.fd, IORING_REGISTER_BUFFERS, iov, 2);
		CHECK(ret == 0, "register buffers: %d", ret);
	}
	skel = misc_load(r.fd);
	CHECK(skel, "load");
	skel->bss->buf_len = BUF_LEN;
	skel->bss->rd_off = BUF_PAGE2 - 20;
	skel->bss->wr_off = BUF_PAGE3 - 30;
	skel->bss->sl_off = 5000;
	skel->bss->sl_cross_off = BUF_PAGE3 - 8;
	for (i = 0; i < sizeof(skel->bss->wr); i++)
		skel->bss->wr[i] = (uint8_t)(0xc0 + i);
	link = attach_expect(skel->maps.buf_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0, "loop: %d", ret);
	CHECK(skel->bss->steps == 1, "%llu steps",
	      (unsigned long long)skel->bss->steps);

	if (setup != BUF_REAL) {
		/* no buffer 0: none registered, or an empty sparse slot */
		int want = setup == BUF_NONE ? -EINVAL : -EFAULT;

		CHECK(skel->data->buf_rd_ret == want && skel->data->buf_wr_ret == want,
		      "read %d write %d, want %d", skel->data->buf_rd_ret,
		      skel->data->buf_wr_ret, want);
		CHECK(!skel->bss->buf_sl_ok, "slice of a missing buffer");
		CHECK(skel->data->buf_noidx_ret == want, "index 2: %d, want %d",
		      skel->data->buf_noidx_ret, want);
		goto out;
	}
	CHECK(skel->data->buf_rd_ret == 0, "read: %d", skel->data->buf_rd_ret);
	for (i = 0; i < sizeof(skel->bss->rd); i++)
		CHECK(skel->bss->rd[i] == buf_pattern(BUF_PAGE2 - 20 + i),
		      "read byte %zu: %#x", i, skel->bss->rd[i]);
	CHECK(skel->data->buf_wr_ret == 0, "write: %d", skel->data->buf_wr_ret);
	for (i = 0; i < BUF_LEN; i++) {
		size_t w = i - (BUF_PAGE3 - 30);
		uint8_t want = w < sizeof(skel->bss->wr) ? (uint8_t)(0xc0 + w) :
			       buf_pattern(i);

		/* the slice's first byte was inverted by the program */
		if (i == 5000)
			want = (uint8_t)~buf_pattern(i);
		CHECK(buf0[i] == want, "buffer byte %zu: %#x, want %#x", i,
		      buf0[i], want);
	}
	CHECK(skel->bss->buf_sl_ok, "slice");
	for (i = 0; i < sizeof(skel->bss->sl); i++)
		CHECK(skel->bss->sl[i] == buf_pattern(5000 + i),
		      "slice byte %zu: %#x", i, skel->bss->sl[i]);
	for (i = 0; i < 4096; i++)
		CHECK(buf1[i] == 0x5a, "buffer 1 byte %zu changed", i);
	CHECK(skel->data->buf_noidx_ret == -EINVAL, "index 2: %d",
	      skel->data->buf_noidx_ret);
	CHECK(skel->data->buf_range_ret == -EFAULT, "64 bytes at len - 63: %d",
	      skel->data->buf_range_ret);
	CHECK(skel->data->buf_huge_ret == -EFAULT, "offset 2^40: %d",
	      skel->data->buf_huge_ret);
	CHECK(skel->data->buf_wr_range_ret == -EFAULT, "write past the end: %d",
	      skel->data->buf_wr_range_ret);
	CHECK(buf0[BUF_LEN - 1] == buf_pattern(BUF_LEN - 1),
	      "a refused write changed the last byte");
	CHECK(skel->data->buf_zero_end_ret == 0, "0 bytes at the end: %d",
	      skel->data->buf_zero_end_ret);
	CHECK(skel->data->buf_zero_past_ret == -EFAULT, "0 bytes past the end: %d",
	      skel->data->buf_zero_past_ret);
	CHECK(skel->bss->buf_sl_cross_null, "a slice across pages");
	CHECK(skel->bss->buf_sl_past_null, "a slice past the end");
	CHECK(skel->bss->buf_sl_noidx_null, "a slice of index 2");
out:
	bpf_link__destroy(link);
	misc__destroy(skel);
	iou_exit(&r);
	free(mem);
	return KSFT_PASS;
}

static int t_loop_buf_registered(void)
{
	return loop_buf(BUF_REAL);
}

static int t_loop_buf_none(void)
{
	return loop_buf(BUF_NONE);
}

static int t_loop_buf_sparse(void)
{
	return loop_buf(BUF_SPARSE);
}

/*
 * The loop reads the start of a file into a registered buffer with
 * READ_FIXED and looks at the data when the CQE arrives, all in one
 * io_uring_enter(2): 16 bytes at offset 1000, compared with the file.
 */
static int t_loop_buf_peek_read_fixed(void)
{
	uint8_t file[4096], *buf = NULL;
	struct io_uring_sqe *sqe;
	struct bpf_link *link;
	struct iovec iov;
	struct iou_ring r;
	struct misc *skel;
	int fd, ret;
	size_t i;

	for (i = 0; i < sizeof(file); i++)
		file[i] = buf_pattern(i * 13);
	fd = memfd_create("iou-peek", 0);
	CHECK(fd >= 0, "memfd: %d", -errno);
	CHECK(write(fd, file, sizeof(file)) == sizeof(file), "write the file");
	CHECK(!loop_ring(&r, 8, 0), "setup");
	CHECK(r.cq_entries == 16, "%u CQ entries", r.cq_entries);
	CHECK(!posix_memalign((void **)&buf, 4096, 4096), "alloc");
	memset(buf, 0, 4096);
	iov = (struct iovec){ buf, 4096 };
	ret = iou_register(r.fd, IORING_REGISTER_BUFFERS, &iov, 1);
	CHECK(ret == 0, "register buffer: %d", ret);
	sqe = &r.sqes[0];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ_FIXED;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = 4096;
	sqe->buf_index = 0;
	sqe->user_data = 42;

	skel = misc_load(r.fd);
	CHECK(skel, "load");
	skel->bss->peek_off = 1000;
	link = attach_expect(skel->maps.peek_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0, "loop: %d", ret);
	CHECK(skel->data->peek_res == 4096, "READ_FIXED: %d", skel->data->peek_res);
	CHECK(skel->data->peek_ret == 0, "buf_read: %d", skel->data->peek_ret);
	CHECK(!memcmp(skel->bss->peek, file + 1000, sizeof(skel->bss->peek)),
	      "the program saw other bytes than the file's");
	CHECK(!memcmp(buf, file, sizeof(file)), "the buffer differs from the file");
	bpf_link__destroy(link);
	misc__destroy(skel);
	iou_exit(&r);
	close(fd);
	free(buf);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- overflow */

static int t_loop_cq_overflow(void)
{
	struct io_uring_region_desc rd;
	struct bpf_link *link;
	struct ovf_params *p;
	struct iou_ring r;
	struct ovf *skel;
	int ret;

	CHECK(!loop_ring(&r, OVF_SQ_ENTRIES, OVF_CQ_ENTRIES), "setup");
	CHECK(r.cq_entries == OVF_CQ_ENTRIES, "CQ of %u", r.cq_entries);
	p = iou_alloc_region(4096);
	CHECK(p && !iou_register_region(&r, p, 4096, &rd), "region");
	p->rounds = 200;
	skel = ovf__open();
	CHECK(skel, "open");
	skel->struct_ops.ovf_ops->ring_fd = r.fd;
	CHECK(!ovf__load(skel), "load");
	link = attach_expect(skel->maps.ovf_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	printf("# %llu CQEs, %llu steps, CQ found full %llu times\n",
	       (unsigned long long)p->completed, (unsigned long long)p->steps,
	       (unsigned long long)p->overflow_seen);
	CHECK(ret == 0 && p->error == 0, "loop: %d, error %d", ret, p->error);
	CHECK(p->submitted == p->rounds * 2 * OVF_SQ_ENTRIES &&
	      p->completed == p->submitted, "%llu submitted, %llu completed",
	      (unsigned long long)p->submitted, (unsigned long long)p->completed);
	CHECK(p->bad_cqes == 0, "%llu CQEs out of order or failed",
	      (unsigned long long)p->bad_cqes);
	CHECK(p->overflow_seen >= p->rounds, "the CQ did not overflow");
	CHECK(*r.cq_overflow == 0, "%u CQEs dropped", *r.cq_overflow);
	CHECK(iou_cq_ready(&r) == 0, "CQEs left");
	bpf_link__destroy(link);
	ovf__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- nops */

/* @per_step: 0 for nops_ops, else nops_inline_ops with that many NOPs a step */
static int nops_run(uint64_t nr, unsigned int qd, unsigned int per_step)
{
	struct io_uring_region_desc rd;
	struct nops_params *p;
	struct bpf_link *link;
	struct nops *skel;
	struct iou_ring r;
	double t;
	int ret;

	CHECK(!loop_ring(&r, NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES), "setup");
	p = iou_alloc_region(4096);
	CHECK(p && !iou_register_region(&r, p, 4096, &rd), "region");
	p->nr = nr;
	p->qd = qd;
	p->per_step = per_step;
	skel = nops_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(per_step ? skel->maps.nops_inline_ops :
			     skel->maps.nops_ops, 0);
	CHECK(link, "attach: %d", -errno);
	t = iou_now();
	ret = iou_enter(r.fd, 0, 0, 0);
	t = iou_now() - t;
	printf("# %llu NOPs at QD %u in one io_uring_enter: %.3fs, %.0f ns/NOP, %llu steps\n",
	       (unsigned long long)p->completed, qd, t, t * 1e9 / nr,
	       (unsigned long long)p->steps);
	CHECK(ret == 0 && p->error == 0, "loop: %d, error %d", ret, p->error);
	CHECK(p->submitted == nr && p->completed == nr, "%llu submitted, %llu completed",
	      (unsigned long long)p->submitted, (unsigned long long)p->completed);
	CHECK(p->bad_cqes == 0, "%llu bad CQEs", (unsigned long long)p->bad_cqes);
	CHECK(p->max_inflight == qd, "max in flight %u", p->max_inflight);
	CHECK(iou_cq_ready(&r) == 0, "CQEs left");
	CHECK(*r.sq_head == 0 && *r.sq_tail == 0, "SQ_REWIND head/tail moved");
	/* NOPs complete inline: a step runs per_step of them */
	if (per_step)
		CHECK(p->steps <= nr / per_step + 2, "%llu steps for %u NOPs a step",
		      (unsigned long long)p->steps, per_step);
	bpf_link__destroy(link);
	nops__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

/*
 * The example of Documentation/io_uring/bpf-ops.rst (doc_example.bpf.c)
 * loads, attaches and runs its NOPs, with the ring the document describes.
 */
static int t_doc_example(void)
{
	struct io_uring_region_desc rd;
	struct doc_example *skel;
	struct bpf_link *link;
	struct iou_ring r;
	struct {
		__u64 nr;
		__u64 done;
	} *p;
	int ret;

	CHECK(!loop_ring(&r, 8, 8), "setup");
	p = iou_alloc_region(4096);
	CHECK(p && !iou_register_region(&r, p, 4096, &rd), "region");
	p->nr = 100;
	skel = doc_example__open();
	CHECK(skel, "open");
	skel->struct_ops.nops_ops->ring_fd = r.fd;
	CHECK(!doc_example__load(skel), "the documentation's example does not load");
	link = attach_expect(skel->maps.nops_ops, 0);
	CHECK(link, "attach: %d", -errno);
	ret = iou_enter(r.fd, 0, 0, 0);
	CHECK(ret == 0 && p->done == 100, "loop: %d, %llu of 100 NOPs done", ret,
	      (unsigned long long)p->done);
	CHECK(iou_cq_ready(&r) == 0, "CQEs left");
	bpf_link__destroy(link);
	doc_example__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_nops_qd1(void)
{
	return nops_run(20000, 1, 0);
}

static int t_nops_qd8(void)
{
	return nops_run(20000, 8, 0);
}

static int t_nops_inline(void)
{
	return nops_run(20000, 1, NOPS_INLINE_MAX);
}

/* The application queues all SQEs, BPF keeps @qd of them in flight */
static int queued_run(unsigned int nr, unsigned int qd, bool timeouts)
{
	struct __kernel_timespec ts = { .tv_nsec = 2 * 1000 * 1000 };
	struct io_uring_region_desc rd;
	struct bpf_link *link;
	struct qd_params *p;
	struct nops *skel;
	struct iou_ring r;
	unsigned int i;
	char seen[QD_LOG_ENTRIES] = {};
	double t;
	int ret;

	CHECK(nr <= NOPS_SQ_ENTRIES, "test bug");
	CHECK(!iou_setup_flags(NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES,
			       IORING_SETUP_SINGLE_ISSUER |
			       IORING_SETUP_DEFER_TASKRUN, &r), "setup");
	p = iou_alloc_region(2 * 4096 + 4096);
	CHECK(p && !iou_register_region(&r, p, 3 * 4096, &rd), "region");
	p->nr = nr;
	p->qd = qd;
	for (i = 0; i < nr; i++) {
		struct io_uring_sqe *sqe = iou_get_sqe(&r);

		CHECK(sqe, "SQ full at %u", i);
		if (timeouts) {
			sqe->opcode = IORING_OP_TIMEOUT;
			sqe->addr = (uintptr_t)&ts;
			sqe->len = 1;
		} else {
			sqe->opcode = IORING_OP_NOP;
		}
		sqe->user_data = i + 1;
	}
	/* queued, not submitted: that is up to BPF */
	CHECK(iou_flush_sq(&r) == nr, "queued");
	skel = nops_load(r.fd);
	CHECK(skel, "load");
	link = attach_expect(skel->maps.queued_ops, 0);
	CHECK(link, "attach: %d", -errno);
	t = iou_now();
	ret = iou_enter(r.fd, nr, 0, 0);
	t = iou_now() - t;
	printf("# %u %s queued, QD %u: %.3fs, %llu steps\n", nr,
	       timeouts ? "2ms timeouts" : "NOPs", qd, t,
	       (unsigned long long)p->steps);
	CHECK(ret == 0 && p->error == 0, "loop: %d, error %d", ret, p->error);
	CHECK(p->submitted == nr && p->completed == nr, "%llu submitted, %llu completed",
	      (unsigned long long)p->submitted, (unsigned long long)p->completed);
	CHECK(p->max_inflight == qd, "max in flight %u, QD %u", p->max_inflight, qd);
	CHECK(*r.sq_head == nr, "SQ head %u", *r.sq_head);
	for (i = 0; i < nr; i++) {
		uint64_t ud = p->log_user_data[i];

		CHECK(ud >= 1 && ud <= nr && !seen[ud - 1], "CQE %u: user_data %llu",
		      i, (unsigned long long)ud);
		seen[ud - 1] = 1;
		CHECK(p->log_res[i] == (timeouts ? -ETIME : 0), "CQE %u: res %d",
		      i, p->log_res[i]);
		/* NOPs complete inline, in order */
		CHECK(timeouts || ud == i + 1, "NOP %llu completed %u-th",
		      (unsigned long long)ud, i);
	}
	/* 2ms each, qd at a time: the depth was really limited */
	if (timeouts)
		CHECK(t >= 0.002 * nr / qd, "%.3fs is too fast for QD %u", t, qd);
	bpf_link__destroy(link);
	nops__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_nops_overqueue(void)
{
	return queued_run(64, 4, false);
}

static int t_timeouts_overqueue(void)
{
	return queued_run(32, 4, true);
}

/* ---------------------------------------------------------------- cp */

static unsigned int cp_sqe_flags;

static int cp_run(int in_fd, int out_fd, unsigned int block, bool stream,
		  struct cp_params *res)
{
	CHECK(!iou_cp_run(in_fd, out_fd, block, stream, cp_sqe_flags, res), "cp");
	return KSFT_PASS;
}

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = seed >> 16;
	}
}

static int same_content(int fd, const unsigned char *data, size_t len)
{
	unsigned char *got = malloc(len + 1);
	ssize_t n;
	struct stat st;

	CHECK(got, "malloc");
	CHECK(!fstat(fd, &st) && (size_t)st.st_size == len, "output is %lld bytes, expected %zu",
	      (long long)st.st_size, len);
	n = pread(fd, got, len + 1, 0);
	CHECK(n == (ssize_t)len, "read back %zd", n);
	CHECK(!memcmp(got, data, len), "content differs");
	free(got);
	return KSFT_PASS;
}

static int cp_file_case(size_t size, unsigned int block)
{
	unsigned char *data = malloc(size + 1);
	struct cp_params p;
	size_t blocks = (size + block - 1) / block;
	int in, out;

	CHECK(data, "malloc");
	fill(data, size, size);
	in = memfd_create("cp-in", 0);
	out = memfd_create("cp-out", 0);
	CHECK(in >= 0 && out >= 0, "memfd");
	CHECK(write(in, data, size) == (ssize_t)size, "write input");
	if (cp_run(in, out, block, false, &p))
		return KSFT_FAIL;
	printf("# %zu bytes in blocks of %u: %llu reads, %llu writes, %llu short reads, %llu steps\n",
	       size, block, (unsigned long long)p.reads, (unsigned long long)p.writes,
	       (unsigned long long)p.short_reads, (unsigned long long)p.steps);
	CHECK(p.error == 0, "error %d", p.error);
	CHECK(p.bytes == size, "copied %llu of %zu", (unsigned long long)p.bytes, size);
	CHECK(p.reads == blocks + 1 && p.writes == blocks, "%llu reads, %llu writes for %zu blocks",
	      (unsigned long long)p.reads, (unsigned long long)p.writes, blocks);
	CHECK(p.short_reads == (size % block ? 1 : 0), "%llu short reads",
	      (unsigned long long)p.short_reads);
	if (same_content(out, data, size))
		return KSFT_FAIL;
	close(in);
	close(out);
	free(data);
	return KSFT_PASS;
}

static int t_cp_file_aligned(void)
{
	return cp_file_case(1 << 20, 64 << 10);
}

static int t_cp_file_unaligned(void)
{
	if (cp_file_case((1 << 20) + 4567, 16 << 10))
		return KSFT_FAIL;
	return cp_file_case(100, 4096);
}

/* Every request punted to io-wq: completions come from other threads */
static int t_cp_file_async(void)
{
	cp_sqe_flags = IOSQE_ASYNC;
	return cp_file_case((256 << 10) + 1000, 8192);
}

static int t_cp_file_empty(void)
{
	return cp_file_case(0, 4096);
}

struct pipe_writer {
	int fd;
	const unsigned char *data;
	size_t len;
};

static void *pipe_writer_fn(void *arg)
{
	struct pipe_writer *w = arg;
	unsigned int seed = 42;
	size_t off = 0;

	while (off < w->len) {
		size_t chunk;
		ssize_t n;

		seed = seed * 1103515245 + 12345;
		chunk = 1 + (seed >> 16) % 5000;
		if (chunk > w->len - off)
			chunk = w->len - off;
		n = write(w->fd, w->data + off, chunk);
		if (n <= 0)
			break;
		off += n;
		usleep(200);
	}
	close(w->fd);
	return NULL;
}

static int t_cp_pipe_short_reads(void)
{
	size_t size = 256 << 10;
	unsigned char *data = malloc(size);
	struct pipe_writer w;
	struct cp_params p;
	pthread_t thread;
	int fds[2], out;

	CHECK(data, "malloc");
	fill(data, size, 7);
	CHECK(!pipe(fds), "pipe");
	out = memfd_create("cp-out", 0);
	CHECK(out >= 0, "memfd");
	w.fd = fds[1];
	w.data = data;
	w.len = size;
	CHECK(!pthread_create(&thread, NULL, pipe_writer_fn, &w), "thread");
	if (cp_run(fds[0], out, 8192, true, &p))
		return KSFT_FAIL;
	pthread_join(thread, NULL);
	printf("# %zu bytes through a pipe: %llu reads, %llu short, %llu writes, %llu steps\n",
	       size, (unsigned long long)p.reads, (unsigned long long)p.short_reads,
	       (unsigned long long)p.writes, (unsigned long long)p.steps);
	CHECK(p.error == 0, "error %d", p.error);
	CHECK(p.bytes == size, "copied %llu of %zu", (unsigned long long)p.bytes, size);
	CHECK(p.short_reads > 0, "no short read happened");
	CHECK(p.writes == p.reads - 1, "every READ but the last is written once");
	if (same_content(out, data, size))
		return KSFT_FAIL;
	close(fds[0]);
	close(out);
	free(data);
	return KSFT_PASS;
}

static int t_cp_read_error(void)
{
	struct cp_params p;
	int fds[2], out;

	CHECK(!pipe(fds), "pipe");
	out = memfd_create("cp-out", 0);
	CHECK(out >= 0, "memfd");
	/* the write end cannot be read: the READ fails, the loop stops */
	if (cp_run(fds[1], out, 4096, true, &p))
		return KSFT_FAIL;
	CHECK(p.error == -EBADF, "error %d, expected %d", p.error, -EBADF);
	CHECK(p.reads == 0 && p.writes == 0 && p.bytes == 0, "something was copied");
	close(fds[0]);
	close(fds[1]);
	close(out);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- main */

struct test_case {
	const char *name;
	int (*fn)(void);
	bool bpf;
};

static const struct test_case cases[] = {
	{ "region_user", t_region_user },
	{ "region_kernel_mmap", t_region_kernel },
	{ "region_bad_args", t_region_bad_args },
	{ "register_unknown_opcodes_einval", t_register_unknown_opcodes },
	{ "sq_rewind_flags", t_rewind_flags },
	{ "sq_rewind_submit", t_rewind_submit },
	{ "sq_rewind_drain", t_rewind_drain },
	{ "attach_stop", t_attach_stop, true },
	{ "attach_refuse_sqpoll", t_attach_sqpoll, true },
	{ "attach_refuse_iopoll", t_attach_iopoll, true },
	{ "attach_refuse_no_defer_taskrun", t_attach_no_defer_taskrun, true },
	{ "attach_refuse_busy", t_attach_busy, true },
	{ "attach_refuse_bad_fd", t_attach_bad_fd, true },
	{ "attach_refuse_no_loop_step", t_attach_no_loop_step, true },
	{ "verifier_refuse_write", t_verifier_bad_write, true },
	{ "verifier_refuse_sleepable_kfunc", t_verifier_sleepable_kfunc, true },
	{ "verifier_refuse_foreign_struct_ops", t_verifier_foreign_struct_ops, true },
	{ "loop_bad_return_einval", t_loop_bad_return, true },
	{ "loop_signal_eintr", t_loop_eintr, true },
	{ "loop_detach_while_running", t_loop_detach_running, true },
	{ "loop_close_ring_while_running", t_loop_close_ring_running, true },
	{ "loop_other_task", t_loop_other_task, true },
	{ "loop_task_killed", t_loop_killed, true },
	{ "loop_ring_freed_before_link", t_ring_freed_before_link, true },
	{ "loop_signal_pending_at_entry", t_loop_signal_pending_at_entry, true },
	{ "loop_first_step_cqes", t_loop_first_step_cqes, true },
	{ "ring_free_while_loop_spins", t_ring_free_while_loop_spins, true },
	{ "region_bpf_user", t_region_bpf_user, true },
	{ "region_bpf_kernel", t_region_bpf_kernel, true },
	{ "region_bpf_none", t_region_bpf_none, true },
	{ "loop_buf_registered", t_loop_buf_registered, true },
	{ "loop_buf_none_registered_einval", t_loop_buf_none, true },
	{ "loop_buf_sparse_slot_efault", t_loop_buf_sparse, true },
	{ "loop_buf_peek_read_fixed", t_loop_buf_peek_read_fixed, true },
	{ "loop_cq_overflow", t_loop_cq_overflow, true },
	{ "doc_example_nops", t_doc_example, true },
	{ "nops_qd1", t_nops_qd1, true },
	{ "nops_qd8", t_nops_qd8, true },
	{ "nops_qd1_inline", t_nops_inline, true },
	{ "nops_overqueue_qd4", t_nops_overqueue, true },
	{ "timeouts_overqueue_qd4", t_timeouts_overqueue, true },
	{ "cp_file_aligned", t_cp_file_aligned, true },
	{ "cp_file_unaligned", t_cp_file_unaligned, true },
	{ "cp_file_async", t_cp_file_async, true },
	{ "cp_file_empty", t_cp_file_empty, true },
	{ "cp_pipe_short_reads", t_cp_pipe_short_reads, true },
	{ "cp_read_error", t_cp_read_error, true },
};

/* Skip (fail when strict) only if the kernel has no io_uring_bpf_ops at all */
static bool have_bpf_ops(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;

	if (!btf)
		return false;
	ok = btf__find_by_name_kind(btf, "io_uring_bpf_ops", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s -l | CASE\n", argv[0]);
		return KSFT_FAIL;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		if (cases[i].bpf && !have_bpf_ops())
			return skip_or_fail("no io_uring_bpf_ops in the kernel BTF (CONFIG_IO_URING_BPF_OPS)\n");
		return cases[i].fn();
	}
	fprintf(stderr, "no test case %s\n", argv[1]);
	return KSFT_FAIL;
}
