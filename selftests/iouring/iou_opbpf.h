/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by opbpf.bpf.c and iou_opbpf.c: what the test operation does,
 * selected by bits 23-16 of sqe->bpf_op_flags, with an argument in bits
 * 15-0.
 */
#ifndef IOU_OPBPF_H
#define IOU_OPBPF_H

enum {
	OPB_RET_ARG,		/* issue_fn returns arg */
	OPB_SET_NEG_ARG,	/* set_result(-arg), issue_fn returns 7 */
	OPB_RET_NEG_ARG,	/* issue_fn returns -arg */
	OPB_RET_ODD,		/* issue_fn returns odd_ret */
	OPB_COPY,		/* memcpy(desc 1, desc 0) */
	OPB_COPY_PART,		/* memcpy of part_len bytes, at the part offsets */
	OPB_COPY_DESC,		/* memcpy(bad_desc, desc 0) */
	OPB_PREP_FAIL,		/* prep_fn returns -arg */
	OPB_PREP_POSITIVE,	/* prep_fn returns 5 */
	OPB_PDU,		/* prep_fn stores arg in the pdu, issue_fn returns it */
	OPB_COPY_BACK,		/* memcpy(desc 0, desc 1) */
};

#define OPB_FLAGS(mode, arg)	(((mode) << 16) | ((arg) & 0xffff))

/* kernel values the tests check against */
#define OPB_ERESTARTSYS		512	/* the first of the kernel-internal errnos */
#define OPB_MAX_VECS		16	/* IO_BPF_MAX_VECS */
#define OPB_NOP_INJECT_RESULT	(1U << 0)

/* the longest buffer opbpf_crc.bpf.c checksums */
#define OPB_CRC_MAX		4096

#endif
