// SPDX-License-Identifier: GPL-2.0
/*
 * IORING_OP_BPF test operations: results, errors and copies, selected by
 * the SQE (iou_opbpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_opbpf_bpf.h"
#include "iou_opbpf.h"

char LICENSE[] SEC("license") = "GPL";

__u64 nr_prep, nr_issue, nr_fail, nr_cleanup;
int odd_ret;
__u32 part_src_off, part_dst_off, part_len;
struct io_bpf_buf_desc bad_desc;

static __always_inline __u32 mode_of(struct uring_bpf_data *data)
{
	return (data->opf >> 16) & 0xff;
}

static __always_inline __u32 arg_of(struct uring_bpf_data *data)
{
	return data->opf & 0xffff;
}

SEC("struct_ops/t_prep")
int BPF_PROG(t_prep, struct uring_bpf_data *data, const struct io_uring_sqe *sqe)
{
	__sync_fetch_and_add(&nr_prep, 1);
	switch (mode_of(data)) {
	case OPB_PREP_FAIL:
		return -(int)arg_of(data);
	case OPB_PREP_POSITIVE:
		return 5;
	case OPB_PDU:
		*(__u32 *)data->pdu = arg_of(data) + 1;
		break;
	}
	return 0;
}

static int copy(struct uring_bpf_data *data, int mode)
{
	struct io_bpf_buf_desc s = {}, d = {};

	if (uring_bpf_get_buf_desc(data, 0, &s))
		return -ENOENT;
	if (mode == OPB_COPY_DESC)
		return uring_bpf_memcpy(data, &bad_desc, &s);
	if (uring_bpf_get_buf_desc(data, 1, &d))
		return -ENOENT;
	if (mode == OPB_COPY_BACK)
		return uring_bpf_memcpy(data, &s, &d);
	if (mode == OPB_COPY_PART) {
		s.addr += part_src_off;
		s.len = part_len;
		d.addr += part_dst_off;
		d.len = part_len;
	}
	return uring_bpf_memcpy(data, &d, &s);
}

SEC("struct_ops/t_issue")
int BPF_PROG(t_issue, struct uring_bpf_data *data)
{
	int mode = mode_of(data), arg = arg_of(data);

	__sync_fetch_and_add(&nr_issue, 1);
	switch (mode) {
	case OPB_RET_ARG:
		return arg;
	case OPB_SET_NEG_ARG:
		uring_bpf_set_result(data, -arg);
		return 7;
	case OPB_RET_NEG_ARG:
		return -arg;
	case OPB_RET_ODD:
		return odd_ret;
	case OPB_COPY:
	case OPB_COPY_PART:
	case OPB_COPY_DESC:
	case OPB_COPY_BACK:
		return copy(data, mode);
	case OPB_PDU:
		return *(__u32 *)data->pdu;
	}
	return -ENOSYS;
}

SEC("struct_ops/t_fail")
void BPF_PROG(t_fail, struct uring_bpf_data *data)
{
	__sync_fetch_and_add(&nr_fail, 1);
}

SEC("struct_ops/t_cleanup")
void BPF_PROG(t_cleanup, struct uring_bpf_data *data)
{
	__sync_fetch_and_add(&nr_cleanup, 1);
}

/* the test operation, in slot 0 */
SEC(".struct_ops.link")
struct uring_bpf_ops op0 = {
	.id		= 0,
	.prep_fn	= (void *)t_prep,
	.issue_fn	= (void *)t_issue,
	.fail_fn	= (void *)t_fail,
	.cleanup_fn	= (void *)t_cleanup,
};

/* the same programs, for other slots or rings: the test sets the id */
SEC(".struct_ops.link")
struct uring_bpf_ops op1 = {
	.id		= 1,
	.prep_fn	= (void *)t_prep,
	.issue_fn	= (void *)t_issue,
	.fail_fn	= (void *)t_fail,
	.cleanup_fn	= (void *)t_cleanup,
};

/* issue only */
SEC(".struct_ops.link")
struct uring_bpf_ops op2 = {
	.id		= 2,
	.issue_fn	= (void *)t_issue,
};
