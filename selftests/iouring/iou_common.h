/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the BPF programs and the test programs: ring sizes the BPF
 * programs are built for, and the layouts of the parameter regions.
 */
#ifndef IOU_COMMON_H
#define IOU_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ring of the nop and queue-depth programs */
#define NOPS_SQ_ENTRIES		64
#define NOPS_CQ_ENTRIES		128

/* ring of the cp program: one request in flight */
#define CP_SQ_ENTRIES		4
#define CP_CQ_ENTRIES		8

/* ring of the overflow program: a small CQ */
#define OVF_SQ_ENTRIES		8
#define OVF_CQ_ENTRIES		8

#define QD_LOG_ENTRIES		256

/* nops_inline_ops: bound of the NOPs one loop step runs */
#define NOPS_INLINE_MAX		64

/* nops: BPF writes NOP SQEs at SQ index 0 (SQ_REWIND) */
struct nops_params {
	__u64 nr;		/* NOPs to run */
	__u32 qd;		/* at most that many in flight */
	__u32 per_step;		/* nops_inline_ops: NOPs per loop step, at most */
	__u64 submitted;
	__u64 completed;
	__u64 bad_cqes;		/* unexpected res or user_data */
	__u64 steps;		/* calls of loop_step */
	__u32 max_inflight;
	__s32 error;		/* failed bpf_io_uring_submit_sqes() */
};

/* queued: the application queued the SQEs, BPF keeps qd in flight */
struct qd_params {
	__u64 nr;
	__u32 qd;
	__u32 pad;
	__u64 submitted;
	__u64 completed;
	__u64 steps;
	__u32 max_inflight;
	__s32 error;
	__u64 log_user_data[QD_LOG_ENTRIES];
	__s32 log_res[QD_LOG_ENTRIES];
};

/* cp: READ -> WRITE(bytes read) -> READ ... until EOF */
enum {
	CP_IDLE,
	CP_READING,
	CP_WRITING,
	CP_DONE,
};

struct cp_params {
	__s32 in_fd;
	__s32 out_fd;
	__u64 buf;		/* user address of the bounce buffer */
	__u32 block;		/* bytes per READ */
	__u32 stream;		/* in_fd is not seekable: read at offset -1 */
	__u64 in_off;
	__u64 out_off;
	__u64 bytes;		/* written */
	__u64 reads;
	__u64 writes;
	__u64 short_reads;	/* READs that returned 0 < res < block */
	__u64 steps;
	__u32 state;
	__u32 pending;		/* bytes of the buffer still to write */
	__u32 written;		/* bytes of the buffer written so far */
	__s32 error;		/* negative CQE result that stopped it */
	__u32 sqe_flags;	/* IOSQE_* for every SQE, e.g. IOSQE_ASYNC */
	__u32 pad;
};

/* overflow: rounds of 2 * OVF_CQ_ENTRIES NOPs into a CQ of OVF_CQ_ENTRIES */
struct ovf_params {
	__u64 rounds;
	__u64 submitted;
	__u64 completed;
	__u64 bad_cqes;
	__u64 steps;
	__u64 overflow_seen;	/* steps that found the CQ full */
	__s32 error;
	__u32 pad;
};

#define REGION_MAGIC_APP	0x1234abcd5678ef00ULL
#define REGION_MAGIC_BPF	0xfeedface00c0ffeeULL

#endif
