// SPDX-License-Identifier: GPL-2.0
/*
 * The loop target in BPF that gives its device back to the server: the
 * first I/O that starts at EJECT_SECTOR ejects the device with
 * ublk_bpf_eject() and is redirected, so the server serves it and every
 * I/O after it (bpf_tests.sh t_bpf_eject).  The completion callback ejects
 * too, on an aio that failed: a backing file that fails is the server's
 * to report.
 */
#include "ublk_loop.h"

char LICENSE[] SEC("license") = "GPL";

/* 32 MiB: the test's marker write, far from what probes read */
#define EJECT_SECTOR	65536

extern void ublk_bpf_eject(struct ublk_bpf_io *io, const char *reason,
			   __u32 reason__sz) __ksym;

/*
 * The reason is copied from the stack: 6.12's verifier takes a kfunc's
 * memory argument as written to, and refuses read-only data (.rodata).
 */
#define eject(io, text)							\
({									\
	char ___reason[] = text;					\
	ublk_bpf_eject(io, ___reason, sizeof(___reason));		\
})

SEC("struct_ops/loope_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(loope_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	if (io->iod.start_sector == EJECT_SECTOR) {
		eject(io, "marker I/O at sector 65536");
		return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
	}
	return loop_queue(io);
}

SEC("struct_ops/loope_aio_done")
void BPF_PROG(loope_aio_done, struct bpf_aio *aio, long ret)
{
	struct ublk_bpf_io *io = ublk_bpf_acquire_io_from_aio(aio);

	if (!io)
		return;
	if (ret < 0)
		eject(io, "a bpf aio failed");
	ublk_bpf_dettach_and_complete_aio(aio);
	ublk_bpf_release_io_from_aio(io);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops loope_ops = {
	.queue_io_cmd = (void *)loope_queue_io_cmd,
};

SEC(".struct_ops.link")
struct bpf_aio_complete_ops loope_aio_ops = {
	.bpf_aio_complete_cb = (void *)loope_aio_done,
};
