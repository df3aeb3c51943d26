/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Skips that cannot hide a broken feature, for the C test programs.
 *
 * The harness exports HARNESS_STRICT=1 into every guest command of the
 * project's own runs.  There a missing feature is a broken feature: each
 * "feature missing" skip fails instead, with its reason.  Without it (a
 * test run by hand on another kernel) the skip stays a skip.
 *
 * selftests/lib/strict.sh is the same for the bash scripts.
 */
#ifndef SELFTESTS_STRICT_H
#define SELFTESTS_STRICT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KSFT_FAIL
#define KSFT_FAIL	1
#endif
#ifndef KSFT_SKIP
#define KSFT_SKIP	4
#endif

/* HARNESS_STRICT set to anything but "" or "0" */
static inline bool strict_mode(void)
{
	const char *v = getenv("HARNESS_STRICT");

	return v && *v && strcmp(v, "0");
}

static inline void strict_vprint(const char *prefix, const char *fmt,
				 va_list ap)
{
	fputs(prefix, stdout);
	vprintf(fmt, ap);
	if (strict_mode())
		printf("%s(HARNESS_STRICT=%s: a missing feature is a failure)\n",
		       prefix, getenv("HARNESS_STRICT"));
	fflush(stdout);
}

/*
 * skip_or_fail(fmt, ...): a test case cannot run because a feature is
 * missing.  Prints the reason (fmt ends with a newline) and returns the
 * case's exit status: KSFT_SKIP, or KSFT_FAIL when strict.
 */
static inline __attribute__((format(printf, 1, 2)))
int skip_or_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strict_vprint("", fmt, ap);
	va_end(ap);
	return strict_mode() ? KSFT_FAIL : KSFT_SKIP;
}

/*
 * exit_skip_all_or_fail(fmt, ...): a KTAP program (header printed, no plan
 * yet) cannot run at all: "1..0 # SKIP reason" and exit 4, or when strict
 * one failing result named by the reason and exit 1.  fmt ends with a
 * newline.
 */
static inline __attribute__((format(printf, 1, 2), noreturn))
void exit_skip_all_or_fail(const char *fmt, ...)
{
	va_list ap;

	if (!strict_mode()) {
		va_start(ap, fmt);
		fputs("1..0 # SKIP ", stdout);
		vprintf(fmt, ap);
		va_end(ap);
		fflush(stdout);
		exit(KSFT_SKIP);
	}
	printf("1..1\n");
	va_start(ap, fmt);
	strict_vprint("# ", fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	fputs("not ok 1 ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(KSFT_FAIL);
}

/*
 * For kselftest.h programs: the result of a test whose feature is missing,
 * ksft_test_result_skip(), or ksft_test_result_fail() when strict.
 */
#define ksft_test_result_skip_or_fail(fmt, ...) do {			\
	if (strict_mode())						\
		ksft_test_result_fail(fmt, ##__VA_ARGS__);		\
	else								\
		ksft_test_result_skip(fmt, ##__VA_ARGS__);		\
} while (0)

#endif /* SELFTESTS_STRICT_H */
