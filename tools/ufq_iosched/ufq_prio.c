// SPDX-License-Identifier: GPL-2.0
/*
 * Loader of ufq_prio, proportional I/O sharing by I/O priority
 * (ufq_prio.bpf.c has the design).
 */
#include <ufq/common.h>

#include "ufq_prio.h"
#include "ufq_prio.bpf.skel.h"

static const char help_fmt[] =
"A UFQ I/O scheduler that shares the device between I/O priorities\n"
"(ionice) in proportion to weights, by weighted fair queueing.\n"
"\n"
"See the top-level comment in ufq_prio.bpf.c for more details.\n"
"\n"
"Usage: %s [-d DEV]... [-i SECS] [-w BUCKET=WEIGHT]... [-v]\n"
"\n"
UFQ_LOADER_HELP
"  -w B=W        Weight W (1 to 1000) of bucket B: rt, be0 ... be7 or\n"
"                idle.  Defaults: rt 64, be<l> 8 - l, idle 1\n";

static const char * const bucket_names[UFQ_PRIO_NR_BUCKETS] = {
	"rt", "be0", "be1", "be2", "be3", "be4", "be5", "be6", "be7", "idle",
};

static int parse_weight(struct ufq_prio *skel, const char *arg)
{
	const char *eq = strchr(arg, '=');
	unsigned long w;
	char *end;
	int b;

	for (b = 0; eq && b < UFQ_PRIO_NR_BUCKETS; b++) {
		if (strlen(bucket_names[b]) != (size_t)(eq - arg) ||
		    strncmp(arg, bucket_names[b], eq - arg))
			continue;
		errno = 0;
		w = strtoul(eq + 1, &end, 10);
		if (errno || *end || !w || w > UFQ_PRIO_MAX_WEIGHT)
			break;
		skel->rodata->weights[b] = w;
		return 0;
	}
	UFQ_ERR("ufq_prio: -w takes BUCKET=WEIGHT, BUCKET: rt, be0 ... be7, idle; WEIGHT: 1 to %d; not %s",
		UFQ_PRIO_MAX_WEIGHT, arg);
	return -1;
}

static void print_stats(void *ctx, bool final)
{
	struct ufq_prio *skel = ctx;
	__u64 s[UFQ_PRIO_NR_STATS], inserted = 0, dispatched = 0;
	int b;

	if (ufq_read_stats(skel->maps.stats, s, UFQ_PRIO_NR_STATS)) {
		UFQ_ERR("ufq_prio: cannot read stats: %s", strerror(errno));
		return;
	}
	for (b = 0; b < UFQ_PRIO_NR_BUCKETS; b++) {
		inserted += s[UFQ_PRIO_STAT(b, UFQ_PRIO_INSERTED)];
		dispatched += s[UFQ_PRIO_STAT(b, UFQ_PRIO_DISPATCHED)];
	}
	if (!final) {
		printf("ufq_prio: ins %llu disp %llu fin %llu",
		       inserted,
		       dispatched,
		       s[UFQ_PRIO_FINISHED]);
		for (b = 0; b < UFQ_PRIO_NR_BUCKETS; b++) {
			__u64 d = s[UFQ_PRIO_STAT(b, UFQ_PRIO_DISPATCHED)];

			if (d)
				printf(" | %s %llu (%.1f%%)", bucket_names[b],
				       d,
				       100.0 * d / dispatched);
		}
		printf("\n");
		return;
	}
	printf("ufq_prio: final stats\n");
	printf("inserted %llu\n", inserted);
	printf("dispatched %llu\n", dispatched);
	printf("finished %llu\n", s[UFQ_PRIO_FINISHED]);
	printf("refused %llu\n", s[UFQ_PRIO_REFUSED]);
	for (b = 0; b < UFQ_PRIO_NR_BUCKETS; b++) {
		printf("%s_weight %u\n", bucket_names[b],
		       skel->rodata->weights[b]);
		printf("%s_inserted %llu\n", bucket_names[b],
		       s[UFQ_PRIO_STAT(b, UFQ_PRIO_INSERTED)]);
		printf("%s_dispatched %llu\n", bucket_names[b],
		       s[UFQ_PRIO_STAT(b, UFQ_PRIO_DISPATCHED)]);
		printf("%s_sectors %llu\n", bucket_names[b],
		       s[UFQ_PRIO_STAT(b, UFQ_PRIO_DISPATCHED_SECTORS)]);
	}
}

static int prio_option(void *ctx, int opt, const char *arg)
{
	return opt == 'w' ? parse_weight(ctx, arg) : 1;
}

int main(int argc, char **argv)
{
	struct ufq_loader ld;
	struct ufq_prio *skel;
	int ret;

	ufq_loader_init(&ld, "ufq_prio", help_fmt);
	skel = ufq_prio__open();
	if (!skel) {
		UFQ_ERR("ufq_prio: cannot open the BPF object: %s",
			strerror(errno));
		return UFQ_EXIT_FAILED;
	}
	ret = ufq_loader_parse(&ld, argc, argv, "w:", prio_option, skel);
	if (ret < 0)
		ret = ufq_loader_main(&ld, skel->skeleton, skel->maps.prio_ops,
				      print_stats, skel);
	ufq_prio__destroy(skel);
	return ret;
}
