// SPDX-License-Identifier: GPL-2.0
/* refused by the verifier: a bpf aio kfunc from a syscall program */
#include "ublk_loop.h"

char LICENSE[] SEC("license") = "GPL";

SEC("syscall")
int wrong_type(void *ctx)
{
	struct bpf_aio *aio = bpf_aio_alloc(LOOP_AIO_READ, 0);

	if (aio)
		bpf_aio_release(aio);
	return 0;
}

SEC("struct_ops/ok_queue_io_cmd")
ublk_bpf_return_t BPF_PROG(ok_queue_io_cmd, struct ublk_bpf_io *io,
			   unsigned int done_bytes)
{
	return ublk_bpf_return(UBLK_BPF_IO_REDIRECT, 0);
}

SEC(".struct_ops.link")
struct ublk_bpf_ops ok_ops = {
	.queue_io_cmd = (void *)ok_queue_io_cmd,
};
