/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by opbpf_bench.bpf.c and iou_opbpf_bench.c: the operations the
 * benchmark registers and the parameter region of the loop that transforms
 * blocks between completions.
 */
#ifndef IOU_OPBPF_BENCH_H
#define IOU_OPBPF_BENCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* slots of the operations */
#define OPBB_SLOT_EMPTY		0	/* issue_fn only, returns 0 */
#define OPBB_SLOT_ALL		1	/* prep, issue, fail, cleanup: all empty */
#define OPBB_SLOT_XFORM		2	/* XOR buffer 0 with OPBB_KEY */

/* the transform: every 64-bit word of a block XORed with the key */
#define OPBB_BLOCK		4096
#define OPBB_WORDS		(OPBB_BLOCK / 8)
#define OPBB_KEY		0x5a5a5a5aa5a5a5a5ULL

/* ring of the benchmark */
#define OPBB_SQ_ENTRIES		64
#define OPBB_CQ_ENTRIES		128

/*
 * The loop's region: these parameters in its first page, the block in the
 * second (also registered as fixed buffer 0, which the READs and WRITEs
 * use).
 */
#define OPBB_REGION_SIZE	(2 * OPBB_BLOCK)
#define OPBB_DATA_OFF		OPBB_BLOCK

enum {
	OPBB_IDLE,
	OPBB_READING,
	OPBB_WRITING,
	OPBB_DONE,
};

struct opbb_params {
	__s32 in_fd;
	__s32 out_fd;
	__u64 buf;		/* user address of the block (fixed buffer 0) */
	__u64 nr;		/* blocks to move */
	__u64 file_blocks;	/* block i is at offset (i % file_blocks) * OPBB_BLOCK */
	__u64 done;		/* blocks written */
	__u64 steps;
	__u32 state;
	__s32 error;		/* a CQE result that stopped the loop */
};

#endif
