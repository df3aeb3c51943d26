// SPDX-License-Identifier: GPL-2.0
/*
 * ublk_io: keep I/O in flight on a block device and report how it ends.
 *
 *   ublk_io DEV THREADS SECONDS read|write
 *
 * Each of THREADS threads does 4 KiB O_DIRECT reads (or writes of a
 * pattern) at random 4 KiB-aligned offsets, one after the other, until
 * one fails or SECONDS have passed.  Once every thread has completed one
 * I/O it prints "running"; at the end it prints
 *
 *   ios=N threads=T errors=E errno=NAME seconds_after_first_error=S
 *
 * (errno=none when no I/O failed, errno=mixed when threads saw different
 * ones, S the time from the first to the last failing thread).  Exit
 * status 0: no error; 3: every thread ended with the same errno; 1:
 * anything else (some threads failed, others ran out of time).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
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
	int error;		/* positive errno, 0 if none */
	double error_at;
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
		w->error = ENOMEM;
		return NULL;
	}
	memset(buf, 0x5a, BS);
	while (now() < end) {
		off_t off = (off_t)(rand_r(&w->seed) % (dev_size / BS)) * BS;

		n = writing ? pwrite(w->fd, buf, BS, off) :
			      pread(w->fd, buf, BS, off);
		if (n != BS) {
			w->error = n < 0 ? errno : EIO;
			w->error_at = now();
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

int main(int argc, char **argv)
{
	struct worker *w;
	unsigned int i, errors = 0;
	int fd, first = 0;
	double t_first = 0, t_last = 0;
	bool mixed = false;

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
		if (!w[i].error)
			continue;
		if (!errors || w[i].error_at < t_first)
			t_first = w[i].error_at;
		if (!errors || w[i].error_at > t_last)
			t_last = w[i].error_at;
		if (errors && w[i].error != first)
			mixed = true;
		if (!errors)
			first = w[i].error;
		errors++;
	}
	printf("ios=%lu threads=%u errors=%u errno=%s seconds_after_first_error=%.2f\n",
	       total_ios, nr_threads, errors,
	       !errors ? "none" : mixed ? "mixed" : strerrorname_np(first),
	       errors ? t_last - t_first : 0.0);
	if (!errors)
		return 0;
	return errors == nr_threads && !mixed ? 3 : 1;
}
