// SPDX-License-Identifier: GPL-2.0
/*
 * Byte access to io_uring buffers for BPF programs.
 *
 * A buffer is a range of bio_vecs: pages that IORING_OP_BPF pinned at
 * prep, or a registered buffer (IORING_REGISTER_BUFFERS), whose pages stay
 * pinned for as long as the caller holds the ring's ->uring_lock or a
 * reference to its resource node.  Nothing here faults or sleeps: the
 * kfuncs of IORING_OP_BPF and of the loop programs copy through it, or
 * hand out a pointer to bytes within one page.
 */
#include <linux/kernel.h>
#include <linux/highmem.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/nospec.h>

#include "io_uring.h"
#include "rsrc.h"
#include "bpf_buf.h"

/**
 * io_bpf_buf_lookup - a registered buffer of a ring
 * @ctx: the ring, its ->uring_lock held
 * @index: the index of the registered buffer
 *
 * Return: the buffer (an empty slot of a sparse registration has no
 * bvecs), or NULL if the ring has no buffer @index.
 */
struct io_mapped_ubuf *io_bpf_buf_lookup(struct io_ring_ctx *ctx,
					 unsigned int index)
{
	lockdep_assert_held(&ctx->uring_lock);

	if (index >= ctx->nr_user_bufs)
		return NULL;
	return ctx->user_bufs[array_index_nospec(index, ctx->nr_user_bufs)];
}

/**
 * io_bpf_buf_set_fixed - a range of a registered buffer
 * @buf: what to set
 * @imu: the buffer, of io_bpf_buf_lookup()
 * @off: where the range starts, from the start of the buffer
 * @len: the length of the range
 *
 * Return: 0, or -EFAULT if the range is not within the buffer (or the
 * slot is empty).
 */
int io_bpf_buf_set_fixed(struct io_bpf_buf *buf,
			 const struct io_mapped_ubuf *imu, u64 off, size_t len)
{
	/* an empty slot has no bvecs, and the range of no buffer */
	if (!imu->nr_bvecs || len > imu->len || off > imu->len - len)
		return -EFAULT;
	buf->bvec = imu->bvec;
	buf->nr_bvecs = imu->nr_bvecs;
	buf->uniform = true;
	buf->skip = off;
	buf->len = len;
	return 0;
}

/**
 * io_bpf_buf_fixed - a range of a registered buffer, by index
 * @ctx: the ring, its ->uring_lock held
 * @buf: what to set
 * @index: the index of the registered buffer
 * @off: where the range starts, from the start of the buffer
 * @len: the length of the range
 *
 * Return: 0, -EINVAL if the ring has no buffer @index, -EFAULT if the range
 * is not within the buffer (or the slot is empty, a sparse registration).
 */
int io_bpf_buf_fixed(struct io_ring_ctx *ctx, struct io_bpf_buf *buf,
		     unsigned int index, u64 off, size_t len)
{
	struct io_mapped_ubuf *imu = io_bpf_buf_lookup(ctx, index);

	if (!imu)
		return -EINVAL;
	return io_bpf_buf_set_fixed(buf, imu, off, len);
}

/**
 * io_bpf_buf_page - where a byte of a buffer is
 * @buf: the buffer
 * @off: the offset of the byte in the buffer, below @buf->len
 * @poff: the offset of the byte in its page
 * @avail: how many bytes follow it contiguously in that page
 *
 * Return: the page, or NULL if @off is outside the bvecs.
 */
struct page *io_bpf_buf_page(const struct io_bpf_buf *buf, size_t off,
			     unsigned int *poff, size_t *avail)
{
	const struct bio_vec *bv = buf->bvec;
	size_t pos = buf->skip + off;
	unsigned int i = 0;

	/* a registered buffer may have many bvecs: find ours at once */
	if (buf->uniform && buf->nr_bvecs > 2 && pos >= bv[0].bv_len) {
		u32 rem;

		i = 1 + div_u64_rem(pos - bv[0].bv_len, bv[1].bv_len, &rem);
		pos = rem;
	}
	for (; i < buf->nr_bvecs; i++) {
		size_t in;

		if (pos >= bv[i].bv_len) {
			pos -= bv[i].bv_len;
			continue;
		}
		in = bv[i].bv_offset + pos;
		*poff = offset_in_page(in);
		*avail = min_t(size_t, bv[i].bv_len - pos, PAGE_SIZE - *poff);
		return nth_page(bv[i].bv_page, in >> PAGE_SHIFT);
	}
	return NULL;
}

/*
 * Copy @len bytes between [@off, @off + @len) of @buf and either the same
 * range at @ooff of @other or, without @other, the kernel memory @mem:
 * into @buf if @to_buf.  The ranges lie within their buffers and may
 * overlap.  Return: the bytes copied, short only if the bvecs are shorter
 * than the buffers say (a bug, warned about).
 */
static size_t io_bpf_buf_xfer(struct io_bpf_buf *buf, size_t off,
			      const struct io_bpf_buf *other, size_t ooff,
			      u8 *mem, size_t len, bool to_buf)
{
	size_t done = 0;

	while (done < len) {
		size_t avail, oavail = len - done, n;
		unsigned int poff, opoff = 0;
		struct page *page, *opage = NULL;
		u8 *addr, *oaddr;

		page = io_bpf_buf_page(buf, off + done, &poff, &avail);
		if (other)
			opage = io_bpf_buf_page(other, ooff + done, &opoff,
						&oavail);
		if (WARN_ON_ONCE(!page || (other && !opage)))
			break;
		n = min3(len - done, avail, oavail);
		addr = kmap_local_page(page);
		oaddr = other ? (u8 *)kmap_local_page(opage) + opoff : mem + done;
		if (to_buf)
			memmove(addr + poff, oaddr, n);
		else
			memmove(oaddr, addr + poff, n);
		if (other)
			kunmap_local(oaddr);
		kunmap_local(addr);
		done += n;
	}
	return done;
}

/**
 * io_bpf_buf_copy - copy bytes between two buffers
 * @dst: the buffer to copy to
 * @doff: where in @dst
 * @src: the buffer to copy from
 * @soff: where in @src
 * @len: how many bytes; both ranges are within their buffers
 *
 * The two ranges may overlap.
 *
 * Return: the number of bytes copied, @len unless the bvecs are shorter
 * than the buffers say (a bug, warned about).
 */
size_t io_bpf_buf_copy(struct io_bpf_buf *dst, size_t doff,
		       const struct io_bpf_buf *src, size_t soff, size_t len)
{
	if (len)
		dst->dirty = true;
	return io_bpf_buf_xfer(dst, doff, src, soff, NULL, len, true);
}

/**
 * io_bpf_buf_copy_mem - copy bytes between a buffer and kernel memory
 * @buf: the buffer
 * @off: where in @buf; [@off, @off + @len) is within it
 * @mem: @len bytes of kernel memory (a BPF program's)
 * @len: how many bytes
 * @to_buf: copy @mem into @buf, else @buf into @mem
 *
 * Return: as io_bpf_buf_copy().
 */
size_t io_bpf_buf_copy_mem(struct io_bpf_buf *buf, size_t off, void *mem,
			   size_t len, bool to_buf)
{
	if (to_buf && len)
		buf->dirty = true;
	return io_bpf_buf_xfer(buf, off, NULL, 0, mem, len, to_buf);
}

/**
 * io_bpf_buf_slice - direct access to bytes of a buffer
 * @buf: the buffer
 * @off: the offset of the first byte
 * @size: the number of bytes, which must lie in one page
 *
 * The caller may write through the pointer: @buf counts as written.
 *
 * Return: a pointer to the bytes, or NULL if they are not all in @buf or
 * not in one page.
 */
u8 *io_bpf_buf_slice(struct io_bpf_buf *buf, size_t off, size_t size)
{
	unsigned int poff;
	struct page *page;
	size_t avail;

	if (!size || off >= buf->len || size > buf->len - off)
		return NULL;
	page = io_bpf_buf_page(buf, off, &poff, &avail);
	if (!page || avail < size)
		return NULL;
	/* pinned or registered pages stay mapped: no highmem on 64-bit */
	if (PageHighMem(page))
		return NULL;
	buf->dirty = true;
	return (u8 *)page_address(page) + poff;
}
