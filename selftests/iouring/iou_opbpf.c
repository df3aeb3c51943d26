// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of IORING_OP_BPF (kernel-patches/0105, 0106): the probe, every
 * refusal, results, buffers, links, contexts, coexistence with the loop
 * ops and the lifecycle of the operations.
 *
 *   iou_opbpf -l        list the test cases
 *   iou_opbpf CASE      run one; exit 0 pass, 1 fail, 4 skip (a missing
 *                       feature; with HARNESS_STRICT=1 that fails instead)
 *
 * run.sh runs every case in its own process and prints KTAP.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_testlib.h"
#include "iou_bpf_info.h"
#include "strict.h"
#include "iou_common.h"
#include "iou_nops.h"
#include "iou_opbpf.h"
#include "opbpf.skel.h"
#include "opbpf_bad_write.skel.h"
#include "opbpf_sleepable.skel.h"
#include "opbpf_loop_kfunc.skel.h"
#include "loop_opbpf_kfunc.skel.h"
#include "opbpf_crc.skel.h"
#include "iou_crc32c.h"

/* the ring most cases use */
#define OPB_RING_FLAGS	(IORING_SETUP_BPF_EXT | IORING_SETUP_SINGLE_ISSUER | \
			 IORING_SETUP_DEFER_TASKRUN)

/* opbpf.bpf.c with every map set to @ring_fd, op0/op1/op2 in slots 0/1/2 */
static struct opbpf *opbpf_load(int ring_fd)
{
	struct opbpf *skel = opbpf__open();

	if (!skel)
		return NULL;
	skel->struct_ops.op0->ring_fd = ring_fd;
	skel->struct_ops.op1->ring_fd = ring_fd;
	skel->struct_ops.op2->ring_fd = ring_fd;
	if (opbpf__load(skel)) {
		opbpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* The callbacks of opbpf.bpf.c ran that many times; if not, say so */
static bool calls_are(struct opbpf *skel, uint64_t prep, uint64_t issue,
		      uint64_t fail, uint64_t cleanup)
{
	if (skel->bss->nr_prep == prep && skel->bss->nr_issue == issue &&
	    skel->bss->nr_fail == fail && skel->bss->nr_cleanup == cleanup)
		return true;
	printf("prep %llu issue %llu fail %llu cleanup %llu, expected %llu %llu %llu %llu\n",
	       (unsigned long long)skel->bss->nr_prep,
	       (unsigned long long)skel->bss->nr_issue,
	       (unsigned long long)skel->bss->nr_fail,
	       (unsigned long long)skel->bss->nr_cleanup,
	       (unsigned long long)prep, (unsigned long long)issue,
	       (unsigned long long)fail, (unsigned long long)cleanup);
	return false;
}

/* Attach @map; NULL and a message unless it succeeds */
static struct bpf_link *attach(struct bpf_map *map)
{
	struct bpf_link *link = bpf_map__attach_struct_ops(map);

	if (!link)
		printf("attach of %s: %d\n", bpf_map__name(map), -errno);
	return link;
}

/* Attach @map expecting -@err: true if it failed with exactly that */
static bool attach_fails(struct bpf_map *map, int err)
{
	struct bpf_link *link;

	errno = 0;
	link = bpf_map__attach_struct_ops(map);
	if (link) {
		printf("attach of %s succeeded, expected %d\n",
		       bpf_map__name(map), -err);
		bpf_link__destroy(link);
		return false;
	}
	if (errno != err) {
		printf("attach of %s failed with %d, expected %d\n",
		       bpf_map__name(map), -errno, -err);
		return false;
	}
	return true;
}

static void prep_bpf(struct io_uring_sqe *sqe, unsigned int id, uint32_t flags,
		     const struct io_bpf_buf_desc *bufs, unsigned int nr,
		     uint64_t user_data)
{
	io_uring_prep_bpf(sqe, id, flags, bufs, nr);
	sqe->user_data = user_data;
}

static struct io_uring_sqe *sqe_or_die(struct iou_ring *r)
{
	struct io_uring_sqe *sqe = iou_get_sqe(r);

	if (!sqe) {
		printf("SQ full\n");
		exit(KSFT_FAIL);
	}
	return sqe;
}

/* Submit what is queued, wait for @nr CQEs and pop them into @cqes */
static int submit_wait(struct iou_ring *r, unsigned int nr,
		       struct io_uring_cqe *cqes)
{
	unsigned int i;
	int ret;

	ret = iou_enter(r->fd, iou_flush_sq(r), nr, IORING_ENTER_GETEVENTS |
			(r->flags & IORING_SETUP_SQPOLL ? IORING_ENTER_SQ_WAKEUP : 0));
	if (ret < 0)
		return ret;
	for (i = 0; i < nr; i++) {
		while (!iou_pop_cqe(r, &cqes[i])) {
			ret = iou_enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* One IORING_OP_BPF request: its CQE result, or INT_MIN on failure */
static int run_op(struct iou_ring *r, unsigned int id, uint32_t flags,
		  const struct io_bpf_buf_desc *bufs, unsigned int nr)
{
	struct io_uring_cqe cqe;

	prep_bpf(sqe_or_die(r), id, flags, bufs, nr, 0x1234);
	if (submit_wait(r, 1, &cqe) || cqe.user_data != 0x1234)
		return INT_MIN;
	return cqe.res;
}

#define RUN_EXPECT(r, id, flags, bufs, nr, expect) do {			\
	int __res = run_op(r, id, flags, bufs, nr);			\
									\
	CHECK(__res == (expect), "op %u flags %#x: CQE %d, expected %d",	\
	      (unsigned int)(id), (unsigned int)(flags), __res, (int)(expect)); \
} while (0)

static struct io_bpf_buf_desc user_desc(const void *p, uint32_t len)
{
	struct io_bpf_buf_desc d = {
		.type = IO_BPF_BUF_USER,
		.len = len,
		.addr = (uintptr_t)p,
	};

	return d;
}

static struct io_bpf_buf_desc fixed_desc(const void *p, uint32_t len,
					 uint16_t index)
{
	struct io_bpf_buf_desc d = {
		.type = IO_BPF_BUF_FIXED,
		.buf_index = index,
		.len = len,
		.addr = (uintptr_t)p,
	};

	return d;
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 131 + seed * 17 + (i >> 8));
}

/* A ring with op0 in slot 0 (and op1, op2 if @all) */
struct fixture {
	struct iou_ring r;
	struct opbpf *skel;
	struct bpf_link *l0, *l1, *l2;
};

static int fixture_init(struct fixture *f, unsigned int flags, bool all)
{
	int ret;

	memset(f, 0, sizeof(*f));
	ret = iou_setup_flags(16, 0, flags, &f->r);
	if (ret) {
		printf("setup %#x: %d\n", flags, ret);
		return -1;
	}
	f->skel = opbpf_load(f->r.fd);
	if (!f->skel) {
		printf("load\n");
		return -1;
	}
	f->l0 = attach(f->skel->maps.op0);
	if (!f->l0)
		return -1;
	if (all) {
		f->l1 = attach(f->skel->maps.op1);
		f->l2 = attach(f->skel->maps.op2);
		if (!f->l1 || !f->l2)
			return -1;
	}
	return 0;
}

static void fixture_fini(struct fixture *f)
{
	bpf_link__destroy(f->l2);
	bpf_link__destroy(f->l1);
	bpf_link__destroy(f->l0);
	opbpf__destroy(f->skel);
	iou_exit(&f->r);
}

/* ---------------------------------------------------------------- probe, refusals */

static int t_probe(void)
{
	struct io_uring_probe *p;
	struct iou_ring r;
	size_t sz = sizeof(*p) + 256 * sizeof(p->ops[0]);
	int i, ret;

	p = calloc(1, sz);
	CHECK(p && !iou_setup_flags(8, 0, 0, &r), "setup");
	ret = iou_register(r.fd, IORING_REGISTER_PROBE, p, 256);
	CHECK(ret == 0, "probe: %d", ret);
	CHECK(p->last_op == IORING_OP_BPF, "last_op %u", p->last_op);
	CHECK(p->ops_len == IORING_OP_BPF + 1, "ops_len %u", p->ops_len);
	CHECK(p->ops[57].flags & IO_URING_OP_SUPPORTED, "LISTEN (57) unsupported");
	for (i = 58; i <= 64; i++)
		CHECK(!(p->ops[i].flags & IO_URING_OP_SUPPORTED),
		      "opcode %d reported supported", i);
	CHECK(p->ops[65].op == 65 && (p->ops[65].flags & IO_URING_OP_SUPPORTED),
	      "IORING_OP_BPF (65) unsupported");
	iou_exit(&r);
	free(p);
	return KSFT_PASS;
}

/* 58-64 in an SQE: -EOPNOTSUPP, as an opcode the kernel was built without */
static int t_reserved_opcodes(void)
{
	struct io_uring_cqe cqe;
	struct iou_ring r;
	int op;

	CHECK(!iou_setup_flags(8, 0, 0, &r), "setup");
	for (op = 58; op <= 64; op++) {
		struct io_uring_sqe *sqe = sqe_or_die(&r);

		sqe->opcode = op;
		sqe->user_data = op;
		CHECK(!submit_wait(&r, 1, &cqe), "submit");
		CHECK(cqe.user_data == (uint64_t)op && cqe.res == -EOPNOTSUPP,
		      "opcode %d: CQE %d, expected %d", op, cqe.res, -EOPNOTSUPP);
	}
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_refuse_no_setup_flag(void)
{
	struct opbpf *skel;
	struct iou_ring r;

	CHECK(!iou_setup_flags(8, 0, IORING_SETUP_SINGLE_ISSUER |
			       IORING_SETUP_DEFER_TASKRUN, &r), "setup");
	skel = opbpf_load(r.fd);
	CHECK(skel, "load");
	CHECK(attach_fails(skel->maps.op0, EOPNOTSUPP), "ring without IORING_SETUP_BPF_EXT");
	RUN_EXPECT(&r, 0, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EOPNOTSUPP);
	CHECK(skel->bss->nr_prep == 0, "prep ran");
	opbpf__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

static int t_refuse_id_range(void)
{
	static const int ids[] = { 16, 255, 65535 };
	struct fixture f;
	struct opbpf *skel;
	struct iou_ring r;
	unsigned int i;
	int id;

	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r), "setup");
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		id = ids[i];
		skel = opbpf__open();
		CHECK(skel, "open");
		skel->struct_ops.op0->ring_fd = r.fd;
		skel->struct_ops.op0->id = id;
		CHECK(!opbpf__load(skel), "load");
		CHECK(attach_fails(skel->maps.op0, EINVAL), "id %d", id);
		opbpf__destroy(skel);
	}
	iou_exit(&r);

	/* SQEs selecting 16 or more */
	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	RUN_EXPECT(&f.r, 16, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EINVAL);
	RUN_EXPECT(&f.r, 255, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EINVAL);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, 1);
	CHECK(f.skel->bss->nr_prep == 1, "prep ran %llu times",
	      (unsigned long long)f.skel->bss->nr_prep);
	fixture_fini(&f);
	return KSFT_PASS;
}

static int t_refuse_slot_busy(void)
{
	struct bpf_link *l0, *l1;
	struct opbpf *skel;
	struct iou_ring r;

	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r), "setup");
	skel = opbpf__open();
	CHECK(skel, "open");
	skel->struct_ops.op0->ring_fd = r.fd;
	skel->struct_ops.op1->ring_fd = r.fd;
	skel->struct_ops.op1->id = 0;
	skel->struct_ops.op2->ring_fd = r.fd;
	CHECK(!opbpf__load(skel), "load");
	l0 = attach(skel->maps.op0);
	CHECK(l0, "op0");
	CHECK(attach_fails(skel->maps.op1, EBUSY), "second ops in slot 0");
	RUN_EXPECT(&r, 0, OPB_FLAGS(OPB_RET_ARG, 3), NULL, 0, 3);
	bpf_link__destroy(l0);
	RUN_EXPECT(&r, 0, OPB_FLAGS(OPB_RET_ARG, 3), NULL, 0, -EOPNOTSUPP);
	/* the slot is free again */
	l1 = attach(skel->maps.op1);
	CHECK(l1, "op1 in slot 0 after op0 left");
	RUN_EXPECT(&r, 0, OPB_FLAGS(OPB_RET_ARG, 4), NULL, 0, 4);
	bpf_link__destroy(l1);
	opbpf__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

/*
 * A map linked twice: refused while its first link exists, on the same
 * ring, and after that ring is gone on a new ring at the same fd number.
 */
static int t_refuse_same_map_twice(void)
{
	struct bpf_link *l0, *l1;
	struct opbpf *skel;
	struct iou_ring r, r2;
	int fd;

	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r), "setup");
	fd = r.fd;
	skel = opbpf_load(fd);
	CHECK(skel, "load");
	l0 = attach(skel->maps.op0);
	CHECK(l0, "first link");
	CHECK(attach_fails(skel->maps.op0, EBUSY), "same map, same ring");
	iou_exit(&r);
	/* a new ring at the same fd number, as the map's ring_fd says */
	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r2), "setup 2");
	if (r2.fd != fd) {
		CHECK(dup2(r2.fd, fd) == fd, "dup2");
		close(r2.fd);
		r2.fd = fd;
	}
	usleep(100 * 1000);	/* let the first ring's exit work free it */
	CHECK(attach_fails(skel->maps.op0, EBUSY), "same map after its ring is gone");
	RUN_EXPECT(&r2, 0, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EOPNOTSUPP);
	/* once the first link went, the map may be linked again */
	bpf_link__destroy(l0);
	l1 = attach(skel->maps.op0);
	CHECK(l1, "map linked again after its link went");
	RUN_EXPECT(&r2, 0, OPB_FLAGS(OPB_RET_ARG, 2), NULL, 0, 2);
	bpf_link__destroy(l1);
	opbpf__destroy(skel);
	iou_exit(&r2);
	return KSFT_PASS;
}

static int bad_fd_case(int fd, int err, const char *what)
{
	struct opbpf *skel = opbpf_load(fd);

	CHECK(skel, "%s: load", what);
	CHECK(attach_fails(skel->maps.op0, err), "%s", what);
	opbpf__destroy(skel);
	return KSFT_PASS;
}

static int t_refuse_bad_ring_fd(void)
{
	return bad_ring_fds(bad_fd_case);
}

/*
 * libbpf never sends a non-zero pointer that is not a program: create the
 * struct_ops map by hand, with issue_fn, ring_fd and priv set.
 */
static int priv_map_update(struct opbpf *skel, int ring_fd, uint64_t priv)
{
	/* the map's BTF is the object's, as libbpf passes it */
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_LINK,
		    .btf_fd = bpf_object__btf_fd(skel->obj));
	int prog_fd = bpf_program__fd(skel->progs.t_issue);
	const struct btf_member *m;
	const struct btf_type *t;
	struct btf *btf;
	uint32_t data_off = 0, size, zero = 0;
	int id, i, fd, ret;
	char *val;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, "bpf_struct_ops_uring_bpf_ops", BTF_KIND_STRUCT);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	size = t->size;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), "data"))
			data_off = m->offset / 8;
	btf__free(btf);
	if (!data_off)
		return -ENOENT;
	opts.btf_vmlinux_value_type_id = id;
	fd = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "priv_ops", 4, size, 1, &opts);
	if (fd < 0) {
		printf("map create (value type %d, %u bytes, data at %u): %d\n",
		       id, size, data_off, -errno);
		return INT_MIN;
	}
	val = calloc(1, size);
	/* struct uring_bpf_ops: id, ring_fd at 4, issue_fn at 16, priv at 40 */
	*(int *)(val + data_off + 4) = ring_fd;
	*(uint64_t *)(val + data_off + 16) = prog_fd;
	*(uint64_t *)(val + data_off + 40) = priv;
	ret = bpf_map_update_elem(fd, &zero, val, 0) ? -errno : 0;
	free(val);
	if (!ret) {
		int link = bpf_link_create(fd, 0, BPF_STRUCT_OPS, NULL);

		ret = link < 0 ? -errno : 1;
		if (link < 0)
			printf("link create with priv %#llx: %d\n",
			       (unsigned long long)priv, ret);
		if (link >= 0)
			close(link);
	}
	close(fd);
	return ret;
}

static int t_refuse_priv(void)
{
	struct opbpf *skel;
	struct iou_ring r;
	int ret;

	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r), "setup");
	skel = opbpf_load(r.fd);
	CHECK(skel, "load");
	ret = priv_map_update(skel, r.fd, 1);
	CHECK(ret == -EINVAL, "ops with priv 1: %d, expected %d", ret, -EINVAL);
	ret = priv_map_update(skel, r.fd, ~0ULL);
	CHECK(ret == -EINVAL, "ops with priv ~0: %d, expected %d", ret, -EINVAL);
	/* the same map with priv 0 registers */
	ret = priv_map_update(skel, r.fd, 0);
	CHECK(ret == 1, "ops with priv 0: %d", ret);
	opbpf__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

/* The setup flag: unknown flags next to it still fail, alone it works */
static int t_setup_flag(void)
{
	struct iou_ring r;

	CHECK(!iou_setup_flags(8, 0, IORING_SETUP_BPF_EXT, &r), "BPF_EXT alone");
	iou_exit(&r);
	CHECK(iou_setup_flags(8, 0, IORING_SETUP_BPF_EXT | (1U << 30), &r) == -EINVAL,
	      "unknown flag beside BPF_EXT");
	return KSFT_PASS;
}

static int t_empty_slot(void)
{
	struct fixture f;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	RUN_EXPECT(&f.r, 3, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EOPNOTSUPP);
	RUN_EXPECT(&f.r, 15, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EOPNOTSUPP);
	CHECK(f.skel->bss->nr_prep == 0, "a program ran");
	fixture_fini(&f);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- results */

static int t_prep_errno(void)
{
	struct fixture f;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_PREP_FAIL, EBADMSG), NULL, 0, -EBADMSG);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_PREP_FAIL, ENOSPC), NULL, 0, -ENOSPC);
	/* not an errno: io_uring-internal codes do not leak */
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_PREP_FAIL, 512), NULL, 0, -EINVAL);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_PREP_FAIL, 529), NULL, 0, -EINVAL);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_PREP_POSITIVE, 0), NULL, 0, -EINVAL);
	CHECK(calls_are(f.skel, 5, 0, 5, 5), "callbacks");
	fixture_fini(&f);
	return KSFT_PASS;
}

static int t_issue_results(void)
{
	struct fixture f;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, true), "fixture");
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ARG, 1234), NULL, 0, 1234);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ARG, 0), NULL, 0, 0);
	/* set_result wins over the return value */
	RUN_EXPECT(&f.r, 1, OPB_FLAGS(OPB_SET_NEG_ARG, 5), NULL, 0, -5);
	RUN_EXPECT(&f.r, 1, OPB_FLAGS(OPB_SET_NEG_ARG, 0), NULL, 0, 0);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_NEG_ARG, EPERM), NULL, 0, -EPERM);
	/* prep's pdu reaches issue */
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_PDU, 41), NULL, 0, 42);
	/* an operation with issue_fn only */
	RUN_EXPECT(&f.r, 2, OPB_FLAGS(OPB_RET_ARG, 77), NULL, 0, 77);
	CHECK(calls_are(f.skel, 6, 7, 0, 6), "callbacks");
	fixture_fini(&f);
	return KSFT_PASS;
}

static int t_issue_odd_values(void)
{
	static const struct { int ret, res; } v[] = {
		{ -OPB_ERESTARTSYS, -EINVAL },
		{ -529, -EINVAL },		/* -EIOCBQUEUED */
		{ -4095, -EINVAL },
		{ INT_MIN, -EINVAL },
		{ -511, -511 },
		{ -EAGAIN, -EAGAIN },
		{ INT_MAX, INT_MAX },
	};
	struct fixture f;
	unsigned int i;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		f.skel->bss->odd_ret = v[i].ret;
		RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ODD, 0), NULL, 0, v[i].res);
	}
	/* the same through uring_bpf_set_result() */
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_SET_NEG_ARG, OPB_ERESTARTSYS), NULL, 0, -EINVAL);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_SET_NEG_ARG, 529), NULL, 0, -EINVAL);
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_SET_NEG_ARG, 511), NULL, 0, -511);
	/* and in io-wq */
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct io_uring_cqe cqe;
		struct io_uring_sqe *sqe = sqe_or_die(&f.r);

		f.skel->bss->odd_ret = v[i].ret;
		prep_bpf(sqe, 0, OPB_FLAGS(OPB_RET_ODD, 0), NULL, 0, i);
		sqe->flags |= IOSQE_ASYNC;
		CHECK(!submit_wait(&f.r, 1, &cqe), "submit");
		CHECK(cqe.res == v[i].res, "async %d: CQE %d, expected %d",
		      v[i].ret, cqe.res, v[i].res);
	}
	fixture_fini(&f);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- buffers */

/* READ from a fixed file, linked to a crc32c of what it read */
static int crc_case(struct iou_ring *r, int file_idx, const unsigned char *data,
		    size_t len)
{
	struct io_bpf_buf_desc d[2];
	struct io_uring_cqe cqe[2];
	struct io_uring_sqe *sqe;
	unsigned char *buf;
	uint32_t out = 0;

	CHECK(!posix_memalign((void **)&buf, 64, OPB_CRC_MAX), "alloc");
	memset(buf, 0, OPB_CRC_MAX);
	d[0] = user_desc(buf, len);
	d[1] = user_desc(&out, sizeof(out));

	sqe = sqe_or_die(r);
	sqe->opcode = IORING_OP_READ;
	sqe->fd = file_idx;
	sqe->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = 0;
	sqe->user_data = 1;
	prep_bpf(sqe_or_die(r), 0, 0, d, 2, 2);
	CHECK(!submit_wait(r, 2, cqe), "submit");
	CHECK(cqe[0].user_data == 1 && cqe[0].res == (int)len, "READ: %d", cqe[0].res);
	CHECK(cqe[1].user_data == 2 && cqe[1].res == (int)len, "crc op: %d", cqe[1].res);
	CHECK(!memcmp(buf, data, len), "READ data");
	CHECK(out == crc32c(data, len), "crc32c %#x, user space %#x",
	      out, crc32c(data, len));
	printf("# crc32c of %zu bytes: %#x\n", len, out);
	free(buf);
	return KSFT_PASS;
}

/* The test file: OPB_CRC_MAX bytes, registered as fixed file 0 of @r */
static int crc_file(struct iou_ring *r, unsigned char *data)
{
	char path[] = "/tmp/opbpf-crc-XXXXXX";
	int fd, ret;

	fill(data, OPB_CRC_MAX, 7);
	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	CHECK(write(fd, data, OPB_CRC_MAX) == OPB_CRC_MAX, "write");
	ret = iou_register(r->fd, IORING_REGISTER_FILES, &fd, 1);
	CHECK(ret == 0, "register file: %d", ret);
	close(fd);
	return KSFT_PASS;
}

/*
 * The crc32c operation of opbpf_crc.bpf.c, the example of
 * Documentation/io_uring/bpf-ext.rst, linked after READs from a fixed file
 * of several lengths, checked against user space.
 */
static int t_crc32c_after_read(void)
{
	static const size_t lens[] = { 4096, 1000, 64, 1 };
	unsigned char data[OPB_CRC_MAX];
	struct opbpf_crc *skel;
	struct bpf_link *link;
	struct iou_ring r;
	unsigned int i;

	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r), "setup");
	skel = opbpf_crc__open();
	CHECK(skel, "open");
	skel->struct_ops.crc_op->ring_fd = r.fd;
	CHECK(!opbpf_crc__load(skel), "load");
	memcpy(skel->bss->crc_table, crc_table, sizeof(crc_table));
	link = attach(skel->maps.crc_op);
	CHECK(link, "attach");
	if (crc_file(&r, data))
		return KSFT_FAIL;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		if (crc_case(&r, 0, data, lens[i]))
			return KSFT_FAIL;
	bpf_link__destroy(link);
	opbpf_crc__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

#define CP_LEN	8192

struct cp_fixture {
	struct fixture f;
	unsigned char *user, *reg, *ref;
};

static int cp_init(struct cp_fixture *c, unsigned int flags)
{
	struct iovec iov;
	int ret;

	if (fixture_init(&c->f, flags, false))
		return -1;
	c->user = iou_alloc_region(CP_LEN);
	c->reg = iou_alloc_region(CP_LEN);
	c->ref = malloc(CP_LEN);
	if (!c->user || !c->reg || !c->ref)
		return -1;
	iov.iov_base = c->reg;
	iov.iov_len = CP_LEN;
	ret = iou_register(c->f.r.fd, IORING_REGISTER_BUFFERS, &iov, 1);
	if (ret) {
		printf("register buffer: %d\n", ret);
		return -1;
	}
	return 0;
}

static void cp_fini(struct cp_fixture *c)
{
	fixture_fini(&c->f);
	munmap(c->user, CP_LEN);
	munmap(c->reg, CP_LEN);
	free(c->ref);
}

static int copy_both_ways(unsigned int flags, unsigned int sqe_flags)
{
	struct io_bpf_buf_desc d[2];
	struct io_uring_cqe cqe;
	struct cp_fixture c;

	CHECK(!cp_init(&c, flags), "fixture");
	/* user -> registered */
	fill(c.user, CP_LEN, 1);
	memset(c.reg, 0, CP_LEN);
	d[0] = user_desc(c.user, CP_LEN);
	d[1] = fixed_desc(c.reg, CP_LEN, 0);
	prep_bpf(sqe_or_die(&c.f.r), 0, OPB_FLAGS(OPB_COPY, 0), d, 2, 1);
	c.f.r.sqes[(c.f.r.sq_local_tail - 1) & (c.f.r.sq_entries - 1)].flags |= sqe_flags;
	CHECK(!submit_wait(&c.f.r, 1, &cqe), "submit");
	CHECK(cqe.res == CP_LEN, "user -> registered: %d", cqe.res);
	CHECK(!memcmp(c.user, c.reg, CP_LEN), "user -> registered data");
	/* registered -> user, unaligned start in both */
	fill(c.reg, CP_LEN, 2);
	memset(c.user, 0, CP_LEN);
	d[0] = fixed_desc(c.reg + 5, CP_LEN - 5, 0);
	d[1] = user_desc(c.user + 3, CP_LEN - 3);
	prep_bpf(sqe_or_die(&c.f.r), 0, OPB_FLAGS(OPB_COPY, 0), d, 2, 2);
	c.f.r.sqes[(c.f.r.sq_local_tail - 1) & (c.f.r.sq_entries - 1)].flags |= sqe_flags;
	CHECK(!submit_wait(&c.f.r, 1, &cqe), "submit");
	CHECK(cqe.res == CP_LEN - 5, "registered -> user: %d", cqe.res);
	CHECK(!memcmp(c.user + 3, c.reg + 5, CP_LEN - 5), "registered -> user data");
	CHECK(c.user[0] == 0 && c.user[1] == 0 && c.user[2] == 0 &&
	      c.user[CP_LEN - 2] == 0 && c.user[CP_LEN - 1] == 0,
	      "bytes outside the copy written");
	/* COPY_BACK: desc 0 <- desc 1, user <- user */
	fill(c.ref, CP_LEN, 3);
	memset(c.user, 0, CP_LEN);
	d[0] = user_desc(c.user, CP_LEN);
	d[1] = user_desc(c.ref, CP_LEN);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_BACK, 0), d, 2, CP_LEN);
	CHECK(!memcmp(c.user, c.ref, CP_LEN), "user -> user data");
	cp_fini(&c);
	return KSFT_PASS;
}

static int t_copy_user_fixed(void)
{
	return copy_both_ways(OPB_RING_FLAGS, 0);
}

static int t_copy_partial(void)
{
	static const struct {
		uint32_t src_off, dst_off, len;
		int res;
	} v[] = {
		{ 100, 3000, 777, 777 },
		{ 0, 0, 1, 1 },
		{ 4095, 4097, 2, 2 },		/* across pages */
		{ 10, 20, 0, 0 },		/* zero length */
		{ CP_LEN, 0, 0, 0 },		/* zero length at the end */
		{ 8000, 0, 777, -EFAULT },	/* past the source */
		{ 0, 8000, 777, -EFAULT },	/* past the destination */
		{ CP_LEN, 0, 1, -EFAULT },
		{ 0xffffff00, 0, 0x200, -EFAULT },	/* wraps */
	};
	struct io_bpf_buf_desc d[2];
	struct cp_fixture c;
	unsigned int i, j;

	CHECK(!cp_init(&c, OPB_RING_FLAGS), "fixture");
	fill(c.user, CP_LEN, 4);
	d[0] = user_desc(c.user, CP_LEN);
	d[1] = fixed_desc(c.reg, CP_LEN, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(c.reg, 0xee, CP_LEN);
		c.f.skel->bss->part_src_off = v[i].src_off;
		c.f.skel->bss->part_dst_off = v[i].dst_off;
		c.f.skel->bss->part_len = v[i].len;
		RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_PART, 0), d, 2, v[i].res);
		for (j = 0; j < CP_LEN; j++) {
			bool in = v[i].res > 0 && j >= v[i].dst_off &&
				  j < v[i].dst_off + v[i].len;
			unsigned char want = in ? c.user[v[i].src_off + j - v[i].dst_off] : 0xee;

			CHECK(c.reg[j] == want, "case %u: byte %u is %#x, expected %#x",
			      i, j, c.reg[j], want);
		}
	}
	cp_fini(&c);
	return KSFT_PASS;
}

/* IO_BPF_BUF_VEC both ways */
static int t_copy_vec(void)
{
	struct iovec iov[3];
	struct io_bpf_buf_desc d[2];
	struct cp_fixture c;

	CHECK(!cp_init(&c, OPB_RING_FLAGS), "fixture");
	fill(c.user, CP_LEN, 5);
	memset(c.reg, 0, CP_LEN);
	iov[0].iov_base = c.user + 10;
	iov[0].iov_len = 100;
	iov[1].iov_base = c.user + 4000;
	iov[1].iov_len = 200;
	iov[2].iov_base = c.user + 7000;
	iov[2].iov_len = 1;
	d[0].type = IO_BPF_BUF_VEC;
	d[0].reserved = 0;
	d[0].buf_index = 0;
	d[0].len = 3;
	d[0].addr = (uintptr_t)iov;
	d[1] = fixed_desc(c.reg, CP_LEN, 0);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY, 0), d, 2, 301);
	CHECK(!memcmp(c.reg, c.user + 10, 100) && !memcmp(c.reg + 100, c.user + 4000, 200) &&
	      c.reg[300] == c.user[7000] && c.reg[301] == 0, "vec -> registered data");
	/* registered -> vec */
	fill(c.reg, CP_LEN, 6);
	memset(c.user, 0, CP_LEN);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_BACK, 0), d, 2, 301);
	CHECK(!memcmp(c.user + 10, c.reg, 100) && !memcmp(c.user + 4000, c.reg + 100, 200) &&
	      c.user[7000] == c.reg[300] && c.user[9] == 0 && c.user[110] == 0 &&
	      c.user[3999] == 0 && c.user[4200] == 0 && c.user[7001] == 0,
	      "registered -> vec data");
	cp_fini(&c);
	return KSFT_PASS;
}

/* Descriptors refused at prep and by uring_bpf_memcpy() */
static int t_buf_desc_refusals(void)
{
	struct io_bpf_buf_desc d[5], bad;
	struct cp_fixture c;
	void *hole;
	int i;

	CHECK(!cp_init(&c, OPB_RING_FLAGS), "fixture");
	hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(hole != MAP_FAILED, "mmap");
	d[1] = fixed_desc(c.reg, CP_LEN, 0);
#define PREP_EXPECT(desc0, expect, what) do {				\
		d[0] = (desc0);						\
		RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY, 0), d, 2, expect); \
	} while (0)
	bad = user_desc(c.user, 16);
	bad.reserved = 1;
	PREP_EXPECT(bad, -EINVAL, "reserved");
	bad = user_desc(c.user, 16);
	bad.type = IO_BPF_BUF_KFIXED;
	PREP_EXPECT(bad, -EOPNOTSUPP, "kernel buffer");
	bad.type = IO_BPF_BUF_REG_VEC;
	PREP_EXPECT(bad, -EOPNOTSUPP, "registered vector");
	bad.type = 5;
	PREP_EXPECT(bad, -EINVAL, "unknown type 5");
	bad.type = 255;
	PREP_EXPECT(bad, -EINVAL, "unknown type 255");
	PREP_EXPECT(fixed_desc(c.reg, 16, 1), -EFAULT, "no registered buffer 1");
	PREP_EXPECT(fixed_desc(c.reg + CP_LEN - 8, 16, 0), -EFAULT, "past the registered buffer");
	PREP_EXPECT(fixed_desc(c.reg - 1, 16, 0), -EFAULT, "before the registered buffer");
	PREP_EXPECT(user_desc(hole, 16), -EFAULT, "unmapped user memory");
	PREP_EXPECT(user_desc((void *)-4096L, 16), -EFAULT, "kernel address");
	bad = user_desc(c.user, 16);
	bad.type = IO_BPF_BUF_VEC;
	bad.len = OPB_MAX_VECS + 1;
	PREP_EXPECT(bad, -EINVAL, "17 vectors");
	/* too many descriptors, a descriptor array in unmapped memory */
	for (i = 0; i < 5; i++)
		d[i] = user_desc(c.user, 16);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_RET_ARG, 1), d, 5, -EINVAL);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_RET_ARG, 1), d, 4, 1);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_RET_ARG, 1), hole, 1, -EFAULT);
	CHECK(c.f.skel->bss->nr_issue == 1, "issue ran %llu times",
	      (unsigned long long)c.f.skel->bss->nr_issue);

	/* uring_bpf_memcpy() with a descriptor the request does not carry */
	d[0] = user_desc(c.user, CP_LEN);
	d[1] = fixed_desc(c.reg, CP_LEN, 0);
	bad = user_desc(c.user, 16);
	bad.type = 9;
	c.f.skel->bss->bad_desc = bad;
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_DESC, 0), d, 2, -EINVAL);
	bad = user_desc(c.user, 16);
	bad.reserved = 3;
	c.f.skel->bss->bad_desc = bad;
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_DESC, 0), d, 2, -EINVAL);
	c.f.skel->bss->bad_desc = user_desc(c.ref, 16);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_DESC, 0), d, 2, -EFAULT);
	/* the registered buffer's range, but said to be user memory */
	c.f.skel->bss->bad_desc = user_desc(c.reg, 16);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_DESC, 0), d, 2, -EFAULT);
	c.f.skel->bss->bad_desc = fixed_desc(c.reg, 16, 1);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_DESC, 0), d, 2, -EFAULT);
	/* and one that it does: */
	memset(c.reg, 0, 16);
	fill(c.user, 16, 9);
	c.f.skel->bss->bad_desc = fixed_desc(c.reg, 16, 0);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY_DESC, 0), d, 2, 16);
	CHECK(!memcmp(c.reg, c.user, 16), "copied data");
	/* the request carries no buffers at all */
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY, 0), NULL, 0, -ENOENT);
	munmap(hole, 4096);
	cp_fini(&c);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- links, contexts */

static int t_link_nop_bpf_nop(void)
{
	struct io_uring_cqe cqe[3];
	struct io_uring_sqe *sqe;
	struct fixture f;
	int i;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	sqe = sqe_or_die(&f.r);
	iou_prep_nop(sqe, 1);
	sqe->flags = IOSQE_IO_LINK;
	sqe = sqe_or_die(&f.r);
	prep_bpf(sqe, 0, OPB_FLAGS(OPB_RET_ARG, 9), NULL, 0, 2);
	sqe->flags = IOSQE_IO_LINK;
	iou_prep_nop(sqe_or_die(&f.r), 3);
	CHECK(!submit_wait(&f.r, 3, cqe), "submit");
	for (i = 0; i < 3; i++)
		CHECK(cqe[i].user_data == (uint64_t)i + 1 && cqe[i].res == (i == 1 ? 9 : 0),
		      "CQE %d: user_data %llu res %d", i,
		      (unsigned long long)cqe[i].user_data, cqe[i].res);
	fixture_fini(&f);
	return KSFT_PASS;
}

/*
 * A BPF operation (user_data @ud) linked by @link to a NOP (@ud + 1): both
 * complete with the results expected.
 */
static int bpf_then_nop(struct fixture *f, uint32_t bpf_flags, uint8_t link,
			uint64_t ud, int want_bpf, int want_nop)
{
	struct io_uring_cqe cqe[2];
	struct io_uring_sqe *sqe;

	sqe = sqe_or_die(&f->r);
	prep_bpf(sqe, 0, bpf_flags, NULL, 0, ud);
	sqe->flags = link;
	iou_prep_nop(sqe_or_die(&f->r), ud + 1);
	CHECK(!submit_wait(&f->r, 2, cqe), "submit");
	CHECK(cqe[0].user_data == ud && cqe[0].res == want_bpf, "BPF: %d", cqe[0].res);
	CHECK(cqe[1].user_data == ud + 1 && cqe[1].res == want_nop, "NOP after: %d",
	      cqe[1].res);
	return KSFT_PASS;
}

static int t_link_failure(void)
{
	struct io_uring_cqe cqe[3];
	struct io_uring_sqe *sqe;
	struct fixture f;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	/* NOP -> BPF failing -> NOP: the last is cancelled */
	sqe = sqe_or_die(&f.r);
	iou_prep_nop(sqe, 1);
	sqe->flags = IOSQE_IO_LINK;
	sqe = sqe_or_die(&f.r);
	prep_bpf(sqe, 0, OPB_FLAGS(OPB_RET_NEG_ARG, EIO), NULL, 0, 2);
	sqe->flags = IOSQE_IO_LINK;
	iou_prep_nop(sqe_or_die(&f.r), 3);
	CHECK(!submit_wait(&f.r, 3, cqe), "submit");
	CHECK(cqe[0].user_data == 1 && cqe[0].res == 0, "NOP: %d", cqe[0].res);
	CHECK(cqe[1].user_data == 2 && cqe[1].res == -EIO, "BPF: %d", cqe[1].res);
	CHECK(cqe[2].user_data == 3 && cqe[2].res == -ECANCELED, "NOP after: %d", cqe[2].res);
	/* set_result(-5) fails it as well */
	CHECK(bpf_then_nop(&f, OPB_FLAGS(OPB_SET_NEG_ARG, 5), IOSQE_IO_LINK, 4,
			   -5, -ECANCELED) == KSFT_PASS, "set_result(-5)");
	/* a failing prep cancels the link too */
	CHECK(bpf_then_nop(&f, OPB_FLAGS(OPB_PREP_FAIL, ENOMSG), IOSQE_IO_LINK, 6,
			   -ENOMSG, -ECANCELED) == KSFT_PASS, "failing prep");
	/* a hard link continues */
	CHECK(bpf_then_nop(&f, OPB_FLAGS(OPB_RET_NEG_ARG, EIO), IOSQE_IO_HARDLINK, 8,
			   -EIO, 0) == KSFT_PASS, "hard link");
	/* a cancelled BPF operation: cleanup_fn only, as io_uring cancels links */
	f.skel->bss->nr_prep = f.skel->bss->nr_issue = 0;
	f.skel->bss->nr_fail = f.skel->bss->nr_cleanup = 0;
	sqe = sqe_or_die(&f.r);
	iou_prep_nop(sqe, 10);
	sqe->rw_flags = OPB_NOP_INJECT_RESULT;	/* nop_flags */
	sqe->len = -EIO;
	sqe->flags = IOSQE_IO_LINK;
	prep_bpf(sqe_or_die(&f.r), 0, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, 11);
	CHECK(!submit_wait(&f.r, 2, cqe), "submit");
	CHECK(cqe[0].user_data == 10 && cqe[0].res == -EIO, "NOP: %d", cqe[0].res);
	CHECK(cqe[1].user_data == 11 && cqe[1].res == -ECANCELED, "BPF: %d", cqe[1].res);
	CHECK(calls_are(f.skel, 1, 0, 0, 1), "cancelled");
	fixture_fini(&f);
	return KSFT_PASS;
}

static int t_async(void)
{
	struct io_uring_cqe cqe;
	struct io_uring_sqe *sqe;
	struct fixture f;

	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	sqe = sqe_or_die(&f.r);
	prep_bpf(sqe, 0, OPB_FLAGS(OPB_RET_ARG, 31), NULL, 0, 1);
	sqe->flags = IOSQE_ASYNC;
	CHECK(!submit_wait(&f.r, 1, &cqe), "submit");
	CHECK(cqe.res == 31, "IOSQE_ASYNC: %d", cqe.res);
	fixture_fini(&f);
	/* copies from io-wq */
	return copy_both_ways(OPB_RING_FLAGS, IOSQE_ASYNC);
}

static int contexts(unsigned int flags, const char *what)
{
	struct io_uring_cqe cqe[8];
	struct fixture f;
	int i;

	CHECK(!fixture_init(&f, flags, false), "%s: fixture", what);
	for (i = 0; i < 8; i++)
		prep_bpf(sqe_or_die(&f.r), 0, OPB_FLAGS(OPB_RET_ARG, 100 + i), NULL, 0, i);
	CHECK(!submit_wait(&f.r, 8, cqe), "%s: submit", what);
	for (i = 0; i < 8; i++)
		CHECK(cqe[i].res == (int)(100 + cqe[i].user_data), "%s: CQE %llu: %d", what,
		      (unsigned long long)cqe[i].user_data, cqe[i].res);
	fixture_fini(&f);
	return copy_both_ways(flags, 0);
}

static int t_sqpoll(void)
{
	return contexts(IORING_SETUP_BPF_EXT | IORING_SETUP_SQPOLL, "SQPOLL");
}

static int t_no_defer_taskrun(void)
{
	if (contexts(IORING_SETUP_BPF_EXT, "plain ring"))
		return KSFT_FAIL;
	return contexts(IORING_SETUP_BPF_EXT | IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN");
}

/* ---------------------------------------------------------------- loop ops */

/*
 * One DEFER_TASKRUN ring with BPF operations and loop ops: the loop submits
 * the IORING_OP_BPF SQEs the application queued and logs their CQEs.
 */
static int coexist_run(struct iou_ring *r, struct nops *nops, struct qd_params *p,
		       unsigned int nr, int base, int expect_err)
{
	struct bpf_link *link;
	unsigned int i;
	int ret;

	memset(p, 0, sizeof(*p));
	p->nr = nr;
	p->qd = 4;
	for (i = 0; i < nr; i++)
		prep_bpf(sqe_or_die(r), 0, OPB_FLAGS(OPB_RET_ARG, base + i), NULL, 0, i + 1);
	CHECK(iou_flush_sq(r) == nr, "queued");
	link = bpf_map__attach_struct_ops(nops->maps.queued_ops);
	CHECK(link, "loop ops: %d", -errno);
	ret = iou_enter(r->fd, 0, 0, 0);
	CHECK(ret == 0 && p->error == 0, "loop: %d, error %d", ret, p->error);
	CHECK(p->completed == nr, "%llu completed", (unsigned long long)p->completed);
	for (i = 0; i < nr; i++) {
		int want = expect_err ? expect_err : base + (int)p->log_user_data[i] - 1;

		CHECK(p->log_res[i] == want, "CQE %u (user_data %llu): %d, expected %d", i,
		      (unsigned long long)p->log_user_data[i], p->log_res[i], want);
	}
	bpf_link__destroy(link);
	return KSFT_PASS;
}

static int t_coexist_loop(void)
{
	struct io_uring_region_desc rd;
	struct bpf_link *op, *loop;
	struct qd_params *p;
	struct opbpf *skel;
	struct nops *nops;
	struct iou_ring r;

	CHECK(!iou_setup_flags(NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES, OPB_RING_FLAGS, &r), "setup");
	p = iou_alloc_region(3 * 4096);
	CHECK(p && !iou_register_region(&r, p, 3 * 4096, &rd), "region");
	skel = opbpf_load(r.fd);
	nops = nops_load(r.fd);
	CHECK(skel && nops, "load");

	/* loop ops attached while BPF operations are registered */
	op = attach(skel->maps.op0);
	CHECK(op, "op0");
	if (coexist_run(&r, nops, p, 16, 500, 0))
		return KSFT_FAIL;
	/* BPF operations registered while the loop's requests are in flight:
	 * here, while loop ops are attached */
	loop = bpf_map__attach_struct_ops(nops->maps.queued_ops);
	CHECK(loop, "loop ops");
	bpf_link__destroy(op);
	op = attach(skel->maps.op0);
	CHECK(op, "op0 again beside the loop ops");
	/* detach the loop first: plain submission works again */
	bpf_link__destroy(loop);
	RUN_EXPECT(&r, 0, OPB_FLAGS(OPB_RET_ARG, 12), NULL, 0, 12);
	/* detach the operation first: the loop's BPF SQEs fail cleanly */
	bpf_link__destroy(op);
	if (coexist_run(&r, nops, p, 8, 0, -EOPNOTSUPP))
		return KSFT_FAIL;
	CHECK(skel->bss->nr_issue == 17, "issue ran %llu times",
	      (unsigned long long)skel->bss->nr_issue);
	nops__destroy(nops);
	opbpf__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

struct attach_later {
	struct bpf_map *map;
	struct bpf_link *link;
};

static void *attach_later_fn(void *arg)
{
	struct attach_later *a = arg;

	usleep(100 * 1000);
	a->link = bpf_map__attach_struct_ops(a->map);
	return NULL;
}

/*
 * An operation registered by another thread while the loop waits for a
 * TIMEOUT it submitted: the loop's next SQE, an IORING_OP_BPF, finds it.
 */
static int t_attach_while_loop_waits(void)
{
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_region_desc rd;
	struct attach_later a = {};
	struct io_uring_sqe *sqe;
	struct bpf_link *loop;
	struct qd_params *p;
	struct opbpf *skel;
	struct nops *nops;
	struct iou_ring r;
	pthread_t th;
	int ret;

	CHECK(!iou_setup_flags(NOPS_SQ_ENTRIES, NOPS_CQ_ENTRIES, OPB_RING_FLAGS, &r), "setup");
	p = iou_alloc_region(3 * 4096);
	CHECK(p && !iou_register_region(&r, p, 3 * 4096, &rd), "region");
	skel = opbpf_load(r.fd);
	nops = nops_load(r.fd);
	CHECK(skel && nops, "load");
	p->nr = 2;
	p->qd = 1;
	sqe = sqe_or_die(&r);
	sqe->opcode = IORING_OP_TIMEOUT;
	sqe->addr = (uintptr_t)&ts;
	sqe->len = 1;
	sqe->user_data = 1;
	prep_bpf(sqe_or_die(&r), 0, OPB_FLAGS(OPB_RET_ARG, 5), NULL, 0, 2);
	CHECK(iou_flush_sq(&r) == 2, "queued");
	loop = bpf_map__attach_struct_ops(nops->maps.queued_ops);
	CHECK(loop, "loop ops: %d", -errno);
	a.map = skel->maps.op0;
	CHECK(!pthread_create(&th, NULL, attach_later_fn, &a), "thread");
	ret = iou_enter(r.fd, 0, 0, 0);
	pthread_join(th, NULL);
	CHECK(a.link, "attach from the other thread: %d", -errno);
	CHECK(ret == 0 && p->error == 0, "loop: %d, error %d", ret, p->error);
	CHECK(p->completed == 2, "%llu completed", (unsigned long long)p->completed);
	CHECK(p->log_user_data[0] == 1 && p->log_res[0] == -ETIME, "TIMEOUT: %d", p->log_res[0]);
	CHECK(p->log_user_data[1] == 2 && p->log_res[1] == 5, "BPF: %d", p->log_res[1]);
	bpf_link__destroy(loop);
	bpf_link__destroy(a.link);
	nops__destroy(nops);
	opbpf__destroy(skel);
	iou_exit(&r);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- lifecycle */

/*
 * READ from an empty pipe, linked to a BPF copy of what it read into @out:
 * queued and submitted, the BPF operation prepared and waiting.
 */
static int queue_pipe_copy(struct iou_ring *r, int rfd, unsigned char *in,
			   unsigned char *out, struct io_bpf_buf_desc *d)
{
	struct io_uring_sqe *sqe = sqe_or_die(r);
	int ret;

	sqe->opcode = IORING_OP_READ;
	sqe->fd = rfd;
	sqe->addr = (uintptr_t)in;
	sqe->len = 16;
	sqe->off = -1;
	sqe->flags = IOSQE_IO_LINK;
	sqe->user_data = 1;
	d[0] = user_desc(in, 16);
	d[1] = user_desc(out, 16);
	prep_bpf(sqe_or_die(r), 0, OPB_FLAGS(OPB_COPY, 0), d, 2, 2);
	ret = iou_submit(r, 0);
	if (ret != 2) {
		printf("submit: %d\n", ret);
		return -1;
	}
	return 0;
}

/* Write to the pipe of queue_pipe_copy(): both complete, the data copied */
static int pipe_copy_finish(struct iou_ring *r, int wfd, const unsigned char *out,
			    unsigned int seed)
{
	struct io_uring_cqe cqe[2];
	unsigned char msg[16];

	fill(msg, sizeof(msg), seed);
	CHECK(write(wfd, msg, sizeof(msg)) == sizeof(msg), "write");
	CHECK(!submit_wait(r, 2, cqe), "wait");
	CHECK(cqe[0].user_data == 1 && cqe[0].res == 16, "READ: %d", cqe[0].res);
	CHECK(cqe[1].user_data == 2 && cqe[1].res == 16, "BPF: %d", cqe[1].res);
	CHECK(!memcmp(out, msg, 16), "copied data");
	return KSFT_PASS;
}

/*
 * The link goes while an operation waits in a link behind a READ on an empty
 * pipe, from the submitter of the DEFER_TASKRUN ring; with @whole_object
 * the BPF object too.  Then the pipe is written: the operation completes
 * with the programs it was prepared with.
 */
static int unregister_behind_read(bool whole_object)
{
	unsigned char in[16] = {}, out[16] = {};
	struct io_bpf_buf_desc d[2];
	struct fixture f;
	int fds[2];

	CHECK(!pipe(fds), "pipe");
	CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
	CHECK(!queue_pipe_copy(&f.r, fds[0], in, out, d), "queue");
	bpf_link__destroy(f.l0);	/* returns: nothing waits for the request */
	f.l0 = NULL;
	if (whole_object) {
		opbpf__destroy(f.skel);
		f.skel = NULL;
		usleep(50 * 1000);
	} else {
		CHECK(calls_are(f.skel, 1, 0, 0, 0), "before the write");
	}
	if (pipe_copy_finish(&f.r, fds[1], out, 11))
		return KSFT_FAIL;
	/* the slot is empty now */
	RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, -EOPNOTSUPP);
	if (!whole_object) {
		CHECK(calls_are(f.skel, 1, 1, 0, 1), "after the write");
		/* registering again works, in the same slot */
		f.l0 = attach(f.skel->maps.op0);
		CHECK(f.l0, "attach again");
		RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ARG, 6), NULL, 0, 6);
	}
	fixture_fini(&f);
	close(fds[0]);
	close(fds[1]);
	return KSFT_PASS;
}

static int t_link_destroyed_behind_read(void)
{
	return unregister_behind_read(true);
}

static int t_unregister_in_flight(void)
{
	return unregister_behind_read(false);
}

/* the id of @map's kernel map, 0 if it has none */
static __u32 map_id(const struct bpf_map *map)
{
	struct bpf_map_info info;

	return map_info(map, &info) ? 0 : info.id;
}

/* whether the kernel has map @id; if not, errno says why */
static bool map_exists(__u32 id)
{
	int fd = bpf_map_get_fd_by_id(id);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* map @id is gone within 2 s (the id goes with the last reference) */
static bool map_goes(__u32 id)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!map_exists(id))
			return errno == ENOENT;
		usleep(10 * 1000);
	}
	errno = EEXIST;
	return false;
}

/*
 * op2 has issue_fn only: a request of it without buffers drops its
 * reference on the map when issue_fn returns and is freed without a
 * cleanup step.  The map stays while its link does, and goes with the
 * last reference, also when that is a request's, waiting behind a READ on
 * an empty pipe after the link and the object went: no reference kept,
 * none dropped twice.
 */
static int t_issue_only_reference(void)
{
	struct io_uring_cqe cqe[2];
	struct io_uring_sqe *sqe;
	unsigned char in[16], msg[16];
	struct bpf_link *l2;
	struct opbpf *skel;
	struct iou_ring r;
	int fds[2], i;
	__u32 id;

	CHECK(!pipe(fds), "pipe");
	CHECK(!iou_setup_flags(16, 0, OPB_RING_FLAGS, &r), "setup");
	skel = opbpf_load(r.fd);
	CHECK(skel, "load");
	l2 = attach(skel->maps.op2);
	CHECK(l2, "attach");
	id = map_id(skel->maps.op2);
	CHECK(id, "no id for op2's map");
	for (i = 0; i < 64; i++)
		RUN_EXPECT(&r, 2, OPB_FLAGS(OPB_RET_ARG, i), NULL, 0, i);
	CHECK(map_exists(id), "op2's map went while its link holds it: %d", -errno);

	sqe = sqe_or_die(&r);
	sqe->opcode = IORING_OP_READ;
	sqe->fd = fds[0];
	sqe->addr = (uintptr_t)in;
	sqe->len = sizeof(in);
	sqe->off = -1;
	sqe->flags = IOSQE_IO_LINK;
	sqe->user_data = 1;
	prep_bpf(sqe_or_die(&r), 2, OPB_FLAGS(OPB_RET_ARG, 9), NULL, 0, 2);
	CHECK(iou_submit(&r, 0) == 2, "submit");
	bpf_link__destroy(l2);
	opbpf__destroy(skel);
	usleep(50 * 1000);
	CHECK(map_exists(id), "op2's map went while a request of it waits: %d", -errno);
	fill(msg, sizeof(msg), 5);
	CHECK(write(fds[1], msg, sizeof(msg)) == sizeof(msg), "write");
	CHECK(!submit_wait(&r, 2, cqe), "wait");
	CHECK(cqe[0].user_data == 1 && cqe[0].res == 16, "READ: %d", cqe[0].res);
	CHECK(cqe[1].user_data == 2 && cqe[1].res == 9, "BPF: %d", cqe[1].res);
	CHECK(map_goes(id), "op2's map is still there after its last request: %d", -errno);
	iou_exit(&r);
	close(fds[0]);
	close(fds[1]);
	return KSFT_PASS;
}

static int t_ring_closed_with_ops(void)
{
	unsigned char in[16] = {}, out[16] = {};
	struct io_bpf_buf_desc d[2];
	struct fixture f;
	struct iou_ring r2;
	int fds[2], fd, i;

	CHECK(!pipe(fds), "pipe");
	CHECK(!fixture_init(&f, OPB_RING_FLAGS, true), "fixture");
	fd = f.r.fd;
	/* a request in flight, three operations registered */
	CHECK(!queue_pipe_copy(&f.r, fds[0], in, out, d), "queue");
	iou_exit(&f.r);
	/* the ring's requests are cancelled and freed: cleanup, no issue */
	for (i = 0; i < 500 && !f.skel->bss->nr_cleanup; i++)
		usleep(10 * 1000);
	CHECK(calls_are(f.skel, 1, 0, 0, 1), "after the ring was closed");
	/* a new ring at the old ring's fd number, where the maps point */
	CHECK(!iou_setup_flags(8, 0, OPB_RING_FLAGS, &r2), "setup");
	if (r2.fd != fd) {
		CHECK(dup2(r2.fd, fd) == fd, "dup2");
		close(r2.fd);
		r2.fd = fd;
	}
	/* op0's link went: it may be linked to the new ring; op2's did not */
	bpf_link__destroy(f.l0);
	f.l0 = attach(f.skel->maps.op0);
	CHECK(f.l0, "op0 to the new ring");
	CHECK(attach_fails(f.skel->maps.op2, EBUSY), "op2, still linked to the old ring");
	RUN_EXPECT(&r2, 0, OPB_FLAGS(OPB_RET_ARG, 8), NULL, 0, 8);
	RUN_EXPECT(&r2, 2, OPB_FLAGS(OPB_RET_ARG, 8), NULL, 0, -EOPNOTSUPP);
	iou_exit(&r2);
	f.r.fd = -1;
	fixture_fini(&f);
	close(fds[0]);
	close(fds[1]);
	return KSFT_PASS;
}

static int t_task_killed(void)
{
	int fds[2], sync[2], status;
	pid_t pid;
	char c;

	CHECK(!pipe(fds) && !pipe(sync), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		unsigned char in[16], out[16];
		struct io_bpf_buf_desc d[2];
		struct fixture f;

		if (fixture_init(&f, OPB_RING_FLAGS, true) ||
		    queue_pipe_copy(&f.r, fds[0], in, out, d))
			_exit(1);
		/* and a completed one nobody reaps */
		prep_bpf(sqe_or_die(&f.r), 1, OPB_FLAGS(OPB_RET_ARG, 1), NULL, 0, 3);
		if (iou_submit(&f.r, 0) != 1 || write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	CHECK(read(sync[0], &c, 1) == 1, "child did not get ready");
	usleep(50 * 1000);
	CHECK(!kill(pid, SIGKILL), "kill");
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	usleep(200 * 1000);
	close(fds[0]);
	close(fds[1]);
	/* the kernel is fine: a new ring works */
	{
		struct fixture f;

		CHECK(!fixture_init(&f, OPB_RING_FLAGS, false), "fixture");
		RUN_EXPECT(&f.r, 0, OPB_FLAGS(OPB_RET_ARG, 2), NULL, 0, 2);
		fixture_fini(&f);
	}
	return KSFT_PASS;
}

struct delayed_write {
	int fd;
	unsigned char msg[16];
};

static void *delayed_write_fn(void *arg)
{
	struct delayed_write *w = arg;

	usleep(300 * 1000);
	if (write(w->fd, w->msg, sizeof(w->msg)) != sizeof(w->msg))
		return (void *)1;
	return NULL;
}

/* Unregistering the buffers waits for the request holding one */
static int t_unregister_buffers_in_flight(void)
{
	struct delayed_write w;
	struct io_bpf_buf_desc d[2];
	struct io_uring_cqe cqe[2];
	struct io_uring_sqe *sqe;
	struct cp_fixture c;
	unsigned char in[16] = {};
	pthread_t th;
	int fds[2], ret;

	CHECK(!pipe(fds), "pipe");
	CHECK(!cp_init(&c, IORING_SETUP_BPF_EXT), "fixture");
	memset(c.reg, 0, CP_LEN);
	sqe = sqe_or_die(&c.f.r);
	sqe->opcode = IORING_OP_READ;
	sqe->fd = fds[0];
	sqe->addr = (uintptr_t)in;
	sqe->len = 16;
	sqe->off = -1;
	sqe->flags = IOSQE_IO_LINK;
	sqe->user_data = 1;
	d[0] = user_desc(in, 16);
	d[1] = fixed_desc(c.reg + 100, 16, 0);
	prep_bpf(sqe_or_die(&c.f.r), 0, OPB_FLAGS(OPB_COPY, 0), d, 2, 2);
	CHECK(iou_submit(&c.f.r, 0) == 2, "submit");
	w.fd = fds[1];
	fill(w.msg, sizeof(w.msg), 13);
	CHECK(!pthread_create(&th, NULL, delayed_write_fn, &w), "thread");
	ret = iou_register(c.f.r.fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	CHECK(ret == 0, "unregister buffers: %d", ret);
	pthread_join(th, NULL);
	CHECK(!submit_wait(&c.f.r, 2, cqe), "wait");
	CHECK(cqe[0].res == 16 && cqe[1].res == 16, "READ %d, BPF %d", cqe[0].res, cqe[1].res);
	CHECK(!memcmp(c.reg + 100, w.msg, 16), "copied into the registered buffer");
	/* no registered buffer now */
	d[1] = fixed_desc(c.reg, 16, 0);
	RUN_EXPECT(&c.f.r, 0, OPB_FLAGS(OPB_COPY, 0), d, 2, -EFAULT);
	cp_fini(&c);
	close(fds[0]);
	close(fds[1]);
	return KSFT_PASS;
}

/* ---------------------------------------------------------------- verifier */

VERIFIER_CASE(t_verifier_write, opbpf_bad_write,
	      "uring_bpf_data: off 24 size 4: only uring_bpf_data->pdu is writable")
VERIFIER_CASE(t_verifier_sleepable, opbpf_sleepable,
	      "attach to unsupported member issue_fn of struct uring_bpf_ops")
VERIFIER_CASE(t_verifier_loop_kfunc, opbpf_loop_kfunc,
	      "calling kernel function bpf_io_uring_get_region is not allowed")
VERIFIER_CASE(t_verifier_opbpf_kfunc_in_loop, loop_opbpf_kfunc,
	      "calling kernel function uring_bpf_set_result is not allowed")

/* ---------------------------------------------------------------- main */

struct test_case {
	const char *name;
	int (*fn)(void);
};

static const struct test_case cases[] = {
	{ "opbpf_probe", t_probe },
	{ "opbpf_reserved_opcodes", t_reserved_opcodes },
	{ "opbpf_setup_flag", t_setup_flag },
	{ "opbpf_refuse_no_setup_flag", t_refuse_no_setup_flag },
	{ "opbpf_refuse_id_range", t_refuse_id_range },
	{ "opbpf_refuse_slot_busy", t_refuse_slot_busy },
	{ "opbpf_refuse_same_map_twice", t_refuse_same_map_twice },
	{ "opbpf_refuse_bad_ring_fd", t_refuse_bad_ring_fd },
	{ "opbpf_refuse_priv", t_refuse_priv },
	{ "opbpf_empty_slot_eopnotsupp", t_empty_slot },
	{ "opbpf_prep_errno", t_prep_errno },
	{ "opbpf_issue_results", t_issue_results },
	{ "opbpf_issue_odd_values", t_issue_odd_values },
	{ "opbpf_verifier_refuse_write", t_verifier_write },
	{ "opbpf_verifier_refuse_sleepable", t_verifier_sleepable },
	{ "opbpf_verifier_refuse_loop_kfunc", t_verifier_loop_kfunc },
	{ "loop_verifier_refuse_opbpf_kfunc", t_verifier_opbpf_kfunc_in_loop },
	{ "opbpf_crc32c_after_read", t_crc32c_after_read },
	{ "opbpf_copy_user_fixed", t_copy_user_fixed },
	{ "opbpf_copy_partial", t_copy_partial },
	{ "opbpf_copy_vec", t_copy_vec },
	{ "opbpf_buf_desc_refusals", t_buf_desc_refusals },
	{ "opbpf_link_nop_bpf_nop", t_link_nop_bpf_nop },
	{ "opbpf_link_failure", t_link_failure },
	{ "opbpf_async", t_async },
	{ "opbpf_sqpoll", t_sqpoll },
	{ "opbpf_no_defer_taskrun", t_no_defer_taskrun },
	{ "opbpf_coexist_loop", t_coexist_loop },
	{ "opbpf_attach_while_loop_waits", t_attach_while_loop_waits },
	{ "opbpf_link_destroyed_behind_read", t_link_destroyed_behind_read },
	{ "opbpf_unregister_in_flight", t_unregister_in_flight },
	{ "opbpf_issue_only_reference", t_issue_only_reference },
	{ "opbpf_ring_closed_with_ops", t_ring_closed_with_ops },
	{ "opbpf_task_killed", t_task_killed },
	{ "opbpf_unregister_buffers_in_flight", t_unregister_buffers_in_flight },
};

/* Skip (fail when strict) only if the kernel has no uring_bpf_ops at all */
static bool have_opbpf(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;

	if (!btf)
		return false;
	ok = btf__find_by_name_kind(btf, "uring_bpf_ops", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	crc_init();
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
		if (!have_opbpf())
			return skip_or_fail("no uring_bpf_ops in the kernel BTF (CONFIG_IO_URING_BPF_EXT)\n");
		return cases[i].fn();
	}
	fprintf(stderr, "no test case %s\n", argv[1]);
	return KSFT_FAIL;
}
