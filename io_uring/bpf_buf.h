/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IOU_BPF_BUF_H
#define IOU_BPF_BUF_H

#include <linux/bvec.h>
#include <linux/io_uring_types.h>

/*
 * Byte access to io_uring buffers for BPF programs: a range of pinned
 * pages or of a registered buffer, as bio_vecs.  Shared by IORING_OP_BPF
 * (io_uring/bpf_ext.c) and the loop programs (io_uring/bpf-ops.c).
 */
struct io_bpf_buf {
	struct io_bpf_buf_desc	desc;
	const struct bio_vec	*bvec;
	unsigned int		nr_bvecs;
	/* the bvecs are ours, their pages pinned */
	bool			owned;
	/* a program may have written it */
	bool			dirty;
	/*
	 * every bvec but the first and the last has the length of the
	 * second, as for a registered buffer or one user range
	 */
	bool			uniform;
	/* where the buffer starts in the bvecs, and its size */
	size_t			skip;
	size_t			len;
};

struct io_mapped_ubuf *io_bpf_buf_lookup(struct io_ring_ctx *ctx,
					 unsigned int index);
int io_bpf_buf_set_fixed(struct io_bpf_buf *buf,
			 const struct io_mapped_ubuf *imu, u64 off, size_t len);
int io_bpf_buf_fixed(struct io_ring_ctx *ctx, struct io_bpf_buf *buf,
		     unsigned int index, u64 off, size_t len);
struct page *io_bpf_buf_page(const struct io_bpf_buf *buf, size_t off,
			     unsigned int *poff, size_t *avail);
size_t io_bpf_buf_copy(struct io_bpf_buf *dst, size_t doff,
		       const struct io_bpf_buf *src, size_t soff, size_t len);
size_t io_bpf_buf_copy_mem(struct io_bpf_buf *buf, size_t off, void *mem,
			   size_t len, bool to_buf);
u8 *io_bpf_buf_slice(struct io_bpf_buf *buf, size_t off, size_t size);

#endif
