// SPDX-License-Identifier: GPL-2.0
/*
 * Loader of ufq_simple, the sector-sorting UFQ scheduler
 * (ufq_simple.bpf.c has the design).
 */
#include <ufq/common.h>

#include "ufq_simple.h"
#include "ufq_simple.bpf.skel.h"

static const char help_fmt[] =
"A sector-sorting UFQ I/O scheduler: reads before writes, each in\n"
"ascending sector sweeps, with BPF bio and request merging.\n"
"\n"
"See the top-level comment in ufq_simple.bpf.c for more details.\n"
"\n"
"Usage: %s [-d DEV]... [-i SECS] [-b READS] [-S] [-v]\n"
"\n"
UFQ_LOADER_HELP
"  -b READS      Reads dispatched while writes wait before one write\n"
"                goes first (default 16)\n"
"  -S            Stall on purpose: decline every dispatch (has_req\n"
"                returns false) until the kernel's watchdog ejects it\n";

static const char * const stat_names[UFQ_SIMPLE_NR_STATS] = {
	[UFQ_SIMPLE_DISPATCHED_DIRECT]	= "dispatched_direct",
	[UFQ_SIMPLE_INSERTED_READS]	= "inserted_reads",
	[UFQ_SIMPLE_INSERTED_WRITES]	= "inserted_writes",
	[UFQ_SIMPLE_INSERTED_OTHERS]	= "inserted_others",
	[UFQ_SIMPLE_DISPATCHED_READS]	= "dispatched_reads",
	[UFQ_SIMPLE_DISPATCHED_WRITES]	= "dispatched_writes",
	[UFQ_SIMPLE_DISPATCHED_OTHERS]	= "dispatched_others",
	[UFQ_SIMPLE_WRITES_FORCED]	= "writes_forced",
	[UFQ_SIMPLE_SWEEPS]		= "sweeps",
	[UFQ_SIMPLE_BIO_BACK_MERGES]	= "bio_back_merges",
	[UFQ_SIMPLE_BIO_FRONT_MERGES]	= "bio_front_merges",
	[UFQ_SIMPLE_RQ_MERGES]		= "rq_merges",
	[UFQ_SIMPLE_REFUSED]		= "refused",
};

static void print_stats(void *ctx, bool final)
{
	struct ufq_simple *skel = ctx;
	__u64 s[UFQ_SIMPLE_NR_STATS];
	__u64 inserted, dispatched;
	int i;

	if (ufq_read_stats(skel->maps.stats, s, UFQ_SIMPLE_NR_STATS)) {
		UFQ_ERR("ufq_simple: cannot read stats: %s", strerror(errno));
		return;
	}
	/* a request dispatched from insert_req is inserted and dispatched */
	inserted = s[UFQ_SIMPLE_DISPATCHED_DIRECT] +
		   s[UFQ_SIMPLE_INSERTED_READS] +
		   s[UFQ_SIMPLE_INSERTED_WRITES] +
		   s[UFQ_SIMPLE_INSERTED_OTHERS];
	dispatched = s[UFQ_SIMPLE_DISPATCHED_DIRECT] +
		     s[UFQ_SIMPLE_DISPATCHED_READS] +
		     s[UFQ_SIMPLE_DISPATCHED_WRITES] +
		     s[UFQ_SIMPLE_DISPATCHED_OTHERS];
	if (!final) {
		printf("ufq_simple: ins %llu (r %llu w %llu o %llu)", inserted,
		       s[UFQ_SIMPLE_INSERTED_READS], s[UFQ_SIMPLE_INSERTED_WRITES],
		       s[UFQ_SIMPLE_INSERTED_OTHERS]);
		printf(" disp %llu (r %llu w %llu o %llu direct %llu)",
		       dispatched, s[UFQ_SIMPLE_DISPATCHED_READS],
		       s[UFQ_SIMPLE_DISPATCHED_WRITES],
		       s[UFQ_SIMPLE_DISPATCHED_OTHERS],
		       s[UFQ_SIMPLE_DISPATCHED_DIRECT]);
		printf(" merges bio %llu/%llu rq %llu forced %llu sweeps %llu\n",
		       s[UFQ_SIMPLE_BIO_BACK_MERGES],
		       s[UFQ_SIMPLE_BIO_FRONT_MERGES], s[UFQ_SIMPLE_RQ_MERGES],
		       s[UFQ_SIMPLE_WRITES_FORCED], s[UFQ_SIMPLE_SWEEPS]);
		return;
	}
	printf("ufq_simple: final stats\n");
	printf("inserted %llu\n", inserted);
	printf("dispatched %llu\n", dispatched);
	for (i = 0; i < UFQ_SIMPLE_NR_STATS; i++)
		printf("%s %llu\n", stat_names[i], s[i]);
}

static int simple_option(void *ctx, int opt, const char *arg)
{
	struct ufq_simple *skel = ctx;
	unsigned long batch;
	char *end;

	if (opt == 'S') {
		skel->rodata->stall = true;
		return 0;
	}
	if (opt != 'b')
		return 1;
	errno = 0;
	batch = strtoul(arg, &end, 10);
	if (errno || *end || !batch || batch > 1000000) {
		UFQ_ERR("ufq_simple: -b takes 1 to 1000000 reads, not %s", arg);
		return -1;
	}
	skel->rodata->read_batch = batch;
	return 0;
}

int main(int argc, char **argv)
{
	struct ufq_loader ld;
	struct ufq_simple *skel;
	int ret;

	ufq_loader_init(&ld, "ufq_simple", help_fmt);
	skel = ufq_simple__open();
	if (!skel) {
		UFQ_ERR("ufq_simple: cannot open the BPF object: %s",
			strerror(errno));
		return UFQ_EXIT_FAILED;
	}
	ret = ufq_loader_parse(&ld, argc, argv, "b:S", simple_option, skel);
	/* has_req only declines: without -S, save the BPF call */
	if (ret < 0 && !skel->rodata->stall)
		skel->struct_ops.simple_ops->has_req = NULL;
	if (ret < 0)
		ret = ufq_loader_main(&ld, skel->skeleton, skel->maps.simple_ops,
				      print_stats, skel);
	ufq_simple__destroy(skel);
	return ret;
}
