/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IOU_BPF_EXT_H
#define IOU_BPF_EXT_H

#include <linux/io_uring_types.h>

#include "bpf_buf.h"

/*
 * IORING_OP_BPF: an SQE opcode whose prep, issue, fail and cleanup are the
 * programs of a BPF struct_ops uring_bpf_ops registered on the ring.
 */

/* buffers one request may carry, and vectors of an IO_BPF_BUF_VEC buffer */
#define IO_BPF_MAX_BUFS		4
#define IO_BPF_MAX_VECS		16

/*
 * A request's own data, in its command area (struct io_cmd_data); the
 * layout is ABI for BPF programs, which find it in the kernel BTF.  Only
 * ->pdu is writable by the programs.
 */
struct uring_bpf_data {
	/* req->file: IORING_OP_BPF takes no file, always NULL */
	struct file			*file;
	/* the operation, kept by the request until it is freed */
	const struct uring_bpf_ops	*ops;
	/* sqe->bpf_op_flags */
	u32				opf;
	/* IO_URING_F_* of the issue in progress */
	u32				issue_flags;
	/* the CQE result uring_bpf_set_result() set, with IO_BPF_F_RES_SET */
	s32				res;
	u32				flags;
	/* the program's per-request data, zeroed at prep */
	u8				pdu[32];
};

/* uring_bpf_data->flags */
#define IO_BPF_F_RES_SET	BIT(0)

/*
 * struct_ops implementing one operation.  The member names, order and types
 * are those of Ming Lei's series: ABI for BPF programs.
 */
struct uring_bpf_ops {
	/* the slot, below IO_URING_BPF_EXT_MAX_OPS, that SQEs select */
	unsigned short	id;
	/* the ring to register on, a file descriptor of the registering task */
	int		ring_fd;
	/* at submission: 0 or a negative errno that fails the request */
	int (*prep_fn)(struct uring_bpf_data *data,
		       const struct io_uring_sqe *sqe);
	/* when the request runs: its result, unless set_result() set one */
	int (*issue_fn)(struct uring_bpf_data *data);
	/* the request failed or was cancelled before or instead of issue */
	void (*fail_fn)(struct uring_bpf_data *data);
	/* the request is freed */
	void (*cleanup_fn)(struct uring_bpf_data *data);
	/* kernel private: the ring the ops are registered on */
	void		*priv;
};

struct io_bpf_async {
	unsigned int		nr;
	struct io_bpf_buf	bufs[IO_BPF_MAX_BUFS];
};

int io_uring_bpf_prep(struct io_kiocb *req, const struct io_uring_sqe *sqe);
int io_uring_bpf_issue(struct io_kiocb *req, unsigned int issue_flags);
void io_uring_bpf_fail(struct io_kiocb *req);
void io_uring_bpf_cleanup(struct io_kiocb *req);

#ifdef CONFIG_IO_URING_BPF_EXT
void io_unregister_bpf_ext(struct io_ring_ctx *ctx);
#else
static inline void io_unregister_bpf_ext(struct io_ring_ctx *ctx)
{
}
#endif

#endif
