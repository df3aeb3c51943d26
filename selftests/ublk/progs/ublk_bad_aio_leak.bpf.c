// SPDX-License-Identifier: GPL-2.0
/* refused by the verifier: an aio allocated, neither submitted nor released */
#include "ublk_loop.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/leak_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(leak_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	struct bpf_aio *aio = bpf_aio_alloc(LOOP_AIO_READ, 0);

	if (aio)
		ublk_bpf_attach_and_prep_aio(io, 0, io->bytes, aio);
	return ublk_bpf_return(UBLK_BPF_IO_QUEUED, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops leak_ops = {
	.queue_io_cmd = (void *)leak_queue_io_cmd,
};
