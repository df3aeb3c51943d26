// SPDX-License-Identifier: GPL-2.0
/*
 * IORING_OP_BPF: the crc32c (Castagnoli) of buffer 0 into the 4 bytes of
 * buffer 1, reading 64-byte slices, and the rest byte by byte.  Its own
 * object: the loops cost the verifier some time, the other tests do not
 * load it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "iou_opbpf_bpf.h"
#include "iou_opbpf.h"

char LICENSE[] SEC("license") = "GPL";

/* filled by the test program */
__u32 crc_table[256];

SEC("struct_ops/crc_issue")
int BPF_PROG(crc_issue, struct uring_bpf_data *data)
{
	struct io_bpf_buf_desc d = {};
	__u32 crc = 0xffffffff, off = 0, len;
	__u8 *p;
	int c, j;

	if (uring_bpf_get_buf_desc(data, 0, &d))
		return -ENOENT;
	len = d.len;
	if (len > OPB_CRC_MAX)
		return -E2BIG;
	for (c = 0; c < OPB_CRC_MAX / 64; c++) {
		if (off + 64 > len)
			break;
		p = uring_bpf_buf_slice(data, 0, off, 64);
		if (!p)
			return -EFAULT;
		for (j = 0; j < 64; j++)
			crc = crc_table[(crc ^ p[j]) & 0xff] ^ (crc >> 8);
		off += 64;
	}
	for (j = 0; j < 64; j++) {
		if (off >= len)
			break;
		p = uring_bpf_buf_slice(data, 0, off, 1);
		if (!p)
			return -EFAULT;
		crc = crc_table[(crc ^ p[0]) & 0xff] ^ (crc >> 8);
		off++;
	}
	p = uring_bpf_buf_slice(data, 1, 0, 4);
	if (!p)
		return -EFAULT;
	*(__u32 *)p = ~crc;
	return off;
}

SEC(".struct_ops.link")
struct uring_bpf_ops crc_op = {
	.id		= 0,
	.issue_fn	= (void *)crc_issue,
};
