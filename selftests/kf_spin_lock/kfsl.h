/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between kfsl_verifier.bpf.c and kfsl_verifier.c */
#ifndef __KFSL_H
#define __KFSL_H

/* Context of the BPF_PROG_TYPE_SYSCALL test programs */
struct kfsl_args {
	__u64 in;
};

/* ufq_flagged_ops: its FIFO of request ids and what it saw (bss) */
#define KFSL_UFQ_RING 16

struct kfsl_ufq {
	__u64 ids[KFSL_UFQ_RING];
	__u32 head;
	__u32 tail;
	__u32 inserted;
	__u32 dispatched;
	__u32 merge_calls;
	__u64 last_id;
};

#endif /* __KFSL_H */
