#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# liburing's own test suite, run in a guest (Debian bookworm's liburing
# 2.3 sources, built on the host by `harness build`, harness/liburing.py):
# every test/*.t that liburing's `make runtests` runs, one KTAP result each,
# in liburing's convention: a test passes with exit 0, skips with 77, and is
# sent SIGINT after $LIBURING_TIMEOUT seconds (runtests.sh's 60, scaled by
# HARNESS_TIMEOUT_SCALE), then killed 60 seconds later.  A test that runs
# until it is interrupted (a4c0b3decb33.t: 5000 forks, 60 s and more under
# TCG; its SIGINT handler exits 0) passes when it exits 0 after the SIGINT,
# as runtests.sh's "timed out (may not be a failure)" means; unlike
# runtests.sh, a test that the SIGINT or the kill ends, or that exits
# non-zero, fails.  Each test runs in a directory on a tmpfs, emptied after
# it, its cwd (the tests create their files in "."), with
# exec-target.t beside it (timeout.t executes ./exec-target.t); no test
# device is configured, as runtests.sh without a config.local.
#
# A test that fails is run once more, and only one that fails both times
# fails (a few are timing-sensitive under TCG).  A test listed in
# base-failures (it does not pass on the unpatched base kernel, measured
# with liburing.sh in a guest of `harness build --profile unpatched`) that does not pass is
# an expected failure, "not ok N NAME # XFAIL base: REASON"; every other
# failure and every skip fails (skips only under HARNESS_STRICT=1, through
# the harness's strict verdict).  The last result checks that every name
# of base-failures is one of the tests.
#
# Environment: OUTPUT (the area's build directory, holding src/test/*.t and
# the list "tests"), LIBURING_TIMEOUT, LIBURING_KILL_AFTER, LIBURING_TESTS (a space-separated
# subset, for a developer), LIBURING_WORK (where the tmpfs is mounted).

DIR=$(dirname "$(readlink -f "$0")")
OUTPUT=${OUTPUT:-$(readlink -f "$DIR/../../build/selftests/liburing")}
. "$DIR/../lib/strict.sh"

SCALE=${HARNESS_TIMEOUT_SCALE:-1}
TIMEOUT=${LIBURING_TIMEOUT:-$(awk -v s="$SCALE" 'BEGIN { printf "%d", 60 * s + 0.5 }')}
KILL_AFTER=${LIBURING_KILL_AFTER:-60}
TESTDIR=$OUTPUT/src/test
BASE_LIST=${LIBURING_BASE_LIST:-$DIR/base-failures}
WORK=${LIBURING_WORK:-/run/liburing-work}

echo "TAP version 13"
[ -s "$OUTPUT/tests" ] || {
	echo "# liburing's tests are not built (no $OUTPUT/tests): run \`harness build\`"
	fail_area "liburing tests not built"
}
read -r -a TESTS <<< "${LIBURING_TESTS:-$(tr '\n' ' ' < "$OUTPUT/tests")}"
[ -f "$BASE_LIST" ] || fail_area "no base list $BASE_LIST"

# base-failures: "NAME.t REASON..." lines, # comments
declare -A BASE
while read -r name reason; do
	case $name in ''|'#'*) continue ;; esac
	BASE[$name]=$reason
done < "$BASE_LIST"

if [ -z "${LIBURING_WORK:-}" ]; then
	mkdir -p "$WORK" && mount -t tmpfs -o size=1g,mode=1777 liburing "$WORK" ||
		fail_area "cannot mount a tmpfs on $WORK"
	trap 'cd /; umount "$WORK"' EXIT
else
	trap 'rm -rf "$WORK/cwd"' EXIT
fi

N=0
FAILED=0
TOTAL_START=$EPOCHSECONDS

# One cwd for every test, emptied after each (but for exec-target.t):
# bash builtins only, since every exec costs about a second under TCG
# with a 9p root.
CWD=$WORK/cwd
mkdir -p "$CWD" && ln -sf "$TESTDIR/exec-target.t" "$CWD/exec-target.t" ||
	fail_area "cannot create $CWD"
shopt -s nullglob dotglob

# run_one NAME: the test in the cwd; sets RC, OUT, SECS
run_one() {
	local start=$EPOCHSECONDS left=()
	OUT=$(cd "$CWD" && timeout --preserve-status -s INT -k "$KILL_AFTER" "$TIMEOUT" \
		"$TESTDIR/$1" 2>&1)
	RC=$?
	SECS=$((EPOCHSECONDS - start))
	for f in "$CWD"/*; do [ "$f" = "$CWD/exec-target.t" ] || left+=("$f"); done
	[ ${#left[@]} -eq 0 ] || rm -rf "${left[@]}"
}

why() {
	case $1 in
	130) echo "timed out: ended by its SIGINT at ${TIMEOUT}s" ;;
	137) echo "timed out: killed ${KILL_AFTER}s after its SIGINT at ${TIMEOUT}s" ;;
	77) echo "skipped (exit 77)" ;;
	*) echo "exit status $1" ;;
	esac
}

diag() {
	printf '%s\n' "$OUT" | tail -n 25 | sed -e 's/^/# /'
}

echo "1..$((${#TESTS[@]} + 1))"
for t in "${TESTS[@]}"; do
	N=$((N + 1))
	listed=${BASE[$t]+yes}
	if [ ! -x "$TESTDIR/$t" ]; then
		echo "# $TESTDIR/$t is not built"
		echo "not ok $N $t"
		FAILED=$((FAILED + 1))
		continue
	fi
	run_one "$t" 1
	first=$RC retried=
	if [ "$RC" -ne 0 ] && [ "$RC" -ne 77 ]; then
		diag
		echo "# $t: $(why "$RC") in ${SECS}s, running it again"
		retried=" (first run ${SECS}s)"
		run_one "$t" 2
	fi
	echo "# time $t ${SECS}s$retried"
	if [ "$RC" -eq 0 ]; then
		[ "$SECS" -ge "$TIMEOUT" ] &&
			echo "# $t: ran until its SIGINT at ${TIMEOUT}s, then exited 0"
		[ "$first" -ne 0 ] && echo "# $t: failed once ($(why "$first")), passed on the retry"
		[ -n "$listed" ] && echo "# $t passes, but base-failures lists it: ${BASE[$t]}"
		echo "ok $N $t"
		continue
	fi
	diag
	if [ -n "$listed" ]; then
		echo "# $t: $(why "$RC")"
		echo "not ok $N $t # XFAIL base: ${BASE[$t]}"
	elif [ "$RC" -eq 77 ]; then
		echo "ok $N $t # SKIP liburing: $(printf '%s\n' "$OUT" | grep . | tail -n 1)"
		strict_mode && FAILED=$((FAILED + 1))
	else
		echo "# $t: $(why "$RC") twice (first: $(why "$first"))"
		echo "not ok $N $t"
		FAILED=$((FAILED + 1))
	fi
done

N=$((N + 1))
declare -A KNOWN
while read -r t; do KNOWN[$t]=1; done < "$OUTPUT/tests"
stale=()
for t in "${!BASE[@]}"; do [ -n "${KNOWN[$t]:-}" ] || stale+=("$t"); done
if [ ${#stale[@]} -eq 0 ]; then
	echo "ok $N base-failures"
else
	echo "# base-failures lists test(s) that are not run: ${stale[*]}"
	echo "not ok $N base-failures"
	FAILED=$((FAILED + 1))
fi
echo "# liburing: ${#TESTS[@]} tests in $((EPOCHSECONDS - TOTAL_START))s, $FAILED failed"
[ "$FAILED" -eq 0 ]
