/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cp with the BPF event loop (cp.bpf.c): one io_uring_enter(2) copies
 * @in_fd to @out_fd, READ -> WRITE of the bytes read -> READ ... until EOF.
 * Shared by the tests and the iou_cp tool.
 */
#ifndef IOU_CP_H
#define IOU_CP_H

#include <stdbool.h>
#include <bpf/libbpf.h>

#include "iou.h"
#include "iou_common.h"
#include "cp.skel.h"

/*
 * Returns 0 when the loop ran to its end, with the final parameters in
 * @res (res->error: a failed request), or -1 after printing what failed.
 */
static inline int iou_cp_run(int in_fd, int out_fd, unsigned int block,
			     bool stream, unsigned int sqe_flags,
			     struct cp_params *res)
{
	struct io_uring_region_desc rd;
	struct bpf_link *link = NULL;
	struct cp_params *p = NULL;
	struct cp *skel = NULL;
	const char *what;
	struct iou_ring r;
	void *buf = NULL;
	int ret;

	ret = iou_setup_flags(CP_SQ_ENTRIES, CP_CQ_ENTRIES, IOU_LOOP_FLAGS, &r);
	if (ret) {
		printf("cp: ring setup: %d\n", ret);
		return -1;
	}
	ret = -1;
	what = "region";
	p = iou_alloc_region(4096);
	if (!p || iou_register_region(&r, p, 4096, &rd))
		goto out;
	what = "buffer";
	buf = malloc(block);
	if (!buf)
		goto out;
	p->in_fd = in_fd;
	p->out_fd = out_fd;
	p->buf = (uintptr_t)buf;
	p->block = block;
	p->stream = stream;
	p->sqe_flags = sqe_flags;
	what = "BPF load";
	skel = cp__open();
	if (!skel)
		goto out;
	skel->struct_ops.cp_ops->ring_fd = r.fd;
	if (cp__load(skel))
		goto out;
	what = "attach";
	link = bpf_map__attach_struct_ops(skel->maps.cp_ops);
	if (!link)
		goto out;
	what = "loop";
	ret = iou_enter(r.fd, 0, 0, 0);
	if (!ret && p->state != CP_DONE) {
		printf("cp: state %u at the end\n", p->state);
		ret = -1;
	}
	*res = *p;
out:
	if (ret)
		printf("cp: %s failed: %d, errno %d\n", what, ret, errno);
	bpf_link__destroy(link);
	cp__destroy(skel);
	iou_exit(&r);
	if (p)
		munmap(p, 4096);
	free(buf);
	return ret ? -1 : 0;
}

#endif
