/* SPDX-License-Identifier: GPL-2.0 */
/* The IORING_OP_BPF kfuncs, for the BPF programs */
#ifndef IOU_OPBPF_BPF_H
#define IOU_OPBPF_BPF_H

#define EFAULT		14
#define ENOENT		2
#define E2BIG		7
#define ENOSYS		38

extern void uring_bpf_set_result(struct uring_bpf_data *data, int res) __ksym;
extern int uring_bpf_get_buf_desc(struct uring_bpf_data *data, __u32 idx,
				  struct io_bpf_buf_desc *desc) __ksym;
extern int uring_bpf_memcpy(struct uring_bpf_data *data,
			    struct io_bpf_buf_desc *dst,
			    struct io_bpf_buf_desc *src) __ksym;
extern __u8 *uring_bpf_buf_slice(struct uring_bpf_data *data, __u32 idx,
				 __u64 off, const __u64 rdwr_buf_size) __ksym;

#endif
