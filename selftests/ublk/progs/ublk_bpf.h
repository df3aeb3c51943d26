/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the ublk_bpf_ops programs of the server share: the kfuncs, the
 * return value, the I/O operations (UAPI defines, not in vmlinux.h).
 */
#ifndef UBLK_PROGS_BPF_H
#define UBLK_PROGS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../ublk_bpf_shared.h"

#define UBLK_IO_OP_READ		0
#define UBLK_IO_OP_WRITE	1
#define UBLK_IO_OP_FLUSH	2
#define UBLK_IO_OP_DISCARD	3
#define UBLK_IO_OP_WRITE_ZEROES	5

/* io->flags (drivers/block/ublk_bpf.h): the server handed the I/O back */
#define UBLK_BPF_IO_F_HANDED_BACK	(1U << 3)

/* a disposition and a byte count, as the queue callbacks return them */
#define ublk_bpf_return(disp, bytes) \
	(((__u64)(disp) << 32) | (__u32)(bytes))

extern void ublk_bpf_complete_io(struct ublk_bpf_io *io, int res) __ksym;
extern __u32 ublk_bpf_get_io_tag(const struct ublk_bpf_io *io) __ksym;
extern __u32 ublk_bpf_get_queue_id(const struct ublk_bpf_io *io) __ksym;
extern __u32 ublk_bpf_get_dev_id(const struct ublk_bpf_io *io) __ksym;

static __always_inline unsigned int ublk_io_op(const struct ublk_bpf_io *io)
{
	return io->iod.op_flags & 0xff;
}

/* what a completed I/O returns: its bytes for reads and writes, else 0 */
static __always_inline int ublk_io_done_bytes(const struct ublk_bpf_io *io)
{
	unsigned int op = ublk_io_op(io);

	if (op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE)
		return io->bytes;
	return 0;
}

#endif
