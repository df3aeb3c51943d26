// SPDX-License-Identifier: GPL-2.0
/*
 * The test program: each 1 MiB region of the device does one thing, the
 * right one or a wrong one (enum ublk_test_region in ublk_bpf_shared.h);
 * the rest of the device is the null target.  Over the server's null
 * target, so that what is redirected is served too.
 */
#include "ublk_bpf.h"

#define EIO	5
#define ENOSPC	28
#define EBADE	52

char LICENSE[] SEC("license") = "GPL";

/* the device attach_dev() was called for, +1; 0 after detach_dev() */
__u32 attached_dev;
__u64 released;

static __always_inline unsigned int region(const struct ublk_bpf_io *io)
{
	return io->iod.start_sector >> (UBLK_TEST_REGION_SHIFT - 9);
}

static __always_inline ublk_bpf_return_t complete(struct ublk_bpf_io *io,
						  int res)
{
	ublk_bpf_complete_io(io, res);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC("struct_ops/test_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(test_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done)
{
	unsigned int left = io->bytes - done;
	int ok;

	switch (region(io)) {
	case TR_REDIRECT:
	case TR_DAEMON:
		return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	case TR_CONTINUE_512:
		if (left == 512)
			ublk_bpf_complete_io(io, ublk_io_done_bytes(io));
		return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, 512);
	case TR_CONTINUE_4K:
		if (left <= 4096) {
			ublk_bpf_complete_io(io, ublk_io_done_bytes(io));
			return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, left);
		}
		return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, 4096);
	case TR_CONTINUE_ZERO:
		return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, 0);
	case TR_CONTINUE_ODD:
		return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, 100);
	case TR_CONTINUE_PAST:
		return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, left + 512);
	case TR_REDIRECT_PART:
		if (!done)
			return ublk_bpf_return(UBLK_BPF_IO_CONTINUE, 512);
		return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	case TR_QUEUED_NOCOMP:
		return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
	case TR_RES_PAST:
		return complete(io, io->bytes + 512);
	case TR_RES_BAD_ERRNO:
		return complete(io, -5000);
	case TR_COMPLETE_TWICE:
		ublk_bpf_complete_io(io, ublk_io_done_bytes(io));
		return complete(io, -EIO);
	case TR_BAD_DISP:
		return ublk_bpf_return(7, 0);
	case TR_ENOSPC:
		return complete(io, -ENOSPC);
	case TR_KFUNCS:
		ok = ublk_bpf_get_dev_id(io) == io->dev_id &&
		     ublk_bpf_get_dev_id(io) + 1 == attached_dev &&
		     ublk_bpf_get_queue_id(io) == io->q_id &&
		     ublk_bpf_get_io_tag(io) == io->tag &&
		     ublk_bpf_get_io_tag(io) < 128;
		return complete(io, ok ? ublk_io_done_bytes(io) : -EBADE);
	default:
		return complete(io, ublk_io_done_bytes(io));
	}
}

/* only what ->queue_io_cmd() redirected comes here */
SEC("struct_ops.s/test_queue_io_cmd_daemon")
ublk_bpf_return_t BPF_PROG(test_queue_io_cmd_daemon, struct ublk_bpf_io *io,
			   unsigned int done)
{
	if (region(io) == TR_DAEMON)
		return complete(io, ublk_io_done_bytes(io));
	return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
}

SEC("struct_ops/test_release_io_cmd")
void BPF_PROG(test_release_io_cmd, struct ublk_bpf_io *io)
{
	__sync_fetch_and_add(&released, 1);
}

SEC("struct_ops.s/test_attach_dev")
int BPF_PROG(test_attach_dev, __u32 dev_id)
{
	attached_dev = dev_id + 1;
	return 0;
}

SEC("struct_ops.s/test_detach_dev")
void BPF_PROG(test_detach_dev, __u32 dev_id)
{
	if (attached_dev == dev_id + 1)
		attached_dev = 0;
}

SEC(".struct_ops.link")
struct ublk_bpf_ops test_ops = {
	.queue_io_cmd = (void *)test_queue_io_cmd,
	.queue_io_cmd_daemon = (void *)test_queue_io_cmd_daemon,
	.release_io_cmd = (void *)test_release_io_cmd,
	.attach_dev = (void *)test_attach_dev,
	.detach_dev = (void *)test_detach_dev,
};
