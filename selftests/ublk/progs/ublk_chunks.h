/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The chunk maps the server keeps for a program (ublk_bpf_shared.h): one
 * u8 per UBLK_BPF_CHUNK of the device, the server sizes the map and
 * marks chunks (srv_written of the mixed target, srv_mapped of the
 * handback target).
 */
#ifndef UBLK_CHUNKS_H
#define UBLK_CHUNKS_H

#include "ublk_bpf.h"

/* a chunk map, one entry until the server sizes it */
#define UBLK_CHUNK_MAP(name)					\
struct {							\
	__uint(type, BPF_MAP_TYPE_ARRAY);			\
	__uint(max_entries, 1);					\
	__type(key, __u32);					\
	__type(value, __u8);					\
} name SEC(".maps")

/* an I/O is at most 512K: 9 chunks with its unaligned ends */
#define UBLK_IO_MAX_CHUNKS	((512 << 10) / UBLK_BPF_CHUNK + 1)

/*
 * Every chunk of the I/O is @marked (marked non-zero, or unmarked) in
 * @map; an I/O of no bytes has no chunk and is.  False past the map.
 */
static __always_inline bool io_chunks_all(void *map,
					  const struct ublk_bpf_io *io,
					  bool marked)
{
	__u64 start = io->iod.start_sector << 9;
	__u64 first, last;
	__u8 *mark;
	__u32 key;
	int i;

	if (!io->bytes)
		return true;
	first = start >> UBLK_BPF_CHUNK_SHIFT;
	last = (start + io->bytes - 1) >> UBLK_BPF_CHUNK_SHIFT;
	if (last - first >= UBLK_IO_MAX_CHUNKS)
		return false;
	for (i = 0; i < UBLK_IO_MAX_CHUNKS; i++) {
		if (first + i > last)
			break;
		key = first + i;
		mark = bpf_map_lookup_elem(map, &key);
		if (!mark || !!*mark != marked)
			return false;
	}
	return true;
}

#endif
