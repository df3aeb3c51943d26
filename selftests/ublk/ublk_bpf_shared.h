/* SPDX-License-Identifier: GPL-2.0 */
/* What the server and its BPF programs (progs/) agree on. */
#ifndef UBLK_BPF_SHARED_H
#define UBLK_BPF_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * srv_written (mixed target): one entry per chunk of the device, non-zero
 * once the server wrote in it; the program serves reads of chunks never
 * written (zeroes) and redirects the rest.  srv_mapped (handback target):
 * the same entries, non-zero once the server mapped the chunk: the
 * program does the I/O of mapped chunks, the server the reads of the
 * others, and it maps the chunks of a write and hands the write back.
 */
#define UBLK_BPF_CHUNK_SHIFT	16
#define UBLK_BPF_CHUNK		(1U << UBLK_BPF_CHUNK_SHIFT)

/*
 * The layout of a BPF target over several files (progs/ublk_split.h:
 * stripe, concat), the program's read-only global
 * `const volatile struct ublk_bpf_layout layout`.  The program's initial
 * value names its target; the server refuses a device of another target,
 * and fills in the rest before it loads the object.  File i is file i of
 * the BPF parameter: the device's i-th backing file.
 */
#define UBLK_BPF_LAYOUT_FILES	8	/* UBLK_BPF_MAX_FILES */
enum ublk_bpf_layout_target {
	UBLK_BPF_LAYOUT_STRIPE = 1,
	UBLK_BPF_LAYOUT_CONCAT,
};

struct ublk_bpf_layout {
	__u32	target;		/* enum ublk_bpf_layout_target, the program's */
	__u32	nr_files;
	__u32	chunk_shift;	/* stripe: the chunk is 1 << chunk_shift bytes */
	__u32	reserved;
	/* concat: the device offset where file i ends (its last byte + 1) */
	__u64	end[UBLK_BPF_LAYOUT_FILES];
};

/*
 * The test program (progs/ublk_test.bpf.c) does what the 1 MiB region of
 * the I/O says; outside these regions it is the null target.
 */
#define UBLK_TEST_REGION_SHIFT	20
enum ublk_test_region {
	TR_NULL,		/* QUEUED, completed with its bytes */
	TR_REDIRECT,		/* REDIRECT from both callbacks: the server */
	TR_CONTINUE_512,	/* CONTINUE 512 bytes at a time */
	TR_CONTINUE_ZERO,	/* CONTINUE 0 bytes: EIO */
	TR_CONTINUE_ODD,	/* CONTINUE 100 bytes: EIO */
	TR_CONTINUE_PAST,	/* CONTINUE past the end: EIO */
	TR_REDIRECT_PART,	/* CONTINUE 512, then REDIRECT: EIO */
	TR_QUEUED_NOCOMP,	/* QUEUED, never completed: EIO */
	TR_RES_PAST,		/* completed with more bytes than it has: EIO */
	TR_RES_BAD_ERRNO,	/* completed with -5000: EIO */
	TR_COMPLETE_TWICE,	/* completed twice: the first result stands */
	TR_BAD_DISP,		/* an unknown disposition: EIO */
	TR_ENOSPC,		/* completed with -ENOSPC */
	TR_DAEMON,		/* redirected to queue_io_cmd_daemon, done there */
	TR_KFUNCS,		/* completed if the id kfuncs say what io says */
	TR_CONTINUE_4K,		/* CONTINUE 4096 bytes at a time */
	TR_NR,
};

#endif
