// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of IORING_OP_BPF per request (python -m harness bench opbpf),
 * every variant on the same kind of ring (SINGLE_ISSUER | DEFER_TASKRUN |
 * NO_SQARRAY | SQ_REWIND, and BPF_EXT where the kernel has it), SQEs at
 * index 0 on:
 *
 *   nop64       64 NOPs per io_uring_enter(2), submit and wait for all
 *   bpf64       64 IORING_OP_BPF per enter, an operation with issue_fn only
 *               that returns 0 (opbpf_bench.bpf.c, slot 0)
 *   bpf64_all   the same with prep, issue, fail and cleanup programs (slot 1)
 *   link3       a link NOP -> NOP -> NOP per enter
 *   link_bpf    a link NOP -> BPF (slot 0) -> NOP per enter
 *   xf_user     READ_FIXED of a 4 KiB block of a file, XOR of every 64-bit
 *               word in user space, WRITE_FIXED to another file: two enters
 *               per block
 *   xf_link     READ_FIXED -> BPF (slot 2: the XOR, on the registered
 *               buffer) -> WRITE_FIXED, linked, one enter per block
 *   xf_loop     the BPF event loop: READ_FIXED, the XOR in the loop step
 *               that reaps it, WRITE_FIXED, ...: one enter for all blocks
 *   nop64_plain 64 NOPs per enter on a ring without IORING_SETUP_BPF_EXT,
 *               loading no BPF: runs on a kernel without
 *               CONFIG_IO_URING_BPF_EXT too
 *
 * Only the requests are timed (guest time: instructions under the
 * instruction-count clock), not loading the programs.  Every CQE is checked
 * and, for the transforms, the output file against the input XORed in user
 * space.
 *
 *   iou_opbpf_bench VARIANT NR [DIR]
 *
 * NR: requests (nop64, bpf64*, link*: rounded down to whole enters) or
 * blocks (xf_*); DIR: where the xf_* variants put their files (a tmpfs).
 * Prints {"variant": ..., "requests": N, "seconds": S}.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/uio.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_opbpf_bench.h"
#include "opbpf_bench.skel.h"

#define BENCH_FLAGS	(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | \
			 IORING_SETUP_NO_SQARRAY | IORING_SETUP_SQ_REWIND)
/* the files of the transforms: the blocks wrap around */
#define FILE_BLOCKS	64

struct bench {
	struct iou_ring r;
	struct opbpf_bench *skel;
	struct bpf_link *links[4];
	unsigned int nr_links;
	/* transforms */
	struct opbb_params *params;	/* the region: params, then the block */
	uint64_t *block;
	int in_fd, out_fd;
	char in_path[256], out_path[256];
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %d\n", what, err);
	return -1;
}

static int attach(struct bench *b, struct bpf_map *map)
{
	struct bpf_link *link = bpf_map__attach_struct_ops(map);

	if (!link)
		return fail(bpf_map__name(map), -errno);
	b->links[b->nr_links++] = link;
	return 0;
}

/* Wait for and check @n CQEs, user_data first_ud.., result @res each */
static int reap(struct iou_ring *r, unsigned int n, uint64_t first_ud, int res)
{
	struct io_uring_cqe cqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!iou_pop_cqe(r, &cqe) || cqe.res != res ||
		    cqe.user_data != first_ud + i) {
			fprintf(stderr, "CQE %u of %u: res %d ud %llu, expected %d %llu\n",
				i, n, cqe.res, (unsigned long long)cqe.user_data,
				res, (unsigned long long)(first_ud + i));
			return -1;
		}
	}
	return 0;
}

static void prep_bpf(struct io_uring_sqe *sqe, unsigned int slot,
		     const struct io_bpf_buf_desc *bufs, unsigned int nr,
		     uint64_t ud)
{
	io_uring_prep_bpf(sqe, slot, 0, bufs, nr);
	sqe->user_data = ud;
}

/* @per NOPs (or BPF operations of @slot, if @bpf) per enter */
static int run_batch(struct iou_ring *r, uint64_t nr, unsigned int per,
		     bool bpf, unsigned int slot)
{
	uint64_t i;
	unsigned int j;
	int ret;

	for (i = 0; i < nr; i += per) {
		for (j = 0; j < per; j++) {
			if (bpf)
				prep_bpf(&r->sqes[j], slot, NULL, 0, i + j + 1);
			else
				iou_prep_nop(&r->sqes[j], i + j + 1);
		}
		ret = iou_enter(r->fd, per, per, IORING_ENTER_GETEVENTS);
		if (ret != (int)per || reap(r, per, i + 1, 0))
			return fail("batch enter", ret);
	}
	return 0;
}

/* NOP -> (NOP or BPF of slot 0) -> NOP per enter */
static int run_link3(struct iou_ring *r, uint64_t nr, bool bpf)
{
	uint64_t i;
	int ret;

	for (i = 0; i < nr; i += 3) {
		iou_prep_nop(&r->sqes[0], i + 1);
		if (bpf)
			prep_bpf(&r->sqes[1], OPBB_SLOT_EMPTY, NULL, 0, i + 2);
		else
			iou_prep_nop(&r->sqes[1], i + 2);
		iou_prep_nop(&r->sqes[2], i + 3);
		r->sqes[0].flags = IOSQE_IO_LINK;
		r->sqes[1].flags = IOSQE_IO_LINK;
		ret = iou_enter(r->fd, 3, 3, IORING_ENTER_GETEVENTS);
		if (ret != 3 || reap(r, 3, i + 1, 0))
			return fail("link enter", ret);
	}
	return 0;
}

/* ---------------------------------------------------------- transforms */

static void prep_rw(struct io_uring_sqe *sqe, struct bench *b, bool read,
		    uint64_t blk, uint64_t ud)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = read ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
	sqe->fd = read ? b->in_fd : b->out_fd;
	sqe->addr = (uintptr_t)b->block;
	sqe->len = OPBB_BLOCK;
	sqe->off = (blk % FILE_BLOCKS) * OPBB_BLOCK;
	sqe->buf_index = 0;
	sqe->user_data = ud;
}

/* word by word, as the BPF programs do: the mechanisms compare, not compilers */
__attribute__((optimize("no-tree-vectorize")))
static void xform(uint64_t *w)
{
	unsigned int i;

	for (i = 0; i < OPBB_WORDS; i++)
		w[i] ^= OPBB_KEY;
}

static int run_xf_user(struct bench *b, uint64_t nr)
{
	struct iou_ring *r = &b->r;
	uint64_t i;
	int ret;

	for (i = 0; i < nr; i++) {
		prep_rw(&r->sqes[0], b, true, i, 1);
		ret = iou_enter(r->fd, 1, 1, IORING_ENTER_GETEVENTS);
		if (ret != 1 || reap(r, 1, 1, OPBB_BLOCK))
			return fail("xf_user read", ret);
		xform(b->block);
		prep_rw(&r->sqes[0], b, false, i, 2);
		ret = iou_enter(r->fd, 1, 1, IORING_ENTER_GETEVENTS);
		if (ret != 1 || reap(r, 1, 2, OPBB_BLOCK))
			return fail("xf_user write", ret);
	}
	return 0;
}

static int run_xf_link(struct bench *b, uint64_t nr)
{
	struct io_bpf_buf_desc desc = {
		.type = IO_BPF_BUF_FIXED,
		.buf_index = 0,
		.len = OPBB_BLOCK,
		.addr = (uintptr_t)b->block,
	};
	struct iou_ring *r = &b->r;
	uint64_t i;
	int ret;

	for (i = 0; i < nr; i++) {
		prep_rw(&r->sqes[0], b, true, i, 1);
		prep_bpf(&r->sqes[1], OPBB_SLOT_XFORM, &desc, 1, 2);
		prep_rw(&r->sqes[2], b, false, i, 3);
		r->sqes[0].flags = IOSQE_IO_LINK;
		r->sqes[1].flags = IOSQE_IO_LINK;
		ret = iou_enter(r->fd, 3, 3, IORING_ENTER_GETEVENTS);
		if (ret != 3 || reap(r, 3, 1, OPBB_BLOCK))
			return fail("xf_link enter", ret);
	}
	return 0;
}

static int run_xf_loop(struct bench *b, uint64_t nr)
{
	struct opbb_params *p = b->params;
	int ret;

	p->in_fd = b->in_fd;
	p->out_fd = b->out_fd;
	p->buf = (uintptr_t)b->block;
	p->nr = nr;
	p->file_blocks = FILE_BLOCKS;
	ret = iou_enter(b->r.fd, 0, 0, 0);
	if (ret || p->error || p->done != nr || p->state != OPBB_DONE) {
		fprintf(stderr, "xf_loop: enter %d error %d, %llu of %llu blocks in %llu steps\n",
			ret, p->error, (unsigned long long)p->done,
			(unsigned long long)nr, (unsigned long long)p->steps);
		return -1;
	}
	return 0;
}

static int make_file(char *path, size_t size, const char *dir, const char *name,
		     bool pattern)
{
	unsigned char *buf;
	size_t i;
	int fd;

	snprintf(path, 256, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return fail(path, -errno);
	buf = calloc(1, size);
	if (!buf)
		return -1;
	for (i = 0; pattern && i < size; i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 9) * 7 + 3);
	if (pwrite(fd, buf, size, 0) != (ssize_t)size) {
		free(buf);
		return fail("write file", -errno);
	}
	free(buf);
	return fd;
}

static int xf_setup(struct bench *b, const char *dir)
{
	struct io_uring_region_desc rd;
	struct iovec iov;
	int ret;

	b->in_fd = make_file(b->in_path, FILE_BLOCKS * OPBB_BLOCK, dir, "opbb-in", true);
	b->out_fd = make_file(b->out_path, FILE_BLOCKS * OPBB_BLOCK, dir, "opbb-out", false);
	if (b->in_fd < 0 || b->out_fd < 0)
		return -1;
	b->params = iou_alloc_region(OPBB_REGION_SIZE);
	if (!b->params)
		return fail("region", -ENOMEM);
	b->block = (uint64_t *)((char *)b->params + OPBB_DATA_OFF);
	/* every variant has the region, only the loop's program uses it */
	ret = iou_register_region(&b->r, b->params, OPBB_REGION_SIZE, &rd);
	if (ret)
		return fail("register region", ret);
	iov.iov_base = b->block;
	iov.iov_len = OPBB_BLOCK;
	ret = iou_register(b->r.fd, IORING_REGISTER_BUFFERS, &iov, 1);
	if (ret)
		return fail("register buffer", ret);
	return 0;
}

/* The output file is the input XORed with the key, block by block */
static int xf_verify(struct bench *b)
{
	size_t size = FILE_BLOCKS * OPBB_BLOCK, i;
	uint64_t *in = malloc(size), *out = malloc(size);
	int ret = 0;

	if (!in || !out || pread(b->in_fd, in, size, 0) != (ssize_t)size ||
	    pread(b->out_fd, out, size, 0) != (ssize_t)size)
		return fail("read back", -errno);
	for (i = 0; i < size / 8; i++) {
		if (out[i] != (in[i] ^ OPBB_KEY)) {
			fprintf(stderr, "output word %zu: %#llx, expected %#llx\n", i,
				(unsigned long long)out[i],
				(unsigned long long)(in[i] ^ OPBB_KEY));
			ret = -1;
			break;
		}
	}
	free(in);
	free(out);
	return ret;
}

static void bench_fini(struct bench *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_links; i++)
		bpf_link__destroy(b->links[i]);
	opbpf_bench__destroy(b->skel);
	iou_exit(&b->r);
	if (b->in_fd > 0) {
		close(b->in_fd);
		unlink(b->in_path);
	}
	if (b->out_fd > 0) {
		close(b->out_fd);
		unlink(b->out_path);
	}
	if (b->params)
		munmap(b->params, OPBB_REGION_SIZE);
}

static int load(struct bench *b)
{
	b->skel = opbpf_bench__open();
	if (!b->skel)
		return fail("open", -errno);
	b->skel->struct_ops.empty_op->ring_fd = b->r.fd;
	b->skel->struct_ops.all_op->ring_fd = b->r.fd;
	b->skel->struct_ops.xform_op->ring_fd = b->r.fd;
	b->skel->struct_ops.xform_loop_ops->ring_fd = b->r.fd;
	if (opbpf_bench__load(b->skel))
		return fail("load", -errno);
	return 0;
}

int main(int argc, char **argv)
{
	const char *variant, *dir;
	bool plain, xf;
	struct bench b;
	uint64_t nr;
	double t;
	int ret;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s nop64|bpf64|bpf64_all|link3|link_bpf|"
			"xf_user|xf_link|xf_loop|nop64_plain NR [DIR]\n", argv[0]);
		return 1;
	}
	variant = argv[1];
	nr = strtoull(argv[2], NULL, 0);
	dir = argc > 3 ? argv[3] : "/tmp";
	plain = !strcmp(variant, "nop64_plain");
	xf = !strncmp(variant, "xf_", 3);
	if (!strncmp(variant, "link", 4))
		nr -= nr % 3;
	else if (!xf)
		nr -= nr % OPBB_SQ_ENTRIES;
	if (!nr) {
		fail("no requests", 0);
		return 1;
	}

	memset(&b, 0, sizeof(b));
	b.in_fd = b.out_fd = -1;
	ret = iou_setup_flags(OPBB_SQ_ENTRIES, OPBB_CQ_ENTRIES,
			      BENCH_FLAGS | (plain ? 0 : IORING_SETUP_BPF_EXT), &b.r);
	if (ret) {
		fail("setup", ret);
		return 1;
	}
	if (xf && xf_setup(&b, dir))
		goto err;
	if (!plain) {
		if (load(&b) || attach(&b, b.skel->maps.empty_op) ||
		    attach(&b, b.skel->maps.all_op) || attach(&b, b.skel->maps.xform_op))
			goto err;
		if (!strcmp(variant, "xf_loop") && attach(&b, b.skel->maps.xform_loop_ops))
			goto err;
	}

	t = iou_now();
	if (!strcmp(variant, "nop64") || plain)
		ret = run_batch(&b.r, nr, OPBB_SQ_ENTRIES, false, 0);
	else if (!strcmp(variant, "bpf64"))
		ret = run_batch(&b.r, nr, OPBB_SQ_ENTRIES, true, OPBB_SLOT_EMPTY);
	else if (!strcmp(variant, "bpf64_all"))
		ret = run_batch(&b.r, nr, OPBB_SQ_ENTRIES, true, OPBB_SLOT_ALL);
	else if (!strcmp(variant, "link3"))
		ret = run_link3(&b.r, nr, false);
	else if (!strcmp(variant, "link_bpf"))
		ret = run_link3(&b.r, nr, true);
	else if (!strcmp(variant, "xf_user"))
		ret = run_xf_user(&b, nr);
	else if (!strcmp(variant, "xf_link"))
		ret = run_xf_link(&b, nr);
	else if (!strcmp(variant, "xf_loop"))
		ret = run_xf_loop(&b, nr);
	else
		ret = fail("unknown variant", -EINVAL);
	t = iou_now() - t;
	if (ret)
		goto err;
	if (xf && xf_verify(&b))
		goto err;
	printf("{\"variant\": \"%s\", \"requests\": %llu, \"seconds\": %.6f}\n",
	       variant, (unsigned long long)nr, t);
	bench_fini(&b);
	return 0;
err:
	fprintf(stderr, "%s failed\n", variant);
	bench_fini(&b);
	return 1;
}
