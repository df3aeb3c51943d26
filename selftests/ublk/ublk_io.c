// SPDX-License-Identifier: GPL-2.0
/*
 * ublk_io: keep I/O in flight on a block device and report how it ends.
 *
 *   ublk_io DEV THREADS SECONDS read|write
 *
 * Each of THREADS threads does 4 KiB O_DIRECT reads (or writes of a
 * pattern) at random 4 KiB-aligned offsets, one after the other, until
 * one does not transfer 4 KiB or SECONDS have passed.  Once every thread
 * has completed one I/O it prints "running"; at the end it prints how the
 * threads ended, e.g.
 *
 *   ios=N threads=T ended=T EIO=3 EOF=5 spread=S
 *
 * EIO, ENOSPC...: the errno of the last I/O; EOF: a read of 0 bytes (past
 * the end of a device whose capacity became 0), SHORT: fewer than 4 KiB;
 * ended: threads that stopped before the time ran out; S: seconds from
 * the first to the last thread that ended.  Exit status 0 when every
 * thread ended before the time ran out, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#define BS 4096

static const char *path;
static int writing;
static double seconds;
static uint64_t dev_size;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int nr_started, nr_threads;
static unsigned long total_ios;

struct worker {
	pthread_t thread;
	int fd;
	const char *end;	/* how it ended: an errno name, EOF, SHORT */
	double end_at;
	unsigned long ios;
	unsigned int seed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	double end = now() + seconds;
	void *buf;
	ssize_t n;

	if (posix_memalign(&buf, BS, BS)) {
		w->end = "ENOMEM";
		w->end_at = now();
		return NULL;
	}
	memset(buf, 0x5a, BS);
	while (now() < end) {
		off_t off = (off_t)(rand_r(&w->seed) % (dev_size / BS)) * BS;

		n = writing ? pwrite(w->fd, buf, BS, off) :
			      pread(w->fd, buf, BS, off);
		if (n != BS) {
			w->end = n < 0 ? strerrorname_np(errno) : n ? "SHORT" : "EOF";
			w->end_at = now();
			break;
		}
		if (!w->ios++) {
			pthread_mutex_lock(&lock);
			if (++nr_started == nr_threads) {
				printf("running\n");
				fflush(stdout);
			}
			pthread_mutex_unlock(&lock);
		}
	}
	free(buf);
	return NULL;
}

/* Print "NAME=count" of every way a thread ended, first seen first. */
static void print_ends(struct worker *w)
{
	unsigned int i, j, n;

	for (i = 0; i < nr_threads; i++) {
		if (!w[i].end)
			continue;
		for (j = 0; j < i; j++)
			if (w[j].end && !strcmp(w[j].end, w[i].end))
				break;
		if (j < i)
			continue;
		for (n = 0, j = i; j < nr_threads; j++)
			n += w[j].end && !strcmp(w[j].end, w[i].end);
		printf(" %s=%u", w[i].end, n);
	}
}

int main(int argc, char **argv)
{
	double first = 0, last = 0;
	unsigned int i, ended = 0;
	struct worker *w;
	int fd;

	if (argc != 5 || (strcmp(argv[4], "read") && strcmp(argv[4], "write"))) {
		fprintf(stderr, "usage: ublk_io DEV THREADS SECONDS read|write\n");
		return 2;
	}
	path = argv[1];
	nr_threads = atoi(argv[2]);
	seconds = atof(argv[3]);
	writing = !strcmp(argv[4], "write");
	if (!nr_threads || nr_threads > 256 || seconds <= 0) {
		fprintf(stderr, "ublk_io: 1 to 256 threads and a positive time\n");
		return 2;
	}
	fd = open(path, (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &dev_size) || dev_size < BS) {
		fprintf(stderr, "ublk_io: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "not a block device of 4 KiB or more");
		return 2;
	}
	w = calloc(nr_threads, sizeof(*w));
	if (!w)
		return 2;
	for (i = 0; i < nr_threads; i++) {
		w[i].fd = fd;
		w[i].seed = i + 1;
		if (pthread_create(&w[i].thread, NULL, worker_fn, &w[i])) {
			fprintf(stderr, "ublk_io: pthread_create failed\n");
			return 2;
		}
	}
	for (i = 0; i < nr_threads; i++) {
		pthread_join(w[i].thread, NULL);
		total_ios += w[i].ios;
		if (!w[i].end)
			continue;
		if (!ended || w[i].end_at < first)
			first = w[i].end_at;
		if (!ended || w[i].end_at > last)
			last = w[i].end_at;
		ended++;
	}
	printf("ios=%lu threads=%u ended=%u", total_ios, nr_threads, ended);
	print_ends(w);
	printf(" spread=%.2f\n", ended ? last - first : 0.0);
	return ended == nr_threads ? 0 : 1;
}
