/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's information on a skeleton's map, for the test and report
 * programs that compare ids and names with what the kernel (drgn,
 * bpftool) shows.
 */
#ifndef IOU_BPF_INFO_H
#define IOU_BPF_INFO_H

#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* bpf_map_get_info_by_fd() of @map's kernel map into @info: 0 or -errno */
static inline int map_info(const struct bpf_map *map, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_map_get_info_by_fd(bpf_map__fd(map), info, &len) ? -errno : 0;
}

#endif /* IOU_BPF_INFO_H */
