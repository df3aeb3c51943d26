// SPDX-License-Identifier: GPL-2.0
/*
 * The checksum-after-READ example of IORING_OP_BPF, for the demo:
 *
 *   iou_crc FILE
 *
 * For each 4 KiB block of FILE (the last one may be shorter), one
 * io_uring_enter(2) submits a READ of the block linked to an IORING_OP_BPF
 * operation, opbpf_crc.bpf.c's crc32c of what the READ put in the buffer,
 * which the operation writes to a 4-byte buffer.  User space computes the
 * crc32c of the same block read with pread(2) and compares.  Prints
 * {"size": ..., "blocks": ..., "matched": ..., "first_crc": ..., "error": ...}
 * and exits 0 if every block's checksum matched.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_crc32c.h"
#include "iou_opbpf.h"
#include "opbpf_crc.skel.h"

#define RING_FLAGS	(IORING_SETUP_BPF_EXT | IORING_SETUP_SINGLE_ISSUER | \
			 IORING_SETUP_DEFER_TASKRUN)

/* READ -> crc32c of block @blk; the checksum into *@out, 0 or an error */
static int crc_block(struct iou_ring *r, int fd, uint64_t off, size_t len,
		     unsigned char *buf, uint32_t *out)
{
	struct io_bpf_buf_desc d[2] = {
		{ .type = IO_BPF_BUF_USER, .len = len, .addr = (uintptr_t)buf },
		{ .type = IO_BPF_BUF_USER, .len = sizeof(*out), .addr = (uintptr_t)out },
	};
	struct io_uring_cqe cqe;
	struct io_uring_sqe *sqe;
	int ret, i;

	sqe = iou_get_sqe(r);
	if (!sqe)
		return -EBUSY;
	sqe->opcode = IORING_OP_READ;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = off;
	sqe->flags = IOSQE_IO_LINK;
	sqe->user_data = 1;
	sqe = iou_get_sqe(r);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_bpf(sqe, 0, 0, d, 2);
	sqe->user_data = 2;
	ret = iou_submit(r, 2);
	if (ret != 2)
		return ret < 0 ? ret : -EIO;
	for (i = 1; i <= 2; i++) {
		if (!iou_pop_cqe(r, &cqe) || cqe.user_data != (uint64_t)i)
			return -EIO;
		/* the READ's length, then the bytes the operation checksummed */
		if (cqe.res != (int)len)
			return cqe.res < 0 ? cqe.res : -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* a slice of the buffer must lie in one page */
	static unsigned char buf[OPB_CRC_MAX] __attribute__((aligned(OPB_CRC_MAX)));
	unsigned char mine[OPB_CRC_MAX];
	uint64_t off, blocks = 0, matched = 0;
	uint32_t crc, first = 0;
	struct opbpf_crc *skel;
	struct bpf_link *link;
	struct iou_ring r;
	struct stat st;
	int fd, ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	crc_init();
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror(argv[1]);
		return 1;
	}
	ret = iou_setup_flags(8, 0, RING_FLAGS, &r);
	if (ret) {
		fprintf(stderr, "setup: %d\n", ret);
		return 1;
	}
	skel = opbpf_crc__open();
	if (!skel)
		return 1;
	skel->struct_ops.crc_op->ring_fd = r.fd;
	if (opbpf_crc__load(skel)) {
		fprintf(stderr, "load: %d\n", -errno);
		return 1;
	}
	memcpy(skel->bss->crc_table, crc_table, sizeof(crc_table));
	link = bpf_map__attach_struct_ops(skel->maps.crc_op);
	if (!link) {
		fprintf(stderr, "attach: %d\n", -errno);
		return 1;
	}
	for (off = 0; off < (uint64_t)st.st_size && !ret; off += OPB_CRC_MAX) {
		size_t len = st.st_size - off < OPB_CRC_MAX ? st.st_size - off : OPB_CRC_MAX;

		crc = 0;
		ret = crc_block(&r, fd, off, len, buf, &crc);
		if (ret)
			break;
		if (pread(fd, mine, len, off) != (ssize_t)len) {
			ret = -errno;
			break;
		}
		if (!blocks)
			first = crc;
		blocks++;
		if (crc == crc32c(mine, len))
			matched++;
		else
			fprintf(stderr, "block at %llu: BPF %#x, user space %#x\n",
				(unsigned long long)off, crc, crc32c(mine, len));
	}
	printf("{\"size\": %lld, \"blocks\": %llu, \"matched\": %llu, \"first_crc\": %u, "
	       "\"error\": %d}\n", (long long)st.st_size, (unsigned long long)blocks,
	       (unsigned long long)matched, first, ret);
	bpf_link__destroy(link);
	opbpf_crc__destroy(skel);
	iou_exit(&r);
	return ret || !blocks || matched != blocks;
}
