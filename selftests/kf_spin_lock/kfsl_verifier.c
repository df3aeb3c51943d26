// SPDX-License-Identifier: GPL-2.0
/*
 * KF_SPIN_LOCK verifier tests.
 *
 * Usage: kfsl_verifier PATH/kfsl_test_mod.ko
 *
 * Loads the test module, then loads every program of kfsl_verifier.bpf.c
 * on its own (a fresh skeleton with only that program autoloaded) with a
 * verifier log, and checks that it is accepted, or rejected with the exact
 * expected message as a line of the log.  Accepted programs that can run
 * are run with BPF_PROG_TEST_RUN and their result checked; the UFQ
 * scheduler of the built-in flagged case is attached to the disk
 * $KFSL_UFQ_DEV (run.sh sets it up) and merges two writes there.  Prints
 * KTAP.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kselftest.h"
#include "strict.h"
#include "kfsl.h"
#include "kfsl_verifier.skel.h"

#define MOD_NAME "kfsl_test_mod"
#define MSG_LOCKED_CALL "function calls are not allowed while holding a lock"
#define MSG_NO_UNLOCK "bpf_spin_unlock is missing"

enum run_check {
	RUN_NONE,	/* load only */
	RUN_IRQS_OFF,	/* retval == (in << 1) | 1, stored in the map too */
	RUN_IRQS_ON,	/* retval == (in << 1) | 0 */
	RUN_ONE,	/* retval == 1 */
	RUN_IN,		/* retval == in */
	RUN_UFQ,	/* attached to $KFSL_UFQ_DEV: merges two writes */
};

struct kfsl_case {
	const char *name;	/* KTAP test name */
	const char *prog;	/* program in kfsl_verifier.bpf.c */
	const char *msg;	/* NULL: must be accepted; else the log line */
	enum run_check run;
	const char *map;	/* struct_ops map to create, if any */
};

static const struct kfsl_case cases[] = {
	{ "builtin_flagged_kfunc_under_lock_accepted_and_run",
	  "builtin_flagged_locked", NULL, RUN_UFQ, "ufq_flagged_ops" },
	{ "builtin_unflagged_kfunc_under_lock_rejected",
	  "builtin_unflagged_locked", MSG_LOCKED_CALL, RUN_NONE },
	{ "builtin_unflagged_kfunc_without_lock_accepted",
	  "builtin_unflagged_unlocked", NULL, RUN_ONE },
	{ "helper_under_lock_rejected",
	  "helper_locked", MSG_LOCKED_CALL, RUN_NONE },
	{ "module_flagged_kfunc_under_lock_accepted_and_run",
	  "module_flagged_locked", NULL, RUN_IRQS_OFF },
	{ "module_unflagged_kfunc_under_lock_rejected",
	  "module_unflagged_locked", MSG_LOCKED_CALL, RUN_NONE },
	{ "module_unflagged_kfunc_without_lock_accepted_and_run",
	  "module_unflagged_unlocked", NULL, RUN_IRQS_ON },
	{ "module_flagged_kfunc_not_registered_for_prog_type_rejected",
	  "module_flagged_other_type", MSG_LOCKED_CALL, RUN_NONE },
	{ "flagged_kfunc_lock_not_released_rejected",
	  "module_flagged_no_unlock", MSG_NO_UNLOCK, RUN_NONE },
	{ "graph_api_kfuncs_under_lock_accepted_and_run",
	  "graph_api_locked", NULL, RUN_IN },
	{ "ufq_unflagged_kfunc_under_lock_rejected",
	  "ufq_unflagged_locked", MSG_LOCKED_CALL, RUN_NONE, "ufq_unflagged_ops" },
	{ "ufq_unflagged_kfunc_without_lock_accepted",
	  "ufq_unflagged_unlocked", NULL, RUN_NONE, "ufq_unlocked_ops" },
	{ "sleepable_kfunc_under_lock_rejected",
	  "sleepable_locked", MSG_LOCKED_CALL, RUN_NONE },
	{ "sleepable_kfunc_without_lock_accepted_and_run",
	  "sleepable_unlocked", NULL, RUN_IN },
};

#define MSG_SET_FLAGS "KF_SPIN_LOCK cannot be combined with KF_SLEEPABLE or KF_ITER_*"
#define MSG_CROSS_SETS "KF_SPIN_LOCK in one kfunc set, KF_SLEEPABLE or KF_ITER_* in another"

/*
 * The kfunc sets that kfsl_test_mod tries to register at load time and that
 * the kernel must refuse with -EINVAL, logging the line "kfunc NAME: MSG".
 */
struct kfsl_refusal {
	const char *name;	/* KTAP test name */
	const char *param;	/* module parameter holding the result */
	const char *kfunc;	/* kfunc that the kernel names */
	const char *msg;
};

static const struct kfsl_refusal refusals[] = {
	{ "kfunc_with_spin_lock_and_sleepable_flags_refused",
	  "bad_set_err", "kfsl_test_sleepable_locked", MSG_SET_FLAGS },
	{ "kfunc_with_spin_lock_and_iter_new_flags_refused",
	  "iter_set_err", "bpf_iter_kfsl_new", MSG_SET_FLAGS },
	{ "spin_lock_kfunc_sleepable_in_another_set_refused",
	  "cross_sleepable_err", "kfsl_test_locked", MSG_CROSS_SETS },
	{ "sleepable_kfunc_spin_lock_in_another_set_refused",
	  "cross_locked_err", "kfsl_test_sleepable", MSG_CROSS_SETS },
};

/*
 * Tests besides the program cases: module load and unload, the refusals,
 * and no test kfunc in the kernel image
 */
#define NR_EXTRA (3 + ARRAY_SIZE(refusals))

/* The test kfunc that patch 0001 once added to net/bpf/test_run.c */
#define OLD_TEST_KFUNC "bpf_kfunc_call_test_spin_lock"

/* Kernel log lines printed while the module loaded, one per line */
static char kmsg[1 << 16];

static char vlog[1 << 20];
static char libbpf_out[1 << 16];
static size_t libbpf_len;

/* Keep libbpf's messages for the diagnostics of a failing case */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	int n;

	if (level == LIBBPF_DEBUG || libbpf_len >= sizeof(libbpf_out) - 1)
		return 0;
	n = vsnprintf(libbpf_out + libbpf_len, sizeof(libbpf_out) - libbpf_len,
		      fmt, args);
	if (n > 0)
		libbpf_len += n;
	if (libbpf_len >= sizeof(libbpf_out))
		libbpf_len = sizeof(libbpf_out) - 1;
	return 0;
}

/* Print a multi-line text as KTAP diagnostics, prefixed */
static void print_diag(const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		ksft_print_msg("%s%.*s\n", prefix, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/* Whether the log has msg as one whole line */
static bool log_has_line(const char *log, const char *msg)
{
	size_t len = strlen(msg);
	const char *p = log;

	while ((p = strstr(p, msg))) {
		if ((p == log || p[-1] == '\n') &&
		    (p[len] == '\n' || p[len] == '\0'))
			return true;
		p += len;
	}
	return false;
}

static __u64 test_input(void)
{
	/* Varies from run to run, small enough that (in << 1) | 1 fits */
	return 0x1000 + (getpid() & 0xfff);
}

static bool check_run(const struct kfsl_case *c, struct kfsl_verifier *skel,
		      struct bpf_program *prog)
{
	struct kfsl_args args = {};
	struct {
		struct bpf_spin_lock lock;
		__u64 v;
	} val = {};
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.ctx_in = &args,
		.ctx_size_in = sizeof(args),
	);
	bool check_map = false;
	__u64 want;
	int key = 0;
	int err;

	switch (c->run) {
	case RUN_IRQS_OFF:
	case RUN_IRQS_ON:
	case RUN_IN:
		args.in = test_input();
		break;
	case RUN_ONE:
		args.in = getpid();	/* bpf_task_from_pid() finds us */
		break;
	case RUN_NONE:
	case RUN_UFQ:
		return true;
	}

	switch (c->run) {
	case RUN_IRQS_OFF:
		want = (args.in << 1) | 1;
		check_map = true;
		break;
	case RUN_IRQS_ON:
		want = args.in << 1;
		break;
	case RUN_ONE:
		want = 1;
		break;
	default:
		want = args.in;
		break;
	}

	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &topts);
	if (err) {
		ksft_print_msg("%s: BPF_PROG_TEST_RUN failed: %s\n",
			       c->prog, strerror(-err));
		return false;
	}
	if (topts.retval != want) {
		ksft_print_msg("%s: returned %u (0x%x), expected %llu (0x%llx)\n",
			       c->prog, topts.retval, topts.retval,
			       (unsigned long long)want,
			       (unsigned long long)want);
		if (c->run == RUN_IRQS_OFF && topts.retval == (want & ~1ULL))
			ksft_print_msg("%s: the kfunc ran with interrupts enabled, not under the lock\n",
				       c->prog);
		return false;
	}
	if (!check_map)
		return true;

	err = bpf_map__lookup_elem(skel->maps.vals, &key, sizeof(key),
				   &val, sizeof(val), 0);
	if (err) {
		ksft_print_msg("%s: map lookup failed: %s\n", c->prog,
			       strerror(-err));
		return false;
	}
	if (val.v != want) {
		ksft_print_msg("%s: value stored under the lock is %llu, expected %llu\n",
			       c->prog, (unsigned long long)val.v,
			       (unsigned long long)want);
		return false;
	}
	return true;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The disk of the UFQ case: its device number goes into the program */
static bool ufq_set_target(struct kfsl_verifier *skel, const char **dev)
{
	struct stat st;

	*dev = getenv("KFSL_UFQ_DEV");
	if (!*dev || !**dev) {
		ksft_print_msg("KFSL_UFQ_DEV names no disk using ufq (run.sh sets one up)\n");
		return false;
	}
	if (stat(*dev, &st) || !S_ISBLK(st.st_mode)) {
		ksft_print_msg("%s: not a block device\n", *dev);
		return false;
	}
	skel->rodata->ufq_major = major(st.st_rdev);
	skel->rodata->ufq_minor = minor(st.st_rdev);
	return true;
}

/* A child that writes 4k of @buf at @off of @dev with O_DIRECT */
static pid_t ufq_writer(const char *dev, const void *buf, off_t off)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	fd = open(dev, O_WRONLY | O_DIRECT);
	_exit(fd < 0 || pwrite(fd, buf, 4096, off) != 4096);
}

/* Wait up to @secs for @pid; its exit status, or -1 (still running) */
static int ufq_wait(pid_t pid, double secs)
{
	double end = now() + secs;
	int st;

	do {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(10000);
	} while (now() < end);
	return -1;
}

/*
 * ufq_flagged_ops attached: a first 4k write is held, a second one right
 * after it comes as a request of its own and merge_req merges it into the
 * first with bpf_request_try_merge() under the program's bpf_spin_lock.
 * The kfunc must have returned 1 (merged), stored under the lock, and both
 * blocks must read back.
 */
static bool run_ufq(const char *dev, struct kfsl_verifier *skel)
{
	volatile struct kfsl_ufq *st = &skel->bss->ufq_state;
	struct {
		struct bpf_spin_lock lock;
		__u64 v;
	} val = {};
	struct bpf_link *link;
	unsigned char *buf = NULL;
	pid_t a = -1, b = -1;
	int sa = -1, sb = -1;
	bool ok = false;
	int key = 0, fd, i, err;
	double t;

	if (posix_memalign((void **)&buf, 4096, 3 * 4096)) {
		ksft_print_msg("no memory\n");
		return false;
	}
	for (i = 0; i < 4096; i++) {
		buf[i] = 0xa0 ^ (i * 7);
		buf[4096 + i] = 0x5b ^ (i * 13);
	}
	link = bpf_map__attach_struct_ops(skel->maps.ufq_flagged_ops);
	if (!link) {
		ksft_print_msg("attaching ufq_flagged_ops failed: %s\n",
			       strerror(errno));
		goto out;
	}
	a = ufq_writer(dev, buf, 0);
	for (t = now() + 5; !st->inserted && now() < t; )
		usleep(1000);
	if (!st->inserted)
		ksft_print_msg("the scheduler got no request of %s in 5 s\n",
			       dev);
	b = ufq_writer(dev, buf + 4096, 4096);
	sa = a > 0 ? ufq_wait(a, 10) : -1;
	sb = b > 0 ? ufq_wait(b, 10) : -1;
	/* a held request goes back to the kernel at the detach */
	bpf_link__destroy(link);
	if (a > 0 && sa < 0)
		sa = ufq_wait(a, 10);
	if (b > 0 && sb < 0)
		sb = ufq_wait(b, 10);
	ksft_print_msg("writers exited %d and %d; the scheduler saw %u inserted, %u dispatched, %u merge_req calls\n",
		       sa, sb, st->inserted, st->dispatched, st->merge_calls);
	err = bpf_map__lookup_elem(skel->maps.vals, &key, sizeof(key),
				   &val, sizeof(val), 0);
	if (err) {
		ksft_print_msg("map lookup failed: %s\n", strerror(-err));
		goto out;
	}
	ksft_print_msg("bpf_request_try_merge() under the lock returned %lld\n",
		       (long long)val.v);
	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0 || pread(fd, buf + 8192, 4096, 0) != 4096 ||
	    memcmp(buf + 8192, buf, 4096) ||
	    pread(fd, buf + 8192, 4096, 4096) != 4096 ||
	    memcmp(buf + 8192, buf + 4096, 4096)) {
		ksft_print_msg("%s: the two blocks do not read back\n", dev);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	ok = sa == 0 && sb == 0 && st->merge_calls >= 1 && val.v == 1 &&
	     st->inserted == 1 && st->dispatched == 1;
out:
	free(buf);
	return ok;
}

static void run_case(const struct kfsl_case *c)
{
	const char *dev = NULL;
	struct kfsl_verifier *skel;
	struct bpf_program *prog;
	struct bpf_map *map;
	bool ok = false;
	int err;

	libbpf_len = 0;
	libbpf_out[0] = '\0';
	vlog[0] = '\0';

	skel = kfsl_verifier__open();
	if (!skel) {
		ksft_print_msg("%s: cannot open the BPF object: %s\n", c->prog,
			       strerror(errno));
		goto out;
	}
	prog = bpf_object__find_program_by_name(skel->obj, c->prog);
	if (!prog) {
		ksft_print_msg("%s: no such program in the BPF object\n",
			       c->prog);
		goto out;
	}
	/*
	 * All programs are in "?" sections: only this one gets loaded.  A
	 * struct_ops program is loaded with the maps that use it: create only
	 * the case's own map (libbpf then loads only its programs).
	 */
	bpf_object__for_each_map(map, skel->obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			bpf_map__set_autocreate(map, c->map &&
						!strcmp(bpf_map__name(map), c->map));
	bpf_program__set_autoload(prog, true);
	bpf_program__set_log_buf(prog, vlog, sizeof(vlog));
	bpf_program__set_log_level(prog, 1);
	if (c->run == RUN_UFQ && !ufq_set_target(skel, &dev))
		goto out;

	err = kfsl_verifier__load(skel);
	if (!c->msg) {
		if (err) {
			ksft_print_msg("%s: rejected (%s), expected accepted\n",
				       c->prog, strerror(-err));
			print_diag("verifier: ", vlog);
			goto out;
		}
		ok = c->run == RUN_UFQ ? run_ufq(dev, skel) :
		     check_run(c, skel, prog);
	} else if (!err) {
		ksft_print_msg("%s: accepted, expected rejected with \"%s\"\n",
			       c->prog, c->msg);
	} else if (err != -EINVAL) {
		ksft_print_msg("%s: load failed with %s, expected %s\n",
			       c->prog, strerror(-err), strerror(EINVAL));
		print_diag("verifier: ", vlog);
	} else if (!log_has_line(vlog, c->msg)) {
		ksft_print_msg("%s: rejected, but the log lacks the line \"%s\"\n",
			       c->prog, c->msg);
		print_diag("verifier: ", vlog);
	} else {
		ok = true;
	}
out:
	if (!ok && libbpf_len)
		print_diag("", libbpf_out);
	ksft_test_result(ok, "%s\n", c->name);
	kfsl_verifier__destroy(skel);
}

static int load_module(const char *path)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ksft_print_msg("open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	err = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	if (err)
		ksft_print_msg("finit_module %s: %s\n", path, strerror(-err));
	return err;
}

/*
 * The programs hold references on the module until they are freed, which
 * happens after an RCU (tasks trace, for sleepable ones) grace period:
 * retry while the module is busy.
 */
static int unload_module(void)
{
	int i, err = 0;

	for (i = 0; i < 300; i++) {
		if (!syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK))
			return 0;
		err = -errno;
		if (err != -EBUSY && err != -EAGAIN)
			break;
		usleep(100 * 1000);
	}
	ksft_print_msg("delete_module %s: %s\n", MOD_NAME, strerror(-err));
	return err;
}

/* Open /dev/kmsg at its end, to read what gets logged from now on */
static int kmsg_open(void)
{
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ksft_print_msg("open /dev/kmsg: %s\n", strerror(errno));
		return -1;
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		ksft_print_msg("seek /dev/kmsg: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Keep the text of the records logged since kmsg_open() in kmsg[] */
static void kmsg_read(int fd)
{
	char rec[8192];
	size_t len = 0;
	ssize_t n;
	char *text, *nl;

	kmsg[0] = '\0';
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten meanwhile */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,time,flags;text\n" then " KEY=VALUE\n" lines */
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		len += snprintf(kmsg + len, sizeof(kmsg) - len, "%s\n", text);
		if (len >= sizeof(kmsg))
			break;
	}
	close(fd);
}

/* The module's attempt to register a kfunc set that must be refused */
static bool set_refused(const struct kfsl_refusal *r)
{
	char path[128], line[256];
	int v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 MOD_NAME, r->param);
	f = fopen(path, "r");
	if (!f) {
		ksft_print_msg("%s: %s\n", path, strerror(errno));
		return false;
	}
	if (fscanf(f, "%d", &v) != 1) {
		ksft_print_msg("%s: unreadable\n", path);
		fclose(f);
		return false;
	}
	fclose(f);
	if (v != -EINVAL) {
		ksft_print_msg("%s: registering the set returned %d, expected %d\n",
			       r->param, v, -EINVAL);
		return false;
	}
	snprintf(line, sizeof(line), "kfunc %s: %s", r->kfunc, r->msg);
	if (!log_has_line(kmsg, line)) {
		ksft_print_msg("%s: the kernel log lacks the line \"%s\"\n",
			       r->param, line);
		print_diag("kmsg: ", kmsg);
		return false;
	}
	return true;
}

/*
 * Test kfuncs belong in test modules: the kernel image has none for
 * KF_SPIN_LOCK (the flagged built-in kfuncs are UFQ's)
 */
static bool no_test_kfunc(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;
	int id;

	if (!btf) {
		ksft_print_msg("vmlinux BTF: %s\n", strerror(errno));
		return false;
	}
	id = btf__find_by_name_kind(btf, OLD_TEST_KFUNC, BTF_KIND_FUNC);
	ok = id == -ENOENT;
	if (!ok)
		ksft_print_msg("vmlinux BTF has %s (id %d): a test kfunc in the kernel image\n",
			       OLD_TEST_KFUNC, id);
	if (btf__find_by_name_kind(btf, "bpf_request_try_merge",
				   BTF_KIND_FUNC) < 0) {
		ksft_print_msg("vmlinux BTF lacks bpf_request_try_merge\n");
		ok = false;
	}
	btf__free(btf);
	return ok;
}

int main(int argc, char **argv)
{
	bool loaded;
	size_t i;
	int kfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH/%s.ko\n", argv[0], MOD_NAME);
		return KSFT_FAIL;
	}

	ksft_print_header();
	if (geteuid())
		exit_skip_all_or_fail("needs root (BPF and module loading)\n");
	ksft_set_plan(ARRAY_SIZE(cases) + NR_EXTRA);
	libbpf_set_print(libbpf_print);

	kfd = kmsg_open();
	loaded = !load_module(argv[1]);
	if (kfd >= 0)
		kmsg_read(kfd);
	ksft_test_result(loaded, "load_%s\n", MOD_NAME);
	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		ksft_test_result(loaded && kfd >= 0 && set_refused(&refusals[i]),
				 "%s\n", refusals[i].name);

	ksft_test_result(no_test_kfunc(), "no_test_kfunc_in_the_kernel_image\n");
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);

	if (loaded) {
		int err = unload_module();

		ksft_test_result(!err, "unload_%s\n", MOD_NAME);
	} else {
		ksft_test_result_skip_or_fail("unload_%s (not loaded)\n", MOD_NAME);
	}

	ksft_finished();
}
