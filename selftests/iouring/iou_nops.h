/* SPDX-License-Identifier: GPL-2.0 */
/* Loading nops.bpf.c, shared by the tests and the benchmark */
#ifndef IOU_NOPS_H
#define IOU_NOPS_H

#include "nops.skel.h"

/* Open and load nops.bpf.c with every struct_ops map set to @ring_fd */
static inline struct nops *nops_load(int ring_fd)
{
	struct nops *skel = nops__open();

	if (!skel)
		return NULL;
	skel->struct_ops.nops_ops->ring_fd = ring_fd;
	skel->struct_ops.nops_inline_ops->ring_fd = ring_fd;
	skel->struct_ops.queued_ops->ring_fd = ring_fd;
	skel->struct_ops.empty_ops->ring_fd = ring_fd;
	skel->struct_ops.empty_ns_ops->ring_fd = ring_fd;
	skel->struct_ops.regions_ops->ring_fd = ring_fd;
	if (nops__load(skel)) {
		nops__destroy(skel);
		return NULL;
	}
	return skel;
}

#endif
