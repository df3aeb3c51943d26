// SPDX-License-Identifier: GPL-2.0
/*
 * IORING_OP_BPF: io_uring operations defined by BPF.
 *
 * A BPF program implements struct uring_bpf_ops and registers it on a ring
 * created with IORING_SETUP_BPF_EXT by setting ->id and ->ring_fd in the
 * struct_ops map and creating the link.  An IORING_OP_BPF SQE selects one of
 * the ring's IO_URING_BPF_EXT_MAX_OPS operations with the top bits of
 * sqe->bpf_op_flags; ->prep_fn() runs at submission, ->issue_fn() when the
 * request runs (inline or from io-wq), ->fail_fn() if it fails before or
 * instead, ->cleanup_fn() when it is freed.  sqe->addr and sqe->len describe
 * the buffers the request carries (struct io_bpf_buf_desc), which the kernel
 * resolves at prep: user memory is pinned, registered buffers are held
 * through the request's resource node, so the kfuncs copying between them
 * never fault.
 *
 * Each request holds a reference to the struct_ops map of its operation, so
 * that the programs stay until the request is freed (or, without a
 * cleanup_fn or buffers to release, until issue_fn returned: fail_fn only
 * runs instead of issue): unregistering only empties the ring's slot and
 * never waits for requests.  The slots are written with both
 * io_bpf_ext_lock and the ring's ->uring_lock held and read at prep under
 * ->uring_lock; ->priv of the ops is written under io_bpf_ext_lock.  The
 * loop ops (io_uring/bpf-ops.c) are independent: a ring may have both.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/io_uring_types.h>

#include "io_uring.h"
#include "register.h"
#include "rsrc.h"
#include "bpf_ext.h"

static DEFINE_MUTEX(io_bpf_ext_lock);
static const struct btf_type *uring_bpf_data_type;

/*
 * ->priv of ops whose ring was freed while they were registered: the ops
 * stay taken until their link goes, so that the same map cannot be linked
 * to a second ring meanwhile.
 */
#define IO_BPF_EXT_ORPHANED	((void *)-1L)

/*
 * What a program returns or sets becomes a CQE result: errnos above the
 * ones user space knows (-ERESTARTSYS, -EIOCBQUEUED, ...) are the kernel's
 * and io_uring's own and must not leak.
 */
static inline int io_bpf_sanitize(int res)
{
	return res <= -ERESTARTSYS ? -EINVAL : res;
}

/* ---------------------------------------------------------------- buffers */

static void io_bpf_release_buf(struct io_bpf_buf *buf)
{
	unsigned int i;

	if (!buf->owned)
		return;
	/* what the programs wrote must reach the file of a shared mapping */
	for (i = 0; i < buf->nr_bvecs; i++) {
		struct page *page = buf->bvec[i].bv_page;

		unpin_user_pages_dirty_lock(&page, 1, buf->dirty);
	}
	kvfree(buf->bvec);
}

static void io_bpf_release_bufs(struct io_kiocb *req)
{
	struct io_bpf_async *io = req->async_data;
	unsigned int i;

	if (!(req->flags & REQ_F_ASYNC_DATA))
		return;
	for (i = 0; i < io->nr; i++)
		io_bpf_release_buf(&io->bufs[i]);
	io->nr = 0;
}

/* Pin @len bytes of user memory at @addr into @bv, one entry per page */
static int io_bpf_pin(u64 addr, size_t len, struct bio_vec *bv,
		      unsigned int nr_pages)
{
	unsigned int off = offset_in_page(addr), i;
	struct page **pages;
	int ret;

	pages = kvmalloc_array(nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	ret = pin_user_pages_fast(addr & PAGE_MASK, nr_pages, FOLL_WRITE, pages);
	if (ret != nr_pages) {
		if (ret > 0)
			unpin_user_pages(pages, ret);
		kvfree(pages);
		return -EFAULT;
	}
	for (i = 0; i < nr_pages; i++) {
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		bvec_set_page(&bv[i], pages[i], n, off);
		len -= n;
		off = 0;
	}
	kvfree(pages);
	return 0;
}

static inline unsigned int io_bpf_nr_pages(u64 addr, size_t len)
{
	return len ? DIV_ROUND_UP(offset_in_page(addr) + len, PAGE_SIZE) : 0;
}

/* IO_BPF_BUF_USER and IO_BPF_BUF_VEC: pin the pages */
static int io_bpf_import_user(struct io_kiocb *req, struct io_bpf_buf *buf)
{
	struct iovec iov[IO_BPF_MAX_VECS];
	unsigned int nr_iov, nr_pages = 0, i, done = 0;
	size_t total = 0;
	struct bio_vec *bv;
	int ret;

	if (buf->desc.type == IO_BPF_BUF_USER) {
		iov[0].iov_base = u64_to_user_ptr(buf->desc.addr);
		iov[0].iov_len = buf->desc.len;
		nr_iov = 1;
	} else {
		nr_iov = buf->desc.len;
		if (nr_iov > IO_BPF_MAX_VECS)
			return -EINVAL;
		if (req->ctx->compat)
			return -EOPNOTSUPP;
		if (copy_from_user(iov, u64_to_user_ptr(buf->desc.addr),
				   nr_iov * sizeof(*iov)))
			return -EFAULT;
	}
	for (i = 0; i < nr_iov; i++) {
		u64 addr = (uintptr_t)iov[i].iov_base;

		if (iov[i].iov_len > MAX_RW_COUNT - total)
			return -EINVAL;
		if (iov[i].iov_len && !access_ok(iov[i].iov_base, iov[i].iov_len))
			return -EFAULT;
		total += iov[i].iov_len;
		nr_pages += io_bpf_nr_pages(addr, iov[i].iov_len);
	}
	buf->len = total;
	if (!nr_pages)
		return 0;

	bv = kvmalloc_array(nr_pages, sizeof(*bv), GFP_KERNEL);
	if (!bv)
		return -ENOMEM;
	for (i = 0; i < nr_iov; i++) {
		u64 addr = (uintptr_t)iov[i].iov_base;
		unsigned int n = io_bpf_nr_pages(addr, iov[i].iov_len);

		if (!n)
			continue;
		ret = io_bpf_pin(addr, iov[i].iov_len, bv + done, n);
		if (ret)
			goto err;
		done += n;
	}
	buf->bvec = bv;
	buf->nr_bvecs = nr_pages;
	buf->owned = true;
	/* one user range: whole pages between the first and the last */
	buf->uniform = nr_iov == 1;
	return 0;
err:
	for (i = 0; i < done; i++)
		unpin_user_page(bv[i].bv_page);
	kvfree(bv);
	return ret;
}

/* IO_BPF_BUF_FIXED: a range of a registered buffer, held by the rsrc node */
static int io_bpf_import_fixed(struct io_kiocb *req, struct io_bpf_buf *buf)
{
	struct io_ring_ctx *ctx = req->ctx;
	struct io_mapped_ubuf *imu;

	/* sqe->addr is an address within the buffer, as for READ_FIXED */
	imu = io_bpf_buf_lookup(ctx, buf->desc.buf_index);
	if (unlikely(!imu) || buf->desc.addr < imu->ubuf)
		return -EFAULT;
	if (io_bpf_buf_set_fixed(buf, imu, buf->desc.addr - imu->ubuf,
				 buf->desc.len))
		return -EFAULT;
	io_req_set_rsrc_node(req, ctx, 0);
	return 0;
}

static int io_bpf_import_bufs(struct io_kiocb *req,
			      const struct io_uring_sqe *sqe)
{
	u64 uaddr = READ_ONCE(sqe->addr);
	u32 nr = READ_ONCE(sqe->len);
	struct io_bpf_async *io;
	int ret;

	if (!nr)
		return 0;
	if (nr > IO_BPF_MAX_BUFS)
		return -EINVAL;
	if (io_alloc_async_data(req))
		return -ENOMEM;
	io = req->async_data;
	io->nr = 0;

	while (io->nr < nr) {
		struct io_bpf_buf *buf = &io->bufs[io->nr];

		memset(buf, 0, sizeof(*buf));
		if (copy_from_user(&buf->desc, u64_to_user_ptr(uaddr) +
				   io->nr * sizeof(buf->desc), sizeof(buf->desc)))
			return -EFAULT;
		if (buf->desc.reserved)
			return -EINVAL;

		switch (buf->desc.type) {
		case IO_BPF_BUF_USER:
			if (buf->desc.len > MAX_RW_COUNT)
				return -EINVAL;
			fallthrough;
		case IO_BPF_BUF_VEC:
			ret = io_bpf_import_user(req, buf);
			break;
		case IO_BPF_BUF_FIXED:
			if (buf->desc.len > MAX_RW_COUNT)
				return -EINVAL;
			ret = io_bpf_import_fixed(req, buf);
			break;
		case IO_BPF_BUF_KFIXED:
		case IO_BPF_BUF_REG_VEC:
			/* 6.12 has no kernel or vectored registered buffers */
			return -EOPNOTSUPP;
		default:
			return -EINVAL;
		}
		if (ret)
			return ret;
		io->nr++;
	}
	return 0;
}

static struct io_bpf_buf *io_bpf_get_buf(struct uring_bpf_data *data, u32 idx)
{
	struct io_kiocb *req = cmd_to_io_kiocb(data);
	struct io_bpf_async *io = req->async_data;

	if (!(req->flags & REQ_F_ASYNC_DATA) || idx >= io->nr)
		return NULL;
	return &io->bufs[array_index_nospec(idx, io->nr)];
}

/*
 * The buffer of the request that @desc lies in, and where: same type and
 * index, and for user and registered buffers a range within one of the
 * request's; a vectored buffer only as a whole.
 */
static struct io_bpf_buf *io_bpf_match(struct uring_bpf_data *data,
				       const struct io_bpf_buf_desc *desc,
				       size_t *off, size_t *len, int *err)
{
	struct io_kiocb *req = cmd_to_io_kiocb(data);
	struct io_bpf_async *io = req->async_data;
	unsigned int i;

	*err = -EINVAL;
	if (desc->reserved || desc->type > IO_BPF_BUF_REG_VEC)
		return NULL;
	*err = -EFAULT;
	if (!(req->flags & REQ_F_ASYNC_DATA))
		return NULL;
	for (i = 0; i < io->nr; i++) {
		struct io_bpf_buf *buf = &io->bufs[i];

		if (buf->desc.type != desc->type ||
		    buf->desc.buf_index != desc->buf_index)
			continue;
		if (desc->type == IO_BPF_BUF_VEC) {
			if (desc->addr != buf->desc.addr ||
			    desc->len != buf->desc.len)
				continue;
			*off = 0;
			*len = buf->len;
			return buf;
		}
		if (desc->addr < buf->desc.addr ||
		    desc->len > buf->desc.len ||
		    desc->addr - buf->desc.addr > buf->desc.len - desc->len)
			continue;
		*off = desc->addr - buf->desc.addr;
		*len = desc->len;
		return buf;
	}
	return NULL;
}

/* ---------------------------------------------------------------- opcode */

int io_uring_bpf_prep(struct io_kiocb *req, const struct io_uring_sqe *sqe)
{
	struct uring_bpf_data *data = io_kiocb_to_cmd(req, struct uring_bpf_data);
	struct io_ring_ctx *ctx = req->ctx;
	const struct uring_bpf_ops *ops;
	unsigned int id;
	int ret;

	BUILD_BUG_ON(sizeof(struct io_bpf_buf_desc) != 16);
	BUILD_BUG_ON(offsetof(struct uring_bpf_data, file) != 0);

	/* nothing of a previous request must be seen by fail or cleanup */
	data->ops = NULL;
	data->opf = READ_ONCE(sqe->bpf_op_flags);
	data->issue_flags = 0;
	data->res = 0;
	data->flags = 0;
	memset(data->pdu, 0, sizeof(data->pdu));

	if (!(ctx->flags & IORING_SETUP_BPF_EXT))
		return -EOPNOTSUPP;
	if (sqe->ioprio || sqe->off || sqe->buf_index || sqe->splice_fd_in)
		return -EINVAL;
	id = data->opf >> IORING_BPF_OP_SHIFT;
	if (id >= IO_URING_BPF_EXT_MAX_OPS)
		return -EINVAL;
	ops = ctx->bpf_ext_ops[array_index_nospec(id, IO_URING_BPF_EXT_MAX_OPS)];
	if (!ops)
		return -EOPNOTSUPP;
	/* the link holds the map, as long as the slot has it */
	if (WARN_ON_ONCE(!bpf_struct_ops_get(ops)))
		return -EOPNOTSUPP;
	data->ops = ops;
	req->flags |= REQ_F_NEED_CLEANUP;

	ret = io_bpf_import_bufs(req, sqe);
	if (ret)
		return ret;
	if (!ops->prep_fn)
		return 0;
	ret = ops->prep_fn(data, sqe);
	if (ret > 0)
		return -EINVAL;
	return io_bpf_sanitize(ret);
}

int io_uring_bpf_issue(struct io_kiocb *req, unsigned int issue_flags)
{
	struct uring_bpf_data *data = io_kiocb_to_cmd(req, struct uring_bpf_data);
	const struct uring_bpf_ops *ops = data->ops;
	int ret;

	data->issue_flags = issue_flags;
	ret = ops->issue_fn(data);
	if (data->flags & IO_BPF_F_RES_SET)
		ret = data->res;
	/*
	 * Issue runs once and fail never after it: without cleanup_fn and
	 * buffers nothing of the request needs the ops any more, and it is
	 * freed the fast way, without REQ_F_NEED_CLEANUP.
	 */
	if (!ops->cleanup_fn && !(req->flags & REQ_F_ASYNC_DATA)) {
		data->ops = NULL;
		req->flags &= ~REQ_F_NEED_CLEANUP;
		bpf_struct_ops_put(ops);
	}
	ret = io_bpf_sanitize(ret);
	if (ret < 0)
		req_set_fail(req);
	io_req_set_res(req, ret, 0);
	return IOU_OK;
}

void io_uring_bpf_fail(struct io_kiocb *req)
{
	struct uring_bpf_data *data = io_kiocb_to_cmd(req, struct uring_bpf_data);

	if (data->ops && data->ops->fail_fn)
		data->ops->fail_fn(data);
}

void io_uring_bpf_cleanup(struct io_kiocb *req)
{
	struct uring_bpf_data *data = io_kiocb_to_cmd(req, struct uring_bpf_data);
	const struct uring_bpf_ops *ops = data->ops;

	if (!ops)
		return;
	if (ops->cleanup_fn)
		ops->cleanup_fn(data);
	io_bpf_release_bufs(req);
	data->ops = NULL;
	bpf_struct_ops_put(ops);
}

/* ---------------------------------------------------------------- kfuncs */

__bpf_kfunc_start_defs();

/**
 * uring_bpf_set_result - set the CQE result of the request
 * @data: the request
 * @res: the result; a negative one fails the request, which breaks its link
 *
 * Overrides what ->issue_fn() returns.
 */
__bpf_kfunc void uring_bpf_set_result(struct uring_bpf_data *data, int res)
{
	data->res = res;
	data->flags |= IO_BPF_F_RES_SET;
}

/**
 * uring_bpf_get_buf_desc - a buffer descriptor of the request
 * @data: the request
 * @idx: the index of the descriptor in the SQE's array
 * @desc: where to copy it
 *
 * Return: 0, or -ENOENT if the request has no buffer @idx.
 */
__bpf_kfunc int uring_bpf_get_buf_desc(struct uring_bpf_data *data, u32 idx,
				       struct io_bpf_buf_desc *desc)
{
	struct io_bpf_buf *buf = io_bpf_get_buf(data, idx);

	if (!buf)
		return -ENOENT;
	*desc = buf->desc;
	return 0;
}

/**
 * uring_bpf_memcpy - copy between two buffers of the request
 * @data: the request
 * @dst: where to copy to: a descriptor of the request, or a part of one
 * @src: where to copy from, likewise
 *
 * A part of a user or registered buffer is a descriptor of the same type
 * and index whose [addr, addr + len) lies in the buffer; a vectored buffer
 * is only copied as a whole.  Copies the smaller of the two lengths.
 *
 * Return: the number of bytes copied, -EINVAL for a descriptor of an
 * unknown type or with reserved bits, -EFAULT for one that is not in the
 * request's buffers.
 */
__bpf_kfunc int uring_bpf_memcpy(struct uring_bpf_data *data,
				 struct io_bpf_buf_desc *dst,
				 struct io_bpf_buf_desc *src)
{
	size_t doff, dlen, soff, slen, len, done;
	struct io_bpf_buf *dbuf, *sbuf;
	int err;

	dbuf = io_bpf_match(data, dst, &doff, &dlen, &err);
	if (!dbuf)
		return err;
	sbuf = io_bpf_match(data, src, &soff, &slen, &err);
	if (!sbuf)
		return err;
	len = min(dlen, slen);
	if (len > MAX_RW_COUNT)
		return -EINVAL;
	done = io_bpf_buf_copy(dbuf, doff, sbuf, soff, len);
	return done == len ? done : -EFAULT;
}

/**
 * uring_bpf_buf_slice - direct access to bytes of a buffer of the request
 * @data: the request
 * @idx: the index of the buffer in the SQE's array
 * @off: the offset in the buffer
 * @rdwr_buf_size: the number of bytes, a constant
 *
 * The bytes must lie in one page: a program walks a buffer in slices of a
 * size that divides the page size, from a suitably aligned start.
 *
 * Return: a pointer to the bytes, or NULL if they are not in the buffer or
 * not in one page.
 */
__bpf_kfunc u8 *uring_bpf_buf_slice(struct uring_bpf_data *data, u32 idx,
				    u64 off, const size_t rdwr_buf_size)
{
	struct io_bpf_buf *buf = io_bpf_get_buf(data, idx);

	return buf ? io_bpf_buf_slice(buf, off, rdwr_buf_size) : NULL;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(uring_bpf_kfunc_ids)
BTF_ID_FLAGS(func, uring_bpf_set_result, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, uring_bpf_get_buf_desc, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, uring_bpf_memcpy, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, uring_bpf_buf_slice, KF_TRUSTED_ARGS | KF_RET_NULL)
BTF_KFUNCS_END(uring_bpf_kfunc_ids)

BTF_ID_LIST_SINGLE(uring_bpf_ops_ids, struct, uring_bpf_ops)

/* The kfuncs take a request: keep them to uring_bpf_ops programs */
static int uring_bpf_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&uring_bpf_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type == BPF_PROG_TYPE_STRUCT_OPS &&
	    prog->aux->attach_btf_id == uring_bpf_ops_ids[0])
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set uring_bpf_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &uring_bpf_kfunc_ids,
	.filter	= uring_bpf_kfunc_filter,
};

/* ---------------------------------------------------------------- struct_ops */

static bool uring_bpf_is_valid_access(int off, int size,
				      enum bpf_access_type type,
				      const struct bpf_prog *prog,
				      struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/* Programs may write data->pdu, nothing else of the kernel's */
static int uring_bpf_btf_struct_access(struct bpf_verifier_log *log,
				       const struct bpf_reg_state *reg,
				       int off, int size)
{
	const struct btf_type *t = btf_type_by_id(reg->btf, reg->btf_id);

	if (t == uring_bpf_data_type &&
	    off >= offsetof(struct uring_bpf_data, pdu) &&
	    off + size <= offsetofend(struct uring_bpf_data, pdu))
		return 0;

	bpf_log(log,
		"%s: off %d size %d: only uring_bpf_data->pdu is writable\n",
		btf_name_by_offset(reg->btf, t->name_off), off, size);
	return -EACCES;
}

static const struct bpf_verifier_ops uring_bpf_verifier_ops = {
	.get_func_proto		= bpf_base_func_proto,
	.is_valid_access	= uring_bpf_is_valid_access,
	.btf_struct_access	= uring_bpf_btf_struct_access,
};

static int uring_bpf_init(struct btf *btf)
{
	s32 type_id;

	type_id = btf_find_by_name_kind(btf, "uring_bpf_data", BTF_KIND_STRUCT);
	if (type_id < 0)
		return -EINVAL;
	uring_bpf_data_type = btf_type_by_id(btf, type_id);
	return 0;
}

/* Every callback runs where it may not sleep, as in Ming Lei's series */
static int uring_bpf_check_member(const struct btf_type *t,
				  const struct btf_member *member,
				  const struct bpf_prog *prog)
{
	return prog->sleepable ? -EINVAL : 0;
}

static int uring_bpf_init_member(const struct btf_type *t,
				 const struct btf_member *member,
				 void *kdata, const void *udata)
{
	const struct uring_bpf_ops *uops = udata;
	struct uring_bpf_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct uring_bpf_ops, id):
		ops->id = uops->id;
		return 1;
	case offsetof(struct uring_bpf_ops, ring_fd):
		ops->ring_fd = uops->ring_fd;
		return 1;
	}
	/* function pointers, and ->priv which must be zero */
	return 0;
}

static int uring_bpf_validate(void *kdata)
{
	struct uring_bpf_ops *ops = kdata;

	return ops->issue_fn ? 0 : -EINVAL;
}

static int uring_bpf_reg(void *kdata, struct bpf_link *link)
{
	struct uring_bpf_ops *ops = kdata;
	struct io_ring_ctx *ctx;
	struct file *file;
	int ret;

	if (!ops->issue_fn || ops->id >= IO_URING_BPF_EXT_MAX_OPS)
		return -EINVAL;

	file = io_uring_register_get_file(ops->ring_fd, false);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ctx = file->private_data;

	mutex_lock(&io_bpf_ext_lock);
	if (ops->priv) {
		/* the map is linked already, maybe to a ring now gone */
		ret = -EBUSY;
		goto unlock;
	}
	mutex_lock(&ctx->uring_lock);
	if (!(ctx->flags & IORING_SETUP_BPF_EXT)) {
		ret = -EOPNOTSUPP;
	} else if (ctx->bpf_ext_ops[ops->id]) {
		ret = -EBUSY;
	} else {
		ctx->bpf_ext_ops[ops->id] = ops;
		ops->priv = ctx;
		ret = 0;
	}
	mutex_unlock(&ctx->uring_lock);
unlock:
	mutex_unlock(&io_bpf_ext_lock);
	fput(file);
	return ret;
}

/*
 * Empties the slot; requests already prepared keep the map, and with it the
 * programs, until they are freed.  Nothing here waits for them.
 */
static void uring_bpf_unreg(void *kdata, struct bpf_link *link)
{
	struct uring_bpf_ops *ops = kdata;
	struct io_ring_ctx *ctx;

	mutex_lock(&io_bpf_ext_lock);
	ctx = ops->priv;
	if (ctx && ctx != IO_BPF_EXT_ORPHANED) {
		mutex_lock(&ctx->uring_lock);
		ctx->bpf_ext_ops[ops->id] = NULL;
		mutex_unlock(&ctx->uring_lock);
	}
	ops->priv = NULL;
	mutex_unlock(&io_bpf_ext_lock);
}

/*
 * Called when @ctx is freed: no request of it is left and no ops can be
 * registered any more (registering holds a reference to the ring's file).
 * Rings without IORING_SETUP_BPF_EXT or without ops never take the global
 * mutex.
 */
void io_unregister_bpf_ext(struct io_ring_ctx *ctx)
{
	bool attached = false;
	unsigned int i;

	if (!(ctx->flags & IORING_SETUP_BPF_EXT))
		return;
	mutex_lock(&ctx->uring_lock);
	for (i = 0; i < IO_URING_BPF_EXT_MAX_OPS; i++)
		attached |= !!ctx->bpf_ext_ops[i];
	mutex_unlock(&ctx->uring_lock);
	if (!attached)
		return;

	mutex_lock(&io_bpf_ext_lock);
	mutex_lock(&ctx->uring_lock);
	for (i = 0; i < IO_URING_BPF_EXT_MAX_OPS; i++) {
		struct uring_bpf_ops *ops = ctx->bpf_ext_ops[i];

		if (!ops)
			continue;
		ops->priv = IO_BPF_EXT_ORPHANED;
		ctx->bpf_ext_ops[i] = NULL;
	}
	mutex_unlock(&ctx->uring_lock);
	mutex_unlock(&io_bpf_ext_lock);
}

static int uring_bpf_ops__prep_fn(struct uring_bpf_data *data,
				  const struct io_uring_sqe *sqe)
{
	return 0;
}

static int uring_bpf_ops__issue_fn(struct uring_bpf_data *data)
{
	return 0;
}

static void uring_bpf_ops__fail_fn(struct uring_bpf_data *data)
{
}

static void uring_bpf_ops__cleanup_fn(struct uring_bpf_data *data)
{
}

static struct uring_bpf_ops __uring_bpf_ops = {
	.prep_fn	= uring_bpf_ops__prep_fn,
	.issue_fn	= uring_bpf_ops__issue_fn,
	.fail_fn	= uring_bpf_ops__fail_fn,
	.cleanup_fn	= uring_bpf_ops__cleanup_fn,
};

static struct bpf_struct_ops bpf_uring_bpf_ops = {
	.verifier_ops	= &uring_bpf_verifier_ops,
	.init		= uring_bpf_init,
	.check_member	= uring_bpf_check_member,
	.init_member	= uring_bpf_init_member,
	.validate	= uring_bpf_validate,
	.reg		= uring_bpf_reg,
	.unreg		= uring_bpf_unreg,
	.name		= "uring_bpf_ops",
	.cfi_stubs	= &__uring_bpf_ops,
	.owner		= THIS_MODULE,
};

static int __init io_uring_bpf_ext_init(void)
{
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&uring_bpf_kfunc_set);
	if (ret) {
		pr_err("io_uring: cannot register IORING_OP_BPF kfuncs: %d\n", ret);
		return ret;
	}
	ret = register_bpf_struct_ops(&bpf_uring_bpf_ops, uring_bpf_ops);
	if (ret)
		pr_err("io_uring: cannot register uring_bpf_ops: %d\n", ret);
	return ret;
}
late_initcall(io_uring_bpf_ext_init);
