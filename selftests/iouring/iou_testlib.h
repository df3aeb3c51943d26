/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the io_uring test programs share: exit codes, CHECK(), libbpf's
 * output, and loading a skeleton that must fail with a verifier message.
 */
#ifndef IOU_TESTLIB_H
#define IOU_TESTLIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

#define CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		printf("%s:%d: failed: %s: " fmt "\n", __func__, __LINE__,	\
		       #cond, ##__VA_ARGS__);					\
		return KSFT_FAIL;						\
	}									\
} while (0)

static bool libbpf_quiet;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || libbpf_quiet)
		return 0;
	return vprintf(fmt, ap);
}

static char verifier_log[1 << 20];

/* Load a skeleton that must fail, and find @expect in the verifier log */
#define LOAD_MUST_FAIL(name, expect) ({					\
	LIBBPF_OPTS(bpf_object_open_opts, opts,				\
		    .kernel_log_buf = verifier_log,				\
		    .kernel_log_size = sizeof(verifier_log),			\
		    .kernel_log_level = 1);					\
	struct name *__skel = name##__open_opts(&opts);			\
	int __ret = KSFT_PASS;						\
									\
	verifier_log[0] = 0;						\
	libbpf_quiet = true;						\
	if (!__skel) {							\
		printf("cannot open %s\n", #name);			\
		__ret = KSFT_FAIL;					\
	} else if (!name##__load(__skel)) {				\
		printf("%s loaded\n", #name);				\
		__ret = KSFT_FAIL;					\
	} else if (!strstr(verifier_log, expect)) {			\
		printf("%s: no \"%s\" in the verifier log:\n%s\n",	\
		       #name, expect, verifier_log);			\
		__ret = KSFT_FAIL;					\
	}								\
	libbpf_quiet = false;						\
	name##__destroy(__skel);					\
	__ret;								\
})

/* A test case that only loads @skel and expects @expect in the log */
#define VERIFIER_CASE(fn, skel, expect)					\
static int fn(void)							\
{									\
	return LOAD_MUST_FAIL(skel, expect);				\
}

/*
 * Attaching struct_ops whose ring_fd is bad: @one(fd, errno, what) loads
 * and attaches with @fd and expects -errno, for each kind of bad fd.
 */
static inline int bad_ring_fds(int (*one)(int fd, int err, const char *what))
{
	int fd = open("/dev/null", O_RDONLY);

	CHECK(fd >= 0, "open /dev/null");
	if (one(-1, EBADF, "fd -1") || one(4000, EBADF, "unused fd") ||
	    one(fd, EOPNOTSUPP, "not an io_uring fd"))
		return KSFT_FAIL;
	/* high enough not to be reused by the BPF object's fds */
	CHECK(dup2(fd, 900) == 900, "dup2");
	close(900);
	close(fd);
	return one(900, EBADF, "closed fd");
}

#endif
