// SPDX-License-Identifier: GPL-2.0
/*
 * Copy a file with the BPF event loop (cp.bpf.c), for the demo:
 *
 *   iou_cp SRC DST [BLOCK]
 *
 * One io_uring_enter(2) runs READ -> WRITE of the bytes read -> READ ...
 * in BPF.  Prints {"bytes": ..., "reads": ..., "writes": ..., ...} and
 * exits 0 if the loop copied SRC to its end without a failed request.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>

#include "iou_cp.h"

int main(int argc, char **argv)
{
	unsigned int block = 64 << 10;
	struct cp_params p = {};
	struct stat st;
	int in, out;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s SRC DST [BLOCK]\n", argv[0]);
		return 2;
	}
	if (argc == 4)
		block = strtoul(argv[3], NULL, 0);
	in = open(argv[1], O_RDONLY);
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || fstat(in, &st)) {
		perror("open");
		return 1;
	}
	if (iou_cp_run(in, out, block, false, 0, &p))
		return 1;
	printf("{\"bytes\": %llu, \"size\": %lld, \"block\": %u, \"reads\": %llu, "
	       "\"writes\": %llu, \"short_reads\": %llu, \"steps\": %llu, "
	       "\"error\": %d}\n",
	       (unsigned long long)p.bytes, (long long)st.st_size, block,
	       (unsigned long long)p.reads, (unsigned long long)p.writes,
	       (unsigned long long)p.short_reads, (unsigned long long)p.steps,
	       p.error);
	if (close(out)) {
		perror("close");
		return 1;
	}
	return p.error || p.bytes != (unsigned long long)st.st_size;
}
