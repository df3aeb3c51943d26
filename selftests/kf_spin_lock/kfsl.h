/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between kfsl_verifier.bpf.c and kfsl_verifier.c */
#ifndef __KFSL_H
#define __KFSL_H

/* Context of the BPF_PROG_TYPE_SYSCALL test programs */
struct kfsl_args {
	__u64 in;
};

#endif /* __KFSL_H */
