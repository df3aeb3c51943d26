#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# liburing's own test suite, run in a guest (Debian bookworm's liburing
# 2.3 sources, built on the host by `harness build`, harness/liburing.py):
# every test/*.t that liburing's `make runtests` runs, one KTAP result each,
# in liburing's convention: a test passes with exit 0, skips with 77, and is
# sent SIGINT after $LIBURING_TIMEOUT seconds (runtests.sh's 60, times 1.5
# for TCG with lockdep and KFENCE, scaled by HARNESS_TIMEOUT_SCALE), then
# killed 60 seconds later.  A test that runs until it is interrupted
# (a4c0b3decb33.t: 5000 forks; its SIGINT handler exits 0) passes when it
# exits 0 after the SIGINT, as runtests.sh's "timed out (may not be a
# failure)" means; unlike runtests.sh, a test that the SIGINT or the kill
# ends, or that exits non-zero, fails.  No test device is configured, as
# runtests.sh without a config.local.
#
# The tests run on $LIBURING_JOBS lanes at once (2: the guest's CPUs; most
# tests wait rather than compute).  Each lane is a bash in its own network
# namespace (tests bind fixed ports) with its own cwd on a tmpfs (the
# tests create their files in "."), emptied after each test, with
# exec-target.t beside it (timeout.t executes ./exec-target.t).  The
# results are printed in the order of the list, as they come.
#
# A test that fails is run once more, and only one that fails both times
# fails (a few are timing-sensitive under TCG); a listed base failure runs
# once.  A test listed in base-failures (it does not pass on the unpatched
# base kernel, measured with liburing.sh in a guest of `harness build
# --profile unpatched`) that does not pass is an expected failure, "not ok
# N NAME # XFAIL base: REASON"; a listed test that only ends by its SIGINT
# on the base has its own limit there ("limit=SECS", scaled like
# LIBURING_TIMEOUT): after that it has shown the base's failure, and the
# area's timeout would only add minutes.  Every other failure and every
# skip fails (skips only under HARNESS_STRICT=1, through the harness's
# strict verdict).  The last result checks that every name of base-failures is
# one of the tests.
#
# Environment: OUTPUT (the area's build directory, holding src/test/*.t
# and the list "tests"), LIBURING_TIMEOUT, LIBURING_KILL_AFTER,
# LIBURING_JOBS, LIBURING_TESTS (a space-separated subset, for a
# developer), LIBURING_BASE_LIST (another list), LIBURING_WORK (a
# directory to use instead of a tmpfs mounted on /run/liburing-work),
# LIBURING_NETNS=0 (lanes without their own network namespace, for a
# user who may not create one).

SELF=$(readlink -f "$0")
DIR=$(dirname "$SELF")
OUTPUT=${OUTPUT:-$(readlink -f "$DIR/../../build/selftests/liburing")}
. "$DIR/../lib/strict.sh"

SCALE=${HARNESS_TIMEOUT_SCALE:-1}
# scaled SECS: SECS times the host's timeout scale, whole seconds, at least 1
scaled() {
	awk -v s="$SCALE" -v l="$1" 'BEGIN { l = int(l * s + 0.5); print (l < 1 ? 1 : l) }'
}
TIMEOUT=${LIBURING_TIMEOUT:-$(scaled 90)}
KILL_AFTER=${LIBURING_KILL_AFTER:-60}
TESTDIR=$OUTPUT/src/test
BASE_LIST=${LIBURING_BASE_LIST:-$DIR/base-failures}
WORK=${LIBURING_WORK:-/run/liburing-work}

[ "${1:-}" = --lane ] || echo "TAP version 13"
[ -s "$OUTPUT/tests" ] || {
	echo "# liburing's tests are not built (no $OUTPUT/tests): run \`harness build\`"
	fail_area "liburing tests not built"
}
read -r -a TESTS <<< "${LIBURING_TESTS:-$(tr '\n' ' ' < "$OUTPUT/tests")}"
[ -f "$BASE_LIST" ] || fail_area "no base list $BASE_LIST"

# base-failures: "NAME.t [limit=SECS] REASON..." lines, # comments
declare -A BASE LIMIT
while read -r name reason; do
	case $name in ''|'#'*) continue ;; esac
	if [[ $reason =~ ^limit=([0-9]+)\ (.*) ]]; then
		LIMIT[$name]=$(scaled "${BASH_REMATCH[1]}")
		reason=${BASH_REMATCH[2]}
	fi
	BASE[$name]=$reason
done < "$BASE_LIST"

# run_one NAME: the test in the lane's cwd, for its time limit (T_LIMIT:
# its base-failures limit or TIMEOUT); sets RC, OUT, SECS
run_one() {
	local start=$EPOCHSECONDS left=()
	T_LIMIT=${LIMIT[$1]:-$TIMEOUT}
	OUT=$(cd "$CWD" && timeout --preserve-status -s INT -k "$KILL_AFTER" "$T_LIMIT" \
		"$TESTDIR/$1" 2>&1)
	RC=$?
	SECS=$((EPOCHSECONDS - start))
	for f in "$CWD"/*; do [ "$f" = "$CWD/exec-target.t" ] || left+=("$f"); done
	[ ${#left[@]} -eq 0 ] || rm -rf "${left[@]}"
}

why() {
	local own=
	[ "$T_LIMIT" = "$TIMEOUT" ] || own=" (its limit in base-failures)"
	case $1 in
	130) echo "timed out: ended by its SIGINT at ${T_LIMIT}s$own" ;;
	137) echo "timed out: killed ${KILL_AFTER}s after its SIGINT at ${T_LIMIT}s$own" ;;
	77) echo "skipped (exit 77)" ;;
	*) echo "exit status $1" ;;
	esac
}

diag() {
	printf '%s\n' "$OUT" | tail -n 25 | sed -e 's/^/# /'
}

# test_result N NAME: runs the test (twice if it fails and is not listed)
# and prints its KTAP result with its diagnostics; returns 1 when the
# result counts as a failure of the area.
test_result() {
	local n=$1 t=$2 listed=${BASE[$2]+yes} first retried=
	if [ ! -x "$TESTDIR/$t" ]; then
		echo "# $TESTDIR/$t is not built"
		echo "not ok $n $t"
		return 1
	fi
	run_one "$t"
	first=$RC
	# A second run is for a timing-sensitive test; a listed base failure
	# is expected to fail, and its first run decides.
	if [ "$RC" -ne 0 ] && [ "$RC" -ne 77 ] && [ -z "$listed" ]; then
		diag
		echo "# $t: $(why "$RC") in ${SECS}s, running it again"
		retried=" (first run ${SECS}s)"
		run_one "$t"
	fi
	echo "# time $t ${SECS}s$retried (lane $LANE)"
	if [ "$RC" -eq 0 ]; then
		[ "$SECS" -ge "$T_LIMIT" ] &&
			echo "# $t: ran until its SIGINT at ${T_LIMIT}s, then exited 0"
		[ "$first" -ne 0 ] && echo "# $t: failed once ($(why "$first")), passed on the retry"
		[ -n "$listed" ] && echo "# $t passes, but base-failures lists it: ${BASE[$t]}"
		echo "ok $n $t"
		return 0
	fi
	diag
	if [ -n "$listed" ]; then
		echo "# $t: $(why "$RC")"
		echo "not ok $n $t # XFAIL base: ${BASE[$t]}"
	elif [ "$RC" -eq 77 ]; then
		echo "ok $n $t # SKIP liburing: $(printf '%s\n' "$OUT" | grep . | tail -n 1)"
		strict_mode && return 1
	else
		echo "# $t: $(why "$RC") twice (first: $(why "$first"))"
		echo "not ok $n $t"
		return 1
	fi
	return 0
}

# A lane: its own network namespace (several tests bind fixed ports) and
# cwd; it takes the next test nobody has taken (an O_EXCL claim file, so
# with bash builtins only: every exec costs about a second under TCG with
# a 9p root), writes the result to $RES/N.out and then its status to
# $RES/N.rc, until none is left.
if [ "${1:-}" = --lane ]; then
	LANE=$2
	RES=$LIBURING_LANE_RES
	CWD=$LIBURING_LANE_WORK/cwd.$LANE
	if [ "${LIBURING_NETNS:-1}" != 0 ]; then
		ip link set lo up || fail_area "lane $LANE: no loopback in its network namespace"
	fi
	mkdir -p "$CWD" && ln -sf "$TESTDIR/exec-target.t" "$CWD/exec-target.t" ||
		fail_area "cannot create $CWD"
	shopt -s nullglob dotglob
	for ((i = 1; i <= ${#TESTS[@]}; i++)); do
		(set -C; : > "$RES/$i.claim") 2>/dev/null || continue
		test_result "$i" "${TESTS[i - 1]}" > "$RES/$i.out"
		echo $? > "$RES/$i.rc"
	done
	exit 0
fi

JOBS=${LIBURING_JOBS:-2}
if [ -z "${LIBURING_WORK:-}" ]; then
	mkdir -p "$WORK" && mount -t tmpfs -o size=1g,mode=1777 liburing "$WORK" ||
		fail_area "cannot mount a tmpfs on $WORK"
	trap 'cd /; umount "$WORK"' EXIT
else
	trap 'rm -rf "$WORK"/cwd.* "$WORK/results"' EXIT
fi
RES=$WORK/results
mkdir -p "$RES" || fail_area "cannot create $RES"

FAILED=0
LOGGED=
TOTAL_START=$EPOCHSECONDS
echo "1..$((${#TESTS[@]} + 1))"
NETNS=(unshare --net --)
if [ "${LIBURING_NETNS:-1}" = 0 ]; then
	NETNS=()
	echo "# $JOBS lanes, in this network namespace (LIBURING_NETNS=0)"
else
	echo "# $JOBS lanes, each in its own network namespace"
fi
LANES=()
for ((l = 1; l <= JOBS; l++)); do
	LIBURING_LANE_RES=$RES LIBURING_LANE_WORK=$WORK \
		"${NETNS[@]}" bash "$SELF" --lane "$l" > "$RES/lane.$l.log" 2>&1 &
	LANES+=($!)
done

# What a lane said outside its results (it failed to start, or died).
lane_logs() {
	local l
	for ((l = 1; l <= JOBS; l++)); do
		[ -s "$RES/lane.$l.log" ] && sed -e "s/^/# lane $l: /" "$RES/lane.$l.log"
	done
}

# The results in order, as they come: waiting with read -t on a FIFO
# nobody writes (a sleep without an exec).
mkfifo "$RES/idle" && exec {IDLE}<> "$RES/idle" || fail_area "cannot make $RES/idle"
lanes_alive() {
	local pid
	for pid in "${LANES[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
	return 1
}
for ((i = 1; i <= ${#TESTS[@]}; i++)); do
	while [ ! -s "$RES/$i.rc" ]; do
		if ! lanes_alive && [ ! -s "$RES/$i.rc" ]; then
			echo "# every lane exited before ${TESTS[i - 1]} had a result"
			[ -n "$LOGGED" ] || lane_logs
			LOGGED=1
			echo "not ok $i ${TESTS[i - 1]}"
			FAILED=$((FAILED + 1))
			continue 2
		fi
		read -r -t 1 -u "$IDLE" _ || :
	done
	printf '%s\n' "$(< "$RES/$i.out")"
	[ "$(< "$RES/$i.rc")" = 0 ] || FAILED=$((FAILED + 1))
done
wait
exec {IDLE}<&-
[ -n "$LOGGED" ] || lane_logs

N=$((${#TESTS[@]} + 1))
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
echo "# liburing: ${#TESTS[@]} tests in $((EPOCHSECONDS - TOTAL_START))s on $JOBS lanes, $FAILED failed"
[ "$FAILED" -eq 0 ]
