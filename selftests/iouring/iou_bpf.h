/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations the BPF programs need beyond vmlinux.h */
#ifndef IOU_BPF_H
#define IOU_BPF_H

extern int bpf_io_uring_submit_sqes(struct io_ring_ctx *ctx, __u32 nr) __ksym;
extern __u8 *bpf_io_uring_get_region(struct io_ring_ctx *ctx, __u32 region_id,
				     const __u64 rdwr_buf_size) __ksym;
extern int bpf_io_uring_buf_read(struct io_ring_ctx *ctx, __u32 buf_index,
				 __u64 off, void *dst, __u32 dst__sz) __ksym;
extern int bpf_io_uring_buf_write(struct io_ring_ctx *ctx, __u32 buf_index,
				  __u64 off, void *src, __u32 src__sz) __ksym;
extern __u8 *bpf_io_uring_buf_slice(struct io_ring_ctx *ctx, __u32 buf_index,
				    __u64 off, const __u64 rdwr_buf_size) __ksym;

#define CQ_REGION_SIZE(entries) \
	(sizeof(struct io_rings) + (entries) * sizeof(struct io_uring_cqe))
#define SQ_REGION_SIZE(entries)	((entries) * sizeof(struct io_uring_sqe))

#endif
