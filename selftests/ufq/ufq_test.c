// SPDX-License-Identifier: GPL-2.0
/*
 * Loader for the UFQ selftest scheduler (ufq_fifo.bpf.c).
 *
 *   ufq_test MODE SECONDS [EJECT_AFTER]
 *	attach the scheduler in MODE (fifo, stall, eject, badid, rqmerge,
 *	badsegs, initpos, kick, ejectnl, direct, keepid), print
 *	"attached", keep it attached for SECONDS (0: until SIGINT/SIGTERM),
 *	detach, and print the BPF side counters as "name value" lines.
 *	A failed attach prints "attach failed: errno N (ENAME): text" and
 *	exits 1.  An attach that took a standard stream for the link (the
 *	kernel returned a positive value from BPF_LINK_CREATE, which libbpf
 *	takes for an fd and moves above 2, closing it) prints "attach took
 *	fd N: ..." on stderr and exits 3.
 *   ufq_test ebusy
 *	attach one instance, check that a second attach fails with EBUSY,
 *	detach, and check that the second one can attach now.
 *   ufq_test kptr
 *	load the two schedulers that try to keep a request beyond a
 *	callback (ufq_kptr_acquire.bpf.c, ufq_kptr_stash.bpf.c); print
 *	"NAME: load failed: errno N (ENAME): text" for each, with libbpf's
 *	messages (and the kernel's BTF or verifier log) on stderr.  Exits 0
 *	if neither loaded, 1 if one did.
 *   ufq_test sleepable
 *	load each scheduler of ufq_sleepable.bpf.c (a sleepable init_sched,
 *	a sleepable exit_sched) on its own, report as kptr does.  Exits 0
 *	if neither loaded.
 *   ufq_test nocap
 *	load the FIFO scheduler, take CAP_SYS_ADMIN out of the effective
 *	set (CAP_BPF and CAP_PERFMON stay), attach ("attach without
 *	CAP_SYS_ADMIN failed: errno ..." or "...: attached"), then put it
 *	back and attach again ("attach with CAP_SYS_ADMIN: attached").
 *	Exits 0 if the first attach failed with EPERM and the second worked.
 */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ufq_fifo.h"
#include "ufq_fifo.skel.h"
#include "ufq_kptr_acquire.skel.h"
#include "ufq_kptr_stash.skel.h"
#include "ufq_sleepable.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static struct ufq_fifo *open_load(int mode, unsigned long long eject_after)
{
	struct ufq_fifo *skel;

	skel = ufq_fifo__open();
	if (!skel) {
		fprintf(stderr, "open: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->mode = mode;
	skel->rodata->eject_after = eject_after;
	if (ufq_fifo__load(skel)) {
		fprintf(stderr, "load: %s\n", strerror(errno));
		ufq_fifo__destroy(skel);
		return NULL;
	}
	return skel;
}

/* "WHAT failed: errno N (ENAME): text", for run.sh to compare the errno */
static void print_attach_error(FILE *f, const char *what, int err)
{
	fprintf(f, "%s failed: errno %d (%s): %s\n", what, err,
		strerrorname_np(err) ?: "?", strerror(err));
}

static void print_counters(struct ufq_fifo *skel)
{
	struct ufq_test_counters *c = &skel->bss->counters;

	printf("init_sched %llu\n", c->init_sched);
	printf("exit_sched %llu\n", c->exit_sched);
	printf("inserted %llu\n", c->inserted);
	printf("dispatched %llu\n", c->dispatched);
	printf("finished %llu\n", c->finished);
	printf("has_req %llu\n", c->has_req);
	printf("rq_merged %llu\n", c->rq_merged);
	printf("bio_merged %llu\n", c->bio_merged);
	printf("merge_errors %llu\n", c->merge_errors);
	printf("einval %llu\n", c->einval);
	printf("enoent %llu\n", c->enoent);
	printf("ealready %llu\n", c->ealready);
	printf("wrong_segs %llu\n", c->wrong_segs);
	printf("wrong_segs_einval %llu\n", c->wrong_segs_einval);
	printf("wrong_segs_merged %llu\n", c->wrong_segs_merged);
	printf("declined %llu\n", c->declined);
	printf("timers %llu\n", c->timers);
	printf("kicks %llu\n", c->kicks);
	printf("kick_errors %llu\n", c->kick_errors);
	printf("kept %llu\n", c->kept);
	printf("requeued %llu\n", c->requeued);
}

static int ebusy(void)
{
	struct ufq_fifo *a, *b;
	struct bpf_link *la, *lb;
	int ret = 1, err;

	a = open_load(UFQ_TEST_FIFO, 0);
	b = open_load(UFQ_TEST_FIFO, 0);
	if (!a || !b)
		goto out;
	la = bpf_map__attach_struct_ops(a->maps.fifo_ops);
	if (!la) {
		print_attach_error(stderr, "first attach", errno);
		goto out;
	}
	lb = bpf_map__attach_struct_ops(b->maps.fifo_ops);
	if (lb) {
		fprintf(stderr, "second attach succeeded\n");
		bpf_link__destroy(lb);
		bpf_link__destroy(la);
		goto out;
	}
	err = errno;
	print_attach_error(stdout, "second attach", err);
	if (err != EBUSY) {
		bpf_link__destroy(la);
		goto out;
	}
	bpf_link__destroy(la);
	lb = bpf_map__attach_struct_ops(b->maps.fifo_ops);
	if (!lb) {
		print_attach_error(stderr, "attach after detach", errno);
		goto out;
	}
	printf("attach after detach: ok\n");
	bpf_link__destroy(lb);
	ret = 0;
out:
	ufq_fifo__destroy(b);
	ufq_fifo__destroy(a);
	return ret;
}

/* "NAME: loaded" (1) or "NAME: load failed: ..." with @err (0) */
static int report_load(const char *name, bool loaded, int err)
{
	char what[64];

	if (loaded) {
		printf("%s: loaded\n", name);
		return 1;
	}
	snprintf(what, sizeof(what), "%s: load", name);
	print_attach_error(stdout, what, err);
	return 0;
}

/* neither scheduler that would keep a request may load */
static int kptr(void)
{
	struct ufq_kptr_acquire *a = ufq_kptr_acquire__open_and_load();
	int ret = report_load("acquire", a, errno);
	struct ufq_kptr_stash *s;

	ufq_kptr_acquire__destroy(a);
	s = ufq_kptr_stash__open_and_load();
	ret |= report_load("stash", s, errno);
	ufq_kptr_stash__destroy(s);
	return ret;
}

/* load one scheduler of ufq_sleepable.bpf.c: @map, without the other */
static int load_sleepable(const char *name, bool init)
{
	struct ufq_sleepable *skel = ufq_sleepable__open();
	int err, ret;

	if (!skel) {
		fprintf(stderr, "open: %s\n", strerror(errno));
		return 1;
	}
	bpf_map__set_autocreate(init ? skel->maps.sleepable_exit_ops :
				skel->maps.sleepable_init_ops, false);
	err = ufq_sleepable__load(skel);
	ret = report_load(name, !err, -err);
	ufq_sleepable__destroy(skel);
	return ret;
}

/* neither a sleepable init_sched nor a sleepable exit_sched may load */
static int sleepable(void)
{
	return load_sleepable("init_sched", true) |
	       load_sleepable("exit_sched", false);
}

/* set or clear CAP_SYS_ADMIN in this thread's effective set */
static int set_sys_admin(bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (on)
		data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective |=
			CAP_TO_MASK(CAP_SYS_ADMIN);
	else
		data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &=
			~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* attaching needs CAP_SYS_ADMIN, CAP_BPF is not enough */
static int nocap(void)
{
	struct ufq_fifo *skel = open_load(UFQ_TEST_FIFO, 0);
	struct bpf_link *link;
	int ret = 1, err;

	if (!skel)
		return 1;
	err = set_sys_admin(false);
	if (err) {
		fprintf(stderr, "capset: %s\n", strerror(-err));
		goto out;
	}
	link = bpf_map__attach_struct_ops(skel->maps.fifo_ops);
	err = link ? 0 : errno;
	if (set_sys_admin(true)) {
		fprintf(stderr, "capset: cannot restore CAP_SYS_ADMIN\n");
		if (link)
			bpf_link__destroy(link);
		goto out;
	}
	if (link) {
		printf("attach without CAP_SYS_ADMIN: attached\n");
		bpf_link__destroy(link);
		goto out;
	}
	print_attach_error(stdout, "attach without CAP_SYS_ADMIN", err);
	if (err != EPERM)
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.fifo_ops);
	if (!link) {
		print_attach_error(stdout, "attach with CAP_SYS_ADMIN", errno);
		goto out;
	}
	printf("attach with CAP_SYS_ADMIN: attached\n");
	bpf_link__destroy(link);
	ret = 0;
out:
	ufq_fifo__destroy(skel);
	return ret;
}

int main(int argc, char **argv)
{
	static const char * const modes[] = {
		[UFQ_TEST_FIFO] = "fifo", [UFQ_TEST_STALL] = "stall",
		[UFQ_TEST_EJECT] = "eject", [UFQ_TEST_BADID] = "badid",
		[UFQ_TEST_RQMERGE] = "rqmerge",
		[UFQ_TEST_BADSEGS] = "badsegs", [UFQ_TEST_INITPOS] = "initpos",
		[UFQ_TEST_KICK] = "kick", [UFQ_TEST_EJECTNL] = "ejectnl",
		[UFQ_TEST_DIRECT] = "direct", [UFQ_TEST_KEEPID] = "keepid",
	};
	unsigned long long eject_after = 100;
	struct ufq_fifo *skel;
	struct bpf_link *link;
	struct stat out_before, out_after;
	struct timespec start, now;
	int mode = -1, seconds, i;

	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc == 2 && !strcmp(argv[1], "ebusy"))
		return ebusy();
	if (argc == 2 && !strcmp(argv[1], "kptr"))
		return kptr();
	if (argc == 2 && !strcmp(argv[1], "sleepable"))
		return sleepable();
	if (argc == 2 && !strcmp(argv[1], "nocap"))
		return nocap();
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODE SECONDS [EJECT_AFTER] | ebusy | kptr |\n"
			"       sleepable | nocap\n", argv[0]);
		return 2;
	}
	for (i = 0; i < (int)(sizeof(modes) / sizeof(modes[0])); i++)
		if (!strcmp(argv[1], modes[i]))
			mode = i;
	if (mode < 0) {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	seconds = atoi(argv[2]);
	if (argc > 3)
		eject_after = strtoull(argv[3], NULL, 0);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	skel = open_load(mode, eject_after);
	if (!skel)
		return 1;
	if (fstat(STDOUT_FILENO, &out_before)) {
		fprintf(stderr, "fstat stdout: %s\n", strerror(errno));
		return 1;
	}
	link = bpf_map__attach_struct_ops(skel->maps.fifo_ops);
	if (!link) {
		print_attach_error(stderr, "attach", errno);
		ufq_fifo__destroy(skel);
		return 1;
	}
	/* a positive BPF_LINK_CREATE result is taken for a link fd */
	if (bpf_link__fd(link) <= STDERR_FILENO ||
	    fstat(STDOUT_FILENO, &out_after) ||
	    out_after.st_dev != out_before.st_dev ||
	    out_after.st_ino != out_before.st_ino) {
		fprintf(stderr, "attach took fd %d: link fd %d, stdout %s\n",
			STDOUT_FILENO, bpf_link__fd(link),
			fcntl(STDOUT_FILENO, F_GETFD) < 0 ? "closed" :
			"replaced");
		return 3;
	}
	printf("attached %s\n", modes[mode]);

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop) {
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds && now.tv_sec - start.tv_sec >= seconds)
			break;
	}

	bpf_link__destroy(link);
	printf("detached\n");
	print_counters(skel);
	ufq_fifo__destroy(skel);
	return 0;
}
