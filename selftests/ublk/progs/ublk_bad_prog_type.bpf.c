// SPDX-License-Identifier: GPL-2.0
/*
 * refused by the verifier: a ublk kfunc from a program that is not a
 * ublk_bpf_ops callback (a syscall program, with a trusted pointer it
 * could get no other way than from a callback)
 */
#include "ublk_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("syscall")
int wrong_type(void *ctx)
{
	return ublk_bpf_get_dev_id(ctx);
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
