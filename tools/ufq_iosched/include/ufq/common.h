/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common user-space code of the UFQ scheduler loaders: options, selecting
 * ufq on devices, the stats loop, detaching and reporting why the
 * scheduler exited.
 *
 * A loader does:
 *
 *	ufq_loader_init(&ld, "ufq_x", help_fmt);
 *	skel = ufq_x__open();
 *	ret = ufq_loader_parse(&ld, argc, argv, "w:", x_option, skel);
 *	if (ret < 0)
 *		ret = ufq_loader_main(&ld, skel->skeleton, skel->maps.x_ops,
 *				      print_stats, skel);
 *	ufq_x__destroy(skel);
 *	return ret;
 *
 * ufq_loader_main() loads the programs, selects ufq on every -d device,
 * attaches, prints statistics until SIGINT/SIGTERM or until the kernel
 * ejects the scheduler, detaches, reports the exit kind and reason and
 * restores the devices' schedulers.
 */
#ifndef __UFQ_COMMON_H
#define __UFQ_COMMON_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define UFQ_MAX_DEVS		16
#define UFQ_NAME_LEN		64
#define UFQ_REASON_LEN		256
#define UFQ_SYSFS_BLOCK		"/sys/block"
#define UFQ_SYSFS_UFQ		"/sys/kernel/ufq"

/* loader exit status */
#define UFQ_EXIT_DETACHED	0	/* detached on request */
#define UFQ_EXIT_FAILED		1	/* could not set up or attach */
#define UFQ_EXIT_EJECTED	2	/* the kernel ejected the scheduler */

/* getopt() letters handled by ufq_loader_opt() */
#define UFQ_LOADER_OPTS		"d:i:v"
#define UFQ_LOADER_HELP							\
"  -d DEV        Select ufq on block device DEV (e.g. nullb0 or /dev/vda)\n"\
"                before attaching and restore its scheduler at exit;\n"	\
"                repeat for more devices.  Without -d the scheduler\n"	\
"                serves every device whose scheduler already is ufq.\n"	\
"  -i SECS       Print statistics every SECS seconds (default 2)\n"	\
"  -v            Print libbpf debug messages\n"				\
"  -h            Display this help and exit\n"

#define UFQ_ERR(fmt, ...) fprintf(stderr, fmt "\n", ##__VA_ARGS__)

struct ufq_loader {
	const char *prog;
	const char *help_fmt;	/* printf format of -h, %s: program name */
	char devs[UFQ_MAX_DEVS][UFQ_NAME_LEN];
	char saved_sched[UFQ_MAX_DEVS][UFQ_NAME_LEN];
	int nr_devs;
	int nr_selected;
	unsigned int interval;
};

/* What /sys/kernel/ufq says about the BPF scheduler */
struct ufq_exit_info {
	char name[UFQ_NAME_LEN];
	char state[UFQ_NAME_LEN];
	char kind[UFQ_NAME_LEN];
	char reason[UFQ_REASON_LEN];
};

static volatile sig_atomic_t ufq_exit_req;
static bool ufq_verbose;

static void ufq_on_signal(int sig)
{
	ufq_exit_req = 1;
}

static int ufq_libbpf_print(enum libbpf_print_level level, const char *fmt,
			    va_list args)
{
	if (level == LIBBPF_DEBUG && !ufq_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static inline void ufq_loader_init(struct ufq_loader *ld, const char *prog,
				   const char *help_fmt)
{
	struct sigaction sa = { .sa_handler = ufq_on_signal };

	memset(ld, 0, sizeof(*ld));
	ld->prog = prog;
	ld->help_fmt = help_fmt;
	ld->interval = 2;
	libbpf_set_print(ufq_libbpf_print);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* "/dev/nullb0", "nullb0" -> "nullb0" in @name; false if not a disk */
static inline bool ufq_disk_name(const char *dev, char *name, size_t size)
{
	char real[PATH_MAX], path[PATH_MAX];
	const char *base;

	base = realpath(dev, real) ? strrchr(real, '/') + 1 : dev;
	if (strchr(base, '/') || strlen(base) >= size)
		return false;
	snprintf(path, sizeof(path), UFQ_SYSFS_BLOCK "/%s/queue/scheduler",
		 base);
	if (access(path, F_OK))
		return false;
	memcpy(name, base, strlen(base) + 1);
	return true;
}

/*
 * Handle the common options; returns 0 if @opt was handled, 1 if it is
 * not a common option, -1 (after a message) if its argument is bad.
 */
static inline int ufq_loader_opt(struct ufq_loader *ld, int opt,
				 const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case 'd':
		if (ld->nr_devs == UFQ_MAX_DEVS) {
			UFQ_ERR("%s: at most %d devices", ld->prog, UFQ_MAX_DEVS);
			return -1;
		}
		if (!ufq_disk_name(arg, ld->devs[ld->nr_devs], UFQ_NAME_LEN)) {
			UFQ_ERR("%s: %s is not a whole-disk block device with an I/O scheduler",
				ld->prog, arg);
			return -1;
		}
		ld->nr_devs++;
		return 0;
	case 'i':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 1 || v > 3600) {
			UFQ_ERR("%s: -i takes seconds from 1 to 3600, not %s",
				ld->prog, arg);
			return -1;
		}
		ld->interval = v;
		return 0;
	case 'v':
		ufq_verbose = true;
		return 0;
	}
	return 1;
}

/*
 * A loader's own option: 0 if handled, -1 (after a message) if its
 * argument is bad, 1 if it is not one of the loader's options.
 */
typedef int (*ufq_opt_fn)(void *ctx, int opt, const char *arg);

/*
 * Parse the command line: the common options and, with @own_opts (getopt
 * letters), the loader's own through @own.  Returns -1 to go on, or the
 * status to exit with (0 after -h, UFQ_EXIT_FAILED after a message).
 */
static inline int ufq_loader_parse(struct ufq_loader *ld, int argc,
				   char **argv, const char *own_opts,
				   ufq_opt_fn own, void *ctx)
{
	char opts[64];
	int opt, ret;

	snprintf(opts, sizeof(opts), "%s%sh", UFQ_LOADER_OPTS, own_opts);
	while ((opt = getopt(argc, argv, opts)) != -1) {
		ret = ufq_loader_opt(ld, opt, optarg);
		if (ret == 1 && opt != 'h' && opt != '?')
			ret = own(ctx, opt, optarg);
		if (ret < 0)
			return UFQ_EXIT_FAILED;
		if (ret == 1) {
			fprintf(stderr, ld->help_fmt, ld->prog);
			return opt == 'h' ? 0 : UFQ_EXIT_FAILED;
		}
	}
	if (optind < argc) {
		UFQ_ERR("%s: unexpected argument %s (see -h)", ld->prog,
			argv[optind]);
		return UFQ_EXIT_FAILED;
	}
	return -1;
}

static inline int ufq_read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, size, f))
		ret = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return ret;
}

static inline int ufq_write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -errno;
	if (fputs(s, f) < 0)
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* The current elevator of @disk ("[mq-deadline] none" -> "mq-deadline") */
static inline int ufq_get_sched(const char *disk, char *sched, size_t size)
{
	char path[PATH_MAX], line[256], *open, *close;
	int ret;

	snprintf(path, sizeof(path), UFQ_SYSFS_BLOCK "/%s/queue/scheduler",
		 disk);
	ret = ufq_read_line(path, line, sizeof(line));
	if (ret)
		return ret;
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return -ENOENT;
	*close = '\0';
	snprintf(sched, size, "%s", open + 1);
	return 0;
}

static inline int ufq_set_sched(const char *disk, const char *sched)
{
	char path[PATH_MAX], cur[UFQ_NAME_LEN];
	int ret;

	snprintf(path, sizeof(path), UFQ_SYSFS_BLOCK "/%s/queue/scheduler",
		 disk);
	ret = ufq_write_str(path, sched);
	if (ret)
		return ret;
	ret = ufq_get_sched(disk, cur, sizeof(cur));
	if (ret)
		return ret;
	return strcmp(cur, sched) ? -EINVAL : 0;
}

/* Select ufq on every -d device, remembering what it had before. */
static inline int ufq_loader_select(struct ufq_loader *ld)
{
	int i, ret;

	for (i = 0; i < ld->nr_devs; i++) {
		ret = ufq_get_sched(ld->devs[i], ld->saved_sched[i],
				    UFQ_NAME_LEN);
		if (!ret)
			ret = ufq_set_sched(ld->devs[i], "ufq");
		if (ret) {
			UFQ_ERR("%s: cannot select ufq on %s: %s (is CONFIG_IOSCHED_UFQ enabled?)",
				ld->prog, ld->devs[i], strerror(-ret));
			return ret;
		}
		ld->nr_selected = i + 1;
	}
	return 0;
}

static inline void ufq_loader_restore(struct ufq_loader *ld)
{
	int i, ret;

	for (i = 0; i < ld->nr_selected; i++) {
		if (!strcmp(ld->saved_sched[i], "ufq"))
			continue;
		ret = ufq_set_sched(ld->devs[i], ld->saved_sched[i]);
		if (ret)
			UFQ_ERR("%s: cannot restore scheduler %s on %s: %s",
				ld->prog, ld->saved_sched[i], ld->devs[i],
				strerror(-ret));
	}
	ld->nr_selected = 0;
}

/* Read the one-line /sys/kernel/ufq/@name into @buf. */
static inline int ufq_read_sysfs(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), UFQ_SYSFS_UFQ "/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, size, f))
		ret = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	if (!ret)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

/*
 * Read /sys/kernel/ufq (one value per file, each one line: the kernel
 * turns control characters of a reason into '?').  The kernel keeps the
 * exit kind and reason of the last BPF scheduler until the next one
 * attaches, so this works after detaching too.
 */
static inline int ufq_read_exit_info(struct ufq_exit_info *ei)
{
	int ret;

	memset(ei, 0, sizeof(*ei));
	ret = ufq_read_sysfs("ops", ei->name, sizeof(ei->name));
	if (!ret)
		ret = ufq_read_sysfs("state", ei->state, sizeof(ei->state));
	if (!ret)
		ret = ufq_read_sysfs("exit_kind", ei->kind, sizeof(ei->kind));
	if (!ret)
		ret = ufq_read_sysfs("exit_reason", ei->reason,
				     sizeof(ei->reason));
	return ret;
}

/* Has the kernel ejected the scheduler (bpf_ufq_eject, watchdog, error)? */
static inline bool ufq_ejected(struct ufq_loader *ld)
{
	struct ufq_exit_info ei;

	if (ufq_read_exit_info(&ei))
		return false;
	return !strcmp(ei.state, "ejected") || !strcmp(ei.state, "ejecting");
}

/*
 * Sum a per-CPU array of @nr counters (the BPF side's "stats" map,
 * UFQ_DEFINE_STATS()) into @out; __u64 is unsigned long long (%llu).
 */
static inline int ufq_read_stats(struct bpf_map *map, __u64 *out, __u32 nr)
{
	int nr_cpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	__u32 i;
	int cpu, ret = 0;

	if (nr_cpus < 0)
		return nr_cpus;
	percpu = calloc(nr_cpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		out[i] = 0;
		ret = bpf_map_lookup_elem(bpf_map__fd(map), &i, percpu);
		if (ret)
			break;
		for (cpu = 0; cpu < nr_cpus; cpu++)
			out[i] += percpu[cpu];
	}
	free(percpu);
	return ret;
}

typedef void (*ufq_print_fn)(void *ctx, bool final);

static inline void ufq_loader_attached(struct ufq_loader *ld)
{
	int i;

	printf("%s: attached", ld->prog);
	if (!ld->nr_devs)
		printf(" to every queue using ufq");
	for (i = 0; i < ld->nr_devs; i++)
		printf("%s %s (was %s)", i ? "," : " to", ld->devs[i],
		       ld->saved_sched[i]);
	printf("\n");
}

/*
 * Print statistics every interval until SIGINT/SIGTERM or until the kernel
 * ejects the scheduler.  Returns true if it was ejected.
 */
static inline bool ufq_loader_run(struct ufq_loader *ld, ufq_print_fn print,
				  void *ctx)
{
	const long tick_ms = 100;
	long waited = 0;

	while (!ufq_exit_req) {
		struct timespec ts = { 0, tick_ms * 1000000L };

		nanosleep(&ts, NULL);
		waited += tick_ms;
		if (ufq_ejected(ld))
			return true;
		if (waited >= ld->interval * 1000L) {
			print(ctx, false);
			waited = 0;
		}
	}
	return false;
}

/*
 * Detach, print the final statistics and the exit information, restore
 * the schedulers of the -d devices.  Returns the loader's exit status.
 */
static inline int ufq_loader_finish(struct ufq_loader *ld,
				    struct bpf_link *link,
				    ufq_print_fn print, void *ctx)
{
	struct ufq_exit_info ei;
	int status = UFQ_EXIT_DETACHED;
	int ret;

	bpf_link__destroy(link);
	print(ctx, true);

	ret = ufq_read_exit_info(&ei);
	if (ret) {
		printf("%s: exit information unavailable: %s: %s\n",
		       ld->prog, UFQ_SYSFS_UFQ, strerror(-ret));
	} else {
		printf("%s: exit kind=%s reason=%s\n", ld->prog,
		       ei.kind, ei.reason);
		if (strcmp(ei.kind, "unregistered") &&
		    strcmp(ei.kind, "none"))
			status = UFQ_EXIT_EJECTED;
	}
	ufq_loader_restore(ld);
	return status;
}

/* Load, attach, run, detach: see the top of this file. */
static inline int ufq_loader_main(struct ufq_loader *ld,
				  struct bpf_object_skeleton *skel,
				  struct bpf_map *ops, ufq_print_fn print,
				  void *ctx)
{
	struct bpf_link *link;

	if (bpf_object__load_skeleton(skel)) {
		UFQ_ERR("%s: cannot load the BPF programs: %s (-v shows the verifier log)",
			ld->prog, strerror(errno));
		return UFQ_EXIT_FAILED;
	}
	if (ufq_loader_select(ld))
		goto fail;
	link = bpf_map__attach_struct_ops(ops);
	if (!link) {
		UFQ_ERR("%s: cannot attach: %s%s", ld->prog, strerror(errno),
			errno == EBUSY ? " (another UFQ scheduler is attached)" : "");
		goto fail;
	}
	ufq_loader_attached(ld);
	if (ufq_loader_run(ld, print, ctx))
		printf("%s: ejected by the kernel\n", ld->prog);
	return ufq_loader_finish(ld, link, print, ctx);
fail:
	ufq_loader_restore(ld);
	return UFQ_EXIT_FAILED;
}

#endif /* __UFQ_COMMON_H */
