// SPDX-License-Identifier: GPL-2.0
/*
 * ublk: a ublk server for Linux 6.12's drivers/block/ublk_drv.c.
 *
 *   ublk add -t null|loop|stripe|concat [-n ID] [-q QUEUES] [-d DEPTH] [-u]
 *            [-r|--reissue] [--foreground] [--size SIZE] [--chunk SIZE]
 *            [--buffered] [--hold] [--timeout SEC] [FILE...]
 *   ublk del -n ID | -a  [--async]
 *   ublk list [-n ID] [-v]
 *   ublk features
 *   ublk recover -n ID [--foreground]
 *
 * `add` checks its options and opens the backing files before it sends
 * ADD_DEV, so that nothing it refuses reaches the kernel; the server then
 * keeps /dev/ublkcN open, prints /dev/ublkbN and runs as a daemon (unless
 * --foreground) until the device is deleted (`del`, or SIGTERM/SIGINT to
 * the server, which stops and deletes the device).  Its configuration
 * (target, files, queue threads) is kept in $UBLK_RUN_DIR (/run/ublk) as
 * ublkN, which `list` shows and `recover` uses; the daemon writes its
 * messages to ublkN.log there.  SIGUSR1 makes the server write what it
 * holds (every request not in the kernel) to ublkN.io.  SIGUSR2 toggles
 * holding: new requests wait in the server (not passed to the target)
 * until the next SIGUSR2; --hold starts holding right after START_DEV.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ublk.h"

static const char *prog_prefix = "ublk";

static void vlog(const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s: %s\n", prog_prefix, buf);
}

void ublk_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void ublk_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

int ublk_parse_size(const char *s, uint64_t *val)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		v <<= 10, end++;
		break;
	case 'm': case 'M':
		v <<= 20, end++;
		break;
	case 'g': case 'G':
		v <<= 30, end++;
		break;
	case 't': case 'T':
		v <<= 40, end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*val = v;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*val = v;
	return 0;
}

/* -n ID of command @cmd; a message and -EINVAL if it is not a device id */
static int parse_dev_id(const char *cmd, const char *arg, int *id)
{
	unsigned long v;

	if (parse_uint(arg, UBLK_MAX_DEV_ID, &v)) {
		ublk_err("%s: -n %s: a device id is 0 to %d", cmd, arg,
			 UBLK_MAX_DEV_ID);
		return -EINVAL;
	}
	*id = v;
	return 0;
}

static const struct ublk_tgt_ops *const tgts[UBLK_TGT_NR] = {
	[UBLK_TGT_NULL] = &tgt_null_ops,
	[UBLK_TGT_LOOP] = &tgt_loop_ops,
	[UBLK_TGT_STRIPE] = &tgt_stripe_ops,
	[UBLK_TGT_CONCAT] = &tgt_concat_ops,
};

const struct ublk_tgt_ops *ublk_tgt_by_type(enum ublk_tgt_type type)
{
	return type < UBLK_TGT_NR ? tgts[type] : NULL;
}

static int tgt_type_by_name(const char *name)
{
	int i;

	for (i = 0; i < UBLK_TGT_NR; i++)
		if (!strcmp(tgts[i]->name, name))
			return i;
	return -1;
}

const struct ublk_tgt_ops *ublk_tgt_by_name(const char *name)
{
	int i = tgt_type_by_name(name);

	return i < 0 ? NULL : tgts[i];
}

static const struct {
	uint64_t flag;
	const char *name;
} feature_names[] = {
	{ UBLK_F_SUPPORT_ZERO_COPY, "zero_copy" },
	{ UBLK_F_URING_CMD_COMP_IN_TASK, "uring_cmd_comp_in_task" },
	{ UBLK_F_NEED_GET_DATA, "need_get_data" },
	{ UBLK_F_USER_RECOVERY, "user_recovery" },
	{ UBLK_F_USER_RECOVERY_REISSUE, "user_recovery_reissue" },
	{ UBLK_F_UNPRIVILEGED_DEV, "unprivileged_dev" },
	{ UBLK_F_CMD_IOCTL_ENCODE, "cmd_ioctl_encode" },
	{ UBLK_F_USER_COPY, "user_copy" },
	{ UBLK_F_ZONED, "zoned" },
	{ UBLK_F_BPF, "bpf" },
};

#define NR_FEATURE_NAMES (sizeof(feature_names) / sizeof(feature_names[0]))

static void fmt_flags(uint64_t flags, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < NR_FEATURE_NAMES && n < len; i++) {
		if (!(flags & feature_names[i].flag))
			continue;
		n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
			      feature_names[i].name);
	}
}

static const char *dev_state_name(unsigned int state)
{
	switch (state) {
	case UBLK_S_DEV_DEAD:
		return "DEAD";
	case UBLK_S_DEV_LIVE:
		return "LIVE";
	case UBLK_S_DEV_QUIESCED:
		return "QUIESCED";
	}
	return "UNKNOWN";
}

/* ---- the run directory: configuration of each device ---- */

static const char *run_dir(void)
{
	const char *d = getenv("UBLK_RUN_DIR");

	return d && *d ? d : UBLK_RUN_DIR_DEFAULT;
}

static void run_path(char *buf, size_t len, int dev_id, const char *suffix)
{
	snprintf(buf, len, "%s/ublk%d%s", run_dir(), dev_id, suffix);
}

static int make_run_dir(void)
{
	if (mkdir(run_dir(), 0755) && errno != EEXIST) {
		ublk_err("mkdir %s: %s", run_dir(), strerror(errno));
		return -errno;
	}
	return 0;
}

static void remove_run_files(int dev_id, bool log)
{
	char path[PATH_MAX];

	run_path(path, sizeof(path), dev_id, "");
	unlink(path);
	run_path(path, sizeof(path), dev_id, ".io");
	unlink(path);
	if (log) {
		run_path(path, sizeof(path), dev_id, ".log");
		unlink(path);
	}
}

static int save_config(const struct ublk_dev *dev)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	const struct ublk_config *c = &dev->cfg;
	unsigned int i;
	FILE *f;

	run_path(path, sizeof(path), dev->info.dev_id, "");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		ublk_err("%s: %s", tmp, strerror(errno));
		return -errno;
	}
	fprintf(f, "target=%s\n", dev->ops->name);
	fprintf(f, "size=%llu\n", (unsigned long long)c->size);
	fprintf(f, "chunk=%u\n", c->chunk);
	fprintf(f, "buffered=%d\n", c->buffered);
	for (i = 0; i < dev->nr_files; i++) {
		fprintf(f, "file=%s\n", dev->files[i].path);
		fprintf(f, "direct=%d\n", dev->files[i].direct);
	}
	fprintf(f, "pid=%d\n", getpid());
	for (i = 0; dev->queues && i < dev->info.nr_hw_queues; i++)
		fprintf(f, "tid=%d\n", dev->queues[i].tid);
	if (fclose(f) || rename(tmp, path)) {
		ublk_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

struct saved {
	char target[16];
	uint64_t size;
	unsigned int chunk;
	int buffered;
	unsigned int nr_files;
	char *files[UBLK_MAX_FILES];
	int direct[UBLK_MAX_FILES];
	unsigned int nr_direct;
	int pid;
	int tids[UBLK_MAX_NR_QUEUES];
	unsigned int nr_tids;
};

static int load_config(int dev_id, struct saved *s)
{
	char path[PATH_MAX], line[PATH_MAX + 16];
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	run_path(path, sizeof(path), dev_id, "");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');

		line[strcspn(line, "\n")] = 0;
		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "target"))
			snprintf(s->target, sizeof(s->target), "%s", v);
		else if (!strcmp(line, "size"))
			s->size = strtoull(v, NULL, 10);
		else if (!strcmp(line, "chunk"))
			s->chunk = strtoul(v, NULL, 10);
		else if (!strcmp(line, "buffered"))
			s->buffered = atoi(v);
		else if (!strcmp(line, "file") && s->nr_files < UBLK_MAX_FILES)
			s->files[s->nr_files++] = strdup(v);
		else if (!strcmp(line, "direct") && s->nr_direct < UBLK_MAX_FILES)
			s->direct[s->nr_direct++] = atoi(v);
		else if (!strcmp(line, "pid"))
			s->pid = atoi(v);
		else if (!strcmp(line, "tid") && s->nr_tids < UBLK_MAX_NR_QUEUES)
			s->tids[s->nr_tids++] = atoi(v);
	}
	fclose(f);
	return 0;
}

static void free_saved(struct saved *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_files; i++)
		free(s->files[i]);
}

/* ---- serving a device ---- */

static void init_dev(struct ublk_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->ctrl_fd = -1;
	dev->cdev_fd = -1;
	dev->exit_pipe[0] = dev->exit_pipe[1] = -1;
	dev->cfg.dev_id = -1;
	dev->cfg.nr_queues = UBLK_DEF_QUEUES;
	dev->cfg.depth = UBLK_DEF_DEPTH;
	dev->cfg.max_io = UBLK_DEF_MAX_IO;
	dev->cfg.chunk = UBLK_DEF_CHUNK;
	dev->cfg.bpf_id = -1;
	dev->bpf_written_fd = -1;
	dev->bpf_file0_fd = -1;
}

static unsigned int ilog2(uint64_t v)
{
	unsigned int n = 0;

	while (v >>= 1)
		n++;
	return n;
}

static void fill_params(struct ublk_dev *dev)
{
	struct ublk_param_basic *b = &dev->params.basic;
	struct ublk_param_discard *d = &dev->params.discard;
	unsigned int shift = ilog2(dev->lbs);
	unsigned int max_sectors = dev->info.max_io_buf_bytes >> 9;

	memset(&dev->params, 0, sizeof(dev->params));
	dev->params.types = UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD;
	if (dev->nr_files)
		b->attrs = UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA;
	b->logical_bs_shift = shift;
	b->physical_bs_shift = shift > 12 ? shift : 12;
	b->io_min_shift = shift;
	b->io_opt_shift = dev->cfg.type == UBLK_TGT_STRIPE ?
			  ilog2(dev->cfg.chunk) : shift;
	b->max_sectors = max_sectors;
	b->dev_sectors = dev->dev_size >> 9;

	/* one discard never needs more extents than the largest I/O */
	d->discard_granularity = dev->lbs;
	d->max_discard_sectors = max_sectors;
	d->max_write_zeroes_sectors = max_sectors;
	d->max_discard_segments = 1;

	if (dev->cfg.flags & UBLK_F_BPF) {
		dev->params.types |= UBLK_PARAM_TYPE_BPF;
		dev->params.bpf.flags = UBLK_BPF_HAS_OPS_ID;
		dev->params.bpf.ops_id = dev->bpf_ops_id;
	}
	/* bpf aio: the completions, and the target's files by index */
	if (dev->bpf_aio_link) {
		unsigned int i;

		dev->params.bpf.flags |= UBLK_BPF_HAS_AIO_OPS_ID;
		dev->params.bpf.aio_ops_id = dev->bpf_ops_id;
		for (i = 0; i < dev->nr_files && i < UBLK_BPF_MAX_FILES; i++)
			dev->params.bpf.fds[i] = dev->files[i].fd;
		dev->params.bpf.nr_files = i;
		/* far above any descriptor this process has open */
		if (dev->cfg.bpf_bad_fd && i)
			dev->params.bpf.fds[0] = UBLK_BAD_FD;
		if (dev->bpf_file0_fd >= 0 && i)
			dev->params.bpf.fds[0] = dev->bpf_file0_fd;
	}
}

static int open_cdev(struct ublk_dev *dev)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), UBLK_CDEV_FMT, dev->info.dev_id);
	/* devtmpfs makes the node; after a kill the old server may hold it */
	for (i = 0; i < 100; i++) {
		dev->cdev_fd = open(path, O_RDWR | O_CLOEXEC);
		if (dev->cdev_fd >= 0)
			return 0;
		if (errno != ENOENT && errno != EBUSY)
			break;
		usleep(100000);
	}
	ublk_err("open %s: %s", path, strerror(errno));
	return -errno;
}

static void release_hold(struct ublk_dev *dev)
{
	if (!__atomic_exchange_n(&dev->hold, 0, __ATOMIC_ACQ_REL))
		return;
	ublk_queues_wake(dev);
}

/*
 * Stop serving: STOP_DEV, which completes every request and aborts every
 * fetch, so that the queue threads end (when the device was deleted or
 * stopped by someone else, the kernel has done that already and STOP_DEV
 * changes nothing); then close /dev/ublkcN and delete the device.
 */
static int teardown(struct ublk_dev *dev)
{
	int ret, err = 0;

	release_hold(dev);
	ret = ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_STOP_DEV, dev->info.dev_id, 0,
				NULL, 0, ENODEV);
	if (ret < 0 && ret != -ENODEV)
		err = ret;
	ret = ublk_queues_join(dev);
	if (ret && !err)
		err = ret;
	ublk_queues_free(dev);
	if (dev->cdev_fd >= 0)
		close(dev->cdev_fd);
	dev->cdev_fd = -1;
	ret = ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_DEL_DEV_ASYNC, dev->info.dev_id,
				0, NULL, 0, ENODEV);
	if (ret < 0 && ret != -ENODEV && !err)
		err = ret;
	remove_run_files(dev->info.dev_id, false);
	return err;
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGRTMIN);
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Serve until a signal says stop or the kernel aborts every queue. */
static int serve(struct ublk_dev *dev, const sigset_t *set)
{
	char io_path[PATH_MAX];
	struct pollfd pfd[2];
	int sfd, ret;

	run_path(io_path, sizeof(io_path), dev->info.dev_id, ".io");
	sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0) {
		ublk_err("signalfd: %s", strerror(errno));
		return teardown(dev);
	}
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = dev->exit_pipe[0];
	pfd[1].events = POLLIN;
	for (;;) {
		struct signalfd_siginfo si;
		char c;

		/* a UBLK_F_BPF device: look at its ops every 200 ms */
		if (poll(pfd, 2, ublk_bpf_watch(dev)) < 0) {
			if (errno == EINTR)
				continue;
			ublk_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(dev->exit_pipe[0], &c, 1) != 1)
				continue;
			ublk_log("dev %d: queue ended: the device was stopped or deleted",
				 dev->info.dev_id);
			break;
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1) {
			ret = ublk_dump_ios(dev, io_path);
			if (ret)
				ublk_err("%s: %s", io_path, strerror(-ret));
			continue;
		}
		if (si.ssi_signo == (unsigned int)SIGRTMIN) {
			ublk_bpf_unload(dev);
			continue;
		}
		if (si.ssi_signo == SIGUSR2) {
			/* toggle: hold new requests, or release the held ones */
			if (__atomic_load_n(&dev->hold, __ATOMIC_ACQUIRE))
				release_hold(dev);
			else
				__atomic_store_n(&dev->hold, 1, __ATOMIC_RELEASE);
			continue;
		}
		ublk_log("dev %d: signal %d: stopping and deleting the device",
			 dev->info.dev_id, si.ssi_signo);
		break;
	}
	close(sfd);
	return teardown(dev);
}

static void daemon_stdio(int dev_id)
{
	char path[PATH_MAX];
	int fd;

	run_path(path, sizeof(path), dev_id, ".log");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	dup2(fd, STDIN_FILENO);
	close(fd);
}

/* Tell the `add` or `recover` that forked us (or the user) the device. */
static void report_started(struct ublk_dev *dev, int report_fd)
{
	char msg[32];
	int n;

	if (report_fd < 0) {
		printf(UBLK_BDEV_FMT "\n", dev->info.dev_id);
		fflush(stdout);
		return;
	}
	daemon_stdio(dev->info.dev_id);
	ublk_log("dev %d: served by pid %d", dev->info.dev_id, getpid());
	n = snprintf(msg, sizeof(msg), "%d\n", dev->info.dev_id);
	if (write(report_fd, msg, n) != n)
		ublk_err("cannot report the device to the parent: %s",
			 strerror(errno));
	close(report_fd);
}

static void log_truncate(int dev_id)
{
	char path[PATH_MAX];
	int fd;

	run_path(path, sizeof(path), dev_id, ".log");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

/* The request timeout of the block queue: sysfs, in milliseconds. */
static int set_timeout(struct ublk_dev *dev)
{
	char path[PATH_MAX];
	FILE *f;
	int ret;

	if (!dev->cfg.timeout)
		return 0;
	snprintf(path, sizeof(path), "/sys/block/ublkb%d/queue/io_timeout",
		 dev->info.dev_id);
	f = fopen(path, "w");
	if (!f) {
		ublk_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "%u\n", dev->cfg.timeout * 1000);
	ret = fclose(f) ? -errno : 0;
	if (ret)
		ublk_err("%s: %s", path, strerror(-ret));
	return ret;
}

/* The new server: ADD_DEV, SET_PARAMS, queues, START_DEV, serve. */
static int run_new(struct ublk_dev *dev, int report_fd)
{
	sigset_t set;
	int ret;

	if (block_signals(&set))
		return 1;
	if (ublk_ctrl_open(dev))
		return 1;
	if (ublk_ctrl_add_dev(dev) < 0)
		return 1;
	log_truncate(dev->info.dev_id);
	dev->max_exts = dev->ops->max_exts(dev);
	dev->bpf_ops_id = dev->cfg.bpf_id >= 0 ? dev->cfg.bpf_id :
			  dev->info.dev_id;
	if (dev->cfg.bpf && ublk_bpf_load(dev))
		goto fail_del;
	/* any kind of file, as it is: what the kernel must refuse */
	if (dev->cfg.bpf_file0) {
		dev->bpf_file0_fd = open(dev->cfg.bpf_file0, O_RDWR | O_CLOEXEC);
		if (dev->bpf_file0_fd < 0) {
			ublk_err("--bpf-file0 %s: %s", dev->cfg.bpf_file0,
				 strerror(errno));
			goto fail_del;
		}
	}
	fill_params(dev);
	ret = ublk_ctrl_set_params(dev);
	if (ret < 0)
		goto fail_del;
	ret = open_cdev(dev);
	if (ret)
		goto fail_del;
	ret = ublk_queues_start(dev);
	if (ret)
		goto fail_stop;
	ret = ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_START_DEV, dev->info.dev_id,
				getpid(), NULL, 0, 0);
	if (ret < 0)
		goto fail_stop;
	ret = set_timeout(dev);
	if (ret)
		goto fail_stop;
	ret = save_config(dev);
	if (ret)
		goto fail_stop;
	if (dev->cfg.hold)
		__atomic_store_n(&dev->hold, 1, __ATOMIC_RELEASE);
	report_started(dev, report_fd);
	return serve(dev, &set) ? 1 : 0;

fail_stop:
	teardown(dev);
	return 1;
fail_del:
	ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_DEL_DEV, dev->info.dev_id, 0, NULL, 0,
			  0);
	remove_run_files(dev->info.dev_id, true);
	return 1;
}

/* The server of a recovered device: the kernel kept the device. */
static int run_recovered(struct ublk_dev *dev, int report_fd)
{
	sigset_t set;
	int ret, i;

	if (block_signals(&set))
		return 1;
	if (ublk_ctrl_open(dev))
		return 1;
	/* the killed server's files close some time after its death */
	for (i = 0; i < 100; i++) {
		ret = ublk_ctrl_cmd(dev, UBLK_U_CMD_START_USER_RECOVERY,
				    dev->info.dev_id, 0, NULL, 0);
		if (ret != -EBUSY)
			break;
		usleep(100000);
	}
	if (ret < 0) {
		ublk_err("START_USER_RECOVERY (dev %d): %s%s", dev->info.dev_id,
			 strerror(-ret),
			 ret == -EBUSY ? " (the old server still holds the device)" : "");
		return 1;
	}
	dev->max_exts = dev->ops->max_exts(dev);
	ret = open_cdev(dev);
	if (ret)
		return 1;
	ret = ublk_queues_start(dev);
	if (ret)
		goto fail;
	ret = ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_END_USER_RECOVERY,
				dev->info.dev_id, getpid(), NULL, 0, 0);
	if (ret < 0)
		goto fail;
	ret = save_config(dev);
	if (ret)
		goto fail;
	report_started(dev, report_fd);
	return serve(dev, &set) ? 1 : 0;
fail:
	teardown(dev);
	return 1;
}

/*
 * Run @fn as a daemon unless --foreground: the parent waits until the
 * child has started the device (it then prints /dev/ublkbN) or failed
 * (the child has said why on the inherited stderr).
 */
static int start_server(struct ublk_dev *dev,
			int (*fn)(struct ublk_dev *dev, int report_fd))
{
	char buf[32];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (dev->cfg.foreground)
		return fn(dev, -1);
	if (pipe2(p, O_CLOEXEC)) {
		ublk_err("pipe: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ublk_err("fork: %s", strerror(errno));
		return 1;
	}
	if (!pid) {
		close(p[0]);
		setsid();
		if (chdir("/"))
			return 1;
		exit(fn(dev, p[1]));
	}
	close(p[1]);
	dev->ops->deinit(dev);
	do {
		n = read(p[0], buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n > 0) {
		buf[n] = 0;
		printf(UBLK_BDEV_FMT "\n", atoi(buf));
		return 0;
	}
	/* the child failed and said why */
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status))
		return WEXITSTATUS(status);
	return 1;
}

/* ---- commands ---- */

enum {
	OPT_FOREGROUND = 256,
	OPT_SIZE,
	OPT_CHUNK,
	OPT_BUFFERED,
	OPT_HOLD,
	OPT_REISSUE,
	OPT_ASYNC,
	OPT_TIMEOUT,
	OPT_BPF,
	OPT_BPF_ID,
	OPT_BPF_BAD_FD,
	OPT_BPF_FILE0,
};

static const struct option add_opts[] = {
	{ "type", required_argument, NULL, 't' },
	{ "number", required_argument, NULL, 'n' },
	{ "queues", required_argument, NULL, 'q' },
	{ "depth", required_argument, NULL, 'd' },
	{ "user-copy", no_argument, NULL, 'u' },
	{ "recovery", no_argument, NULL, 'r' },
	{ "reissue", no_argument, NULL, OPT_REISSUE },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "buffered", no_argument, NULL, OPT_BUFFERED },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "bpf", required_argument, NULL, OPT_BPF },
	{ "bpf-id", required_argument, NULL, OPT_BPF_ID },
	{ "bpf-bad-fd", no_argument, NULL, OPT_BPF_BAD_FD },
	{ "bpf-file0", required_argument, NULL, OPT_BPF_FILE0 },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ublk add -t null|loop|stripe|concat [-n ID] [-q QUEUES] [-d DEPTH]\n"
		"                [-u] [-r] [--reissue] [--foreground] [--size SIZE]\n"
		"                [--chunk SIZE] [--buffered] [--hold] [--timeout SEC]\n"
		"                [--bpf OBJ] [--bpf-id ID] [--bpf-bad-fd]\n"
		"                [--bpf-file0 PATH] [FILE...]\n"
		"       ublk del -n ID | -a [--async]\n"
		"       ublk list [-n ID] [-v]\n"
		"       ublk features\n"
		"       ublk recover -n ID [--foreground]\n"
		"\n"
		"  -t TARGET     null (no data kept), loop (FILE), stripe (2-4 FILEs,\n"
		"                --chunk, 64K by default), concat (2-16 FILEs, one after\n"
		"                the other)\n"
		"  -n ID         device id (default: the kernel picks)\n"
		"  -q QUEUES     hardware queues, one server thread each (default 1)\n"
		"  -d DEPTH      requests per queue, 1-%d (default %d)\n"
		"  -u            UBLK_F_USER_COPY: data copied with pread/pwrite on\n"
		"                /dev/ublkcN instead of buffers given to the kernel\n"
		"  -r            UBLK_F_USER_RECOVERY: a killed server can be replaced\n"
		"                with `ublk recover`; I/O waits for it meanwhile\n"
		"  --reissue     -r, and requests the killed server held are reissued\n"
		"                to the new server instead of failing\n"
		"  --size SIZE   null: device size (default 1G); loop: use only the start\n"
		"                of FILE\n"
		"  --buffered    no O_DIRECT on the backing files\n"
		"  --hold        hold every request after start until SIGUSR2, which\n"
		"                toggles holding (tests)\n"
		"  --timeout SEC the request timeout (queue/io_timeout, 30 s by default):\n"
		"                when a killed server had every request of a queue, 6.12\n"
		"                fails them only when one times out\n"
		"  --bpf OBJ     UBLK_F_BPF: BPF handles the I/O it can before this server:\n"
		"                OBJ is a struct ublk_bpf_ops object (FILE, or NAME for\n"
		"                ublk_NAME.bpf.o next to this program: null, mixed, test,\n"
		"                loop, loop_daemon, stripe, concat), registered as ops ID\n"
		"                (--bpf-id, default the device id); an object with bpf\n"
		"                aio completions (loop, stripe, concat) gets the target's\n"
		"                files by index (at most 8), stripe and concat their\n"
		"                layout; SIGRTMIN unregisters them\n"
		"  --bpf-id ID   the ops id; without --bpf, ops another program registered\n"
		"  --bpf-bad-fd  (tests) pass a descriptor that is not open as the BPF\n"
		"                program's file 0: START_DEV must fail with EBADF\n"
		"  --bpf-file0 PATH (tests) pass PATH, opened as it is (a FIFO, a\n"
		"                character device), as the BPF program's file 0:\n"
		"                START_DEV must fail with EINVAL unless it is a\n"
		"                regular file or a block device\n",
		UBLK_MAX_QUEUE_DEPTH, UBLK_DEF_DEPTH);
}

static int check_add_options(struct ublk_dev *dev, int type_set)
{
	struct ublk_config *c = &dev->cfg;
	const struct ublk_tgt_ops *ops = dev->ops;
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);

	if (!type_set) {
		ublk_err("add: -t TARGET is needed (null, loop, stripe or concat)");
		return -EINVAL;
	}
	if (c->bpf_bad_fd && !c->bpf) {
		ublk_err("add: --bpf-bad-fd needs --bpf with bpf aio (loop)");
		return -EINVAL;
	}
	if (c->bpf_file0 && !c->bpf) {
		ublk_err("add: --bpf-file0 needs --bpf with bpf aio (loop)");
		return -EINVAL;
	}
	if (c->nr_queues > ncpus) {
		ublk_err("add: -q %u: this machine has %ld CPUs, and ublk serves at most one queue per CPU",
			 c->nr_queues, ncpus);
		return -EINVAL;
	}
	if (c->nr_files < ops->min_files || c->nr_files > ops->max_files) {
		if (!ops->max_files)
			ublk_err("%s: takes no backing file, %u given",
				 ops->name, c->nr_files);
		else if (ops->min_files == ops->max_files)
			ublk_err("%s: needs %u backing file, %u given",
				 ops->name, ops->min_files, c->nr_files);
		else
			ublk_err("%s: needs %u to %u backing files, %u given",
				 ops->name, ops->min_files, ops->max_files,
				 c->nr_files);
		return -EINVAL;
	}
	/* the BPF parameter names the files for bpf aio */
	if (c->bpf && c->nr_files > UBLK_BPF_MAX_FILES) {
		ublk_err("%s: --bpf: at most %d backing files (UBLK_BPF_MAX_FILES), %u given",
			 ops->name, UBLK_BPF_MAX_FILES, c->nr_files);
		return -EINVAL;
	}
	if (c->size && c->type != UBLK_TGT_NULL && c->type != UBLK_TGT_LOOP) {
		ublk_err("%s: --size is for the null and loop targets",
			 ops->name);
		return -EINVAL;
	}
	return 0;
}

static int cmd_add(int argc, char **argv)
{
	struct ublk_dev dev;
	struct ublk_config *c = &dev.cfg;
	unsigned long v;
	uint64_t sz;
	int opt, type_set = 0, chunk_set = 0, i;

	init_dev(&dev);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "t:n:q:d:ur", add_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 't':
			i = tgt_type_by_name(optarg);
			if (i < 0) {
				ublk_err("add: -t %s: unknown target (null, loop, stripe, concat)",
					 optarg);
				return 1;
			}
			c->type = i;
			type_set = 1;
			break;
		case 'n':
			if (parse_dev_id("add", optarg, &c->dev_id))
				return 1;
			break;
		case 'q':
			if (parse_uint(optarg, UBLK_MAX_NR_QUEUES, &v) || !v) {
				ublk_err("add: -q %s: the number of queues is 1 to the number of CPUs",
					 optarg);
				return 1;
			}
			c->nr_queues = v;
			break;
		case 'd':
			if (parse_uint(optarg, UBLK_MAX_QUEUE_DEPTH, &v) || !v) {
				ublk_err("add: -d %s: the queue depth is 1 to %d",
					 optarg, UBLK_MAX_QUEUE_DEPTH);
				return 1;
			}
			c->depth = v;
			break;
		case 'u':
			c->flags |= UBLK_F_USER_COPY;
			break;
		case 'r':
			c->flags |= UBLK_F_USER_RECOVERY;
			break;
		case OPT_REISSUE:
			c->flags |= UBLK_F_USER_RECOVERY |
				    UBLK_F_USER_RECOVERY_REISSUE;
			break;
		case OPT_FOREGROUND:
			c->foreground = true;
			break;
		case OPT_SIZE:
			if (ublk_parse_size(optarg, &sz) || !sz) {
				ublk_err("add: --size %s: not a size (bytes, or with K, M, G, T)",
					 optarg);
				return 1;
			}
			c->size = sz;
			break;
		case OPT_CHUNK:
			if (ublk_parse_size(optarg, &sz) || sz < 4096 ||
			    sz > (64 << 20) || (sz & (sz - 1))) {
				ublk_err("add: --chunk %s: a power of two from 4K to 64M is needed",
					 optarg);
				return 1;
			}
			c->chunk = sz;
			chunk_set = 1;
			break;
		case OPT_BUFFERED:
			c->buffered = true;
			break;
		case OPT_HOLD:
			c->hold = true;
			break;
		case OPT_BPF:
			c->bpf = optarg;
			c->flags |= UBLK_F_BPF;
			break;
		case OPT_BPF_BAD_FD:
			c->bpf_bad_fd = true;
			break;
		case OPT_BPF_FILE0:
			c->bpf_file0 = optarg;
			break;
		case OPT_BPF_ID:
			if (parse_uint(optarg, UINT32_MAX, &v)) {
				ublk_err("add: --bpf-id %s: 0 to %u", optarg,
					 UINT32_MAX);
				return 1;
			}
			c->bpf_id = v;
			c->flags |= UBLK_F_BPF;
			break;
		case OPT_TIMEOUT:
			if (parse_uint(optarg, 3600, &v) || !v) {
				ublk_err("add: --timeout %s: 1 to 3600 seconds",
					 optarg);
				return 1;
			}
			c->timeout = v;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	for (i = optind; i < argc; i++) {
		if (c->nr_files == UBLK_MAX_FILES) {
			ublk_err("add: more than %d backing files",
				 UBLK_MAX_FILES);
			return 1;
		}
		c->files[c->nr_files] = realpath(argv[i], NULL);
		if (!c->files[c->nr_files]) {
			ublk_err("%s: %s", argv[i], strerror(errno));
			return 1;
		}
		c->nr_files++;
	}
	dev.ops = ublk_tgt_by_type(c->type);
	if (check_add_options(&dev, type_set))
		return 1;
	if ((c->flags & UBLK_F_BPF) && (c->flags & UBLK_F_USER_RECOVERY)) {
		ublk_err("add: --bpf and --bpf-id: the BPF state lives with the server, not with -r or --reissue");
		return 1;
	}
	if (chunk_set && c->type != UBLK_TGT_STRIPE) {
		ublk_err("%s: --chunk is for the stripe target", dev.ops->name);
		return 1;
	}
	if (make_run_dir())
		return 1;
	if (dev.ops->init(&dev)) {
		dev.ops->deinit(&dev);
		return 1;
	}
	return start_server(&dev, run_new);
}

static int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "number", required_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ NULL, 0, NULL, 0 },
	};
	struct ublk_dev dev;
	struct saved s;
	int opt, id = -1, ret, type;
	unsigned int i;
	bool fg = false;

	init_dev(&dev);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_dev_id("recover", optarg, &id))
				return 1;
			break;
		case OPT_FOREGROUND:
			fg = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (id < 0 || optind != argc) {
		ublk_err("recover: -n ID (and nothing else) is needed");
		return 1;
	}
	if (ublk_ctrl_open(&dev))
		return 1;
	if (ublk_ctrl_get_info(&dev, id) < 0)
		return 1;
	if (!(dev.info.flags & UBLK_F_USER_RECOVERY)) {
		ublk_err("recover: device %d was added without -r: it cannot be recovered",
			 id);
		return 1;
	}
	if (dev.info.state != UBLK_S_DEV_QUIESCED) {
		ublk_err("recover: device %d is %s%s", id,
			 dev_state_name(dev.info.state),
			 dev.info.state == UBLK_S_DEV_LIVE ?
			 ": its server is running" : ": nothing to recover");
		return 1;
	}
	if (ublk_ctrl_get_params(&dev) < 0)
		return 1;
	ret = load_config(id, &s);
	if (ret) {
		char path[PATH_MAX];

		run_path(path, sizeof(path), id, "");
		ublk_err("recover: %s: %s (the configuration `add` saved)",
			 path, strerror(-ret));
		return 1;
	}
	type = tgt_type_by_name(s.target);
	if (type < 0) {
		ublk_err("recover: unknown target '%s' in the saved configuration",
			 s.target);
		return 1;
	}
	dev.cfg.type = type;
	dev.ops = ublk_tgt_by_type(type);
	dev.cfg.dev_id = id;
	dev.cfg.nr_queues = dev.info.nr_hw_queues;
	dev.cfg.depth = dev.info.queue_depth;
	dev.cfg.max_io = dev.info.max_io_buf_bytes;
	dev.cfg.flags = dev.info.flags;
	dev.cfg.size = s.size;
	dev.cfg.chunk = s.chunk;
	dev.cfg.buffered = s.buffered;
	dev.cfg.foreground = fg;
	dev.cfg.nr_files = s.nr_files;
	for (i = 0; i < s.nr_files; i++)
		dev.cfg.files[i] = s.files[i];
	if (dev.ops->init(&dev)) {
		dev.ops->deinit(&dev);
		return 1;
	}
	if (dev.dev_size != dev.params.basic.dev_sectors << 9) {
		ublk_err("recover: the backing files give %llu bytes, device %d has %llu",
			 (unsigned long long)dev.dev_size, id,
			 (unsigned long long)dev.params.basic.dev_sectors << 9);
		return 1;
	}
	/* the server opens its own control ring */
	ublk_ctrl_close(&dev);
	ret = start_server(&dev, run_recovered);
	free_saved(&s);
	return ret;
}

static int del_one(struct ublk_dev *dev, int id, bool async)
{
	int ret;

	ret = ublk_ctrl_dev_cmd(dev, async ? UBLK_U_CMD_DEL_DEV_ASYNC :
				UBLK_U_CMD_DEL_DEV, id, 0, NULL, 0, 0);
	if (ret < 0)
		return ret;
	remove_run_files(id, true);
	return 0;
}

/* Device ids in /sys/class/ublk-char, sorted; their number. */
static int list_ids(int **ids)
{
	struct dirent *de;
	int n = 0, cap = 0, *v = NULL, i, j;
	DIR *d;

	*ids = NULL;
	d = opendir(UBLK_SYSFS_CHAR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		int id;

		if (sscanf(de->d_name, "ublkc%d", &id) != 1)
			continue;
		if (n == cap) {
			int *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = id;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*ids = v;
	return n;
}

static int cmd_del(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "number", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "async", no_argument, NULL, OPT_ASYNC },
		{ NULL, 0, NULL, 0 },
	};
	struct ublk_dev dev;
	bool all = false, async = false;
	int opt, id = -1, n, i, ret = 0, *ids;

	init_dev(&dev);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:a", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_dev_id("del", optarg, &id))
				return 1;
			break;
		case 'a':
			all = true;
			break;
		case OPT_ASYNC:
			async = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if ((id < 0) == !all || optind != argc) {
		ublk_err("del: -n ID or -a is needed");
		return 1;
	}
	if (ublk_ctrl_open(&dev))
		return 1;
	if (!all)
		return del_one(&dev, id, async) ? 1 : 0;
	n = list_ids(&ids);
	if (n < 0) {
		ublk_err("%s: %s", UBLK_SYSFS_CHAR, strerror(-n));
		return 1;
	}
	for (i = 0; i < n; i++)
		if (del_one(&dev, ids[i], async))
			ret = 1;
	free(ids);
	return ret;
}

/* Ask the server of a live device what it holds; print it. */
static void list_ios(int id, int pid)
{
	char path[PATH_MAX], line[256];
	FILE *f = NULL;
	int i;

	run_path(path, sizeof(path), id, ".io");
	unlink(path);
	if (pid <= 0 || kill(pid, SIGUSR1)) {
		printf("  io=unknown (no server)\n");
		return;
	}
	for (i = 0; i < 100 && !f; i++) {
		f = fopen(path, "r");
		if (!f)
			usleep(50000);
	}
	if (!f) {
		printf("  io=unknown (the server did not answer)\n");
		return;
	}
	while (fgets(line, sizeof(line), f))
		printf("  io %s", line);
	fclose(f);
}

static int list_one(struct ublk_dev *dev, int id, bool verbose)
{
	char flags[256];
	struct saved s;
	unsigned int i;
	bool have_cfg;
	int ret;

	ret = ublk_ctrl_get_info(dev, id);
	if (ret < 0)
		return ret;
	ret = ublk_ctrl_get_params(dev);
	if (ret < 0)
		return ret;
	have_cfg = !load_config(id, &s);
	fmt_flags(dev->info.flags, flags, sizeof(flags));
	printf("dev=%d bdev=" UBLK_BDEV_FMT " state=%s pid=%d queues=%u depth=%u max_io=%u size=%llu flags=0x%llx(%s) target=%s\n",
	       id, id, dev_state_name(dev->info.state), dev->info.ublksrv_pid,
	       dev->info.nr_hw_queues, dev->info.queue_depth,
	       dev->info.max_io_buf_bytes,
	       (unsigned long long)dev->params.basic.dev_sectors << 9,
	       (unsigned long long)dev->info.flags, flags,
	       have_cfg ? s.target : "unknown");
	if (!have_cfg)
		return 0;
	/* the queue threads of the server that wrote the configuration */
	for (i = 0; i < dev->info.nr_hw_queues; i++)
		printf("  queue=%u tid=%d\n", i,
		       s.pid == dev->info.ublksrv_pid && i < s.nr_tids ?
		       s.tids[i] : -1);
	for (i = 0; i < s.nr_files; i++)
		printf("  file=%s direct=%d\n", s.files[i],
		       i < s.nr_direct ? s.direct[i] : 0);
	if (!strcmp(s.target, "stripe"))
		printf("  chunk=%u\n", s.chunk);
	if (verbose && dev->info.state == UBLK_S_DEV_LIVE)
		list_ios(id, dev->info.ublksrv_pid);
	free_saved(&s);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct ublk_dev dev;
	bool verbose = false;
	int opt, id = -1, n, i, ret = 0, *ids;

	init_dev(&dev);
	optind = 1;
	while ((opt = getopt(argc, argv, "n:v")) != -1) {
		switch (opt) {
		case 'n':
			if (parse_dev_id("list", optarg, &id))
				return 1;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (ublk_ctrl_open(&dev))
		return 1;
	if (id >= 0)
		return list_one(&dev, id, verbose) ? 1 : 0;
	n = list_ids(&ids);
	if (n < 0) {
		ublk_err("%s: %s", UBLK_SYSFS_CHAR, strerror(-n));
		return 1;
	}
	for (i = 0; i < n; i++)
		if (list_one(&dev, ids[i], verbose))
			ret = 1;
	free(ids);
	return ret;
}

static int cmd_features(int argc, char **argv)
{
	struct ublk_dev dev;
	uint64_t features = 0;
	unsigned int i;

	if (argc != 1) {
		usage(stderr);
		return 1;
	}
	init_dev(&dev);
	if (ublk_ctrl_open(&dev))
		return 1;
	if (ublk_ctrl_get_features(&dev, &features) < 0)
		return 1;
	printf("features=0x%llx\n", (unsigned long long)features);
	for (i = 0; i < NR_FEATURE_NAMES; i++)
		if (features & feature_names[i].flag)
			printf("%s\n", feature_names[i].name);
	features &= ~((uint64_t)0x1ff | UBLK_F_BPF);
	if (features)
		printf("unknown=0x%llx\n", (unsigned long long)features);
	return 0;
}

int main(int argc, char **argv)
{
	const char *t = getenv("UBLK_TRACE");

	ublk_trace = t && *t && strcmp(t, "0");
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	argv++;
	argc--;
	if (!strcmp(argv[0], "add"))
		return cmd_add(argc, argv);
	if (!strcmp(argv[0], "del"))
		return cmd_del(argc, argv);
	if (!strcmp(argv[0], "list"))
		return cmd_list(argc, argv);
	if (!strcmp(argv[0], "features"))
		return cmd_features(argc, argv);
	if (!strcmp(argv[0], "recover"))
		return cmd_recover(argc, argv);
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help")) {
		usage(stdout);
		return 0;
	}
	ublk_err("unknown command '%s'", argv[0]);
	usage(stderr);
	return 1;
}
