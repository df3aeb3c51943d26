# SPDX-License-Identifier: GPL-2.0
# Helpers for the UFQ guest selftests (sourced by bash scripts, after
# ktap_helpers.sh and strict.sh).  The debugfs files are described in
# Documentation/block/ufq-iosched.rst.
#
# ufq_fio_verify and ufq_start_loader write their output under $WORK;
# ufq_fio_verify reads $UFQ_VERIFY_SIZE (default 16M).

UFQ_DBG=/sys/kernel/debug/block
UFQ_WATCHDOG=/sys/module/ufq/parameters/watchdog_timeout_ms

# ufq_prepare: mount debugfs and configfs; false if the kernel has no UFQ
ufq_prepare() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	grep -qw ufq /sys/block/*/queue/scheduler 2>/dev/null || [ -d /sys/module/ufq ]
}

ktap_result() {	# ktap_result RC NAME
	if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi
}

ufq_set_sched() {	# ufq_set_sched DEV SCHED
	echo "$2" > "/sys/block/$1/queue/scheduler" 2>/dev/null &&
		grep -q "\[$2\]" "/sys/block/$1/queue/scheduler"
}

ufq_stat() {	# ufq_stat DEV NAME: a counter of debugfs sched/stats
	awk -v k="$2" '$1 == k { print $2 }' "$UFQ_DBG/$1/sched/stats"
}

ufq_sched_field() {	# ufq_sched_field DEV KEY: a line of debugfs sched/sched
	awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }' \
		"$UFQ_DBG/$1/sched/sched"
}

# ufq_stats_consistent DEV [exact]: on an idle queue every inserted request
# was dispatched or merged exactly once and none is queued; at most the
# dispatched ones finished (a requeued request is dispatched twice), and
# with "exact" (a device that never requeues) all of them did.  Completion
# accounting runs after the submitter saw its I/O complete, so "exact"
# waits up to 10 s for the counters to settle.
ufq_stats_consistent() {
	local d=$1 exact=${2:-} i di m f q1 q2 n
	for n in $(seq 100); do
		read -r i di m f q1 q2 < <(awk '{ v[$1] = $2 } END {
			print v["inserted"], v["dispatched"], v["merged_requests"],
			      v["finished"], v["queued_fifo"], v["queued_bpf"] }' \
			"$UFQ_DBG/$d/sched/stats")
		[ -n "$i" ] || break
		[ -z "$exact" ] || [ "$f" -eq "$di" ] && break
		sleep 0.1
	done
	if [ -z "$i" ] || [ "$i" -ne $((di + m)) ] || [ "$q1" -ne 0 ] ||
	   [ "$q2" -ne 0 ] || [ "$f" -gt "$di" ] ||
	   { [ -n "$exact" ] && [ "$f" -ne "$di" ]; }; then
		ktap_print_msg "$d: inserted $i dispatched $di merged $m finished $f queued $q1/$q2"
		return 1
	fi
	return 0
}

ufq_wait_state() {	# ufq_wait_state DEV STATE SECONDS
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(ufq_sched_field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	ktap_print_msg "$1: state $(ufq_sched_field "$1" state), wanted $2"
	return 1
}

# ufq_fio_verify DEV TAG [fio options]: random read/write of 4k-64k blocks,
# every block written verified with crc32c; the output goes to $WORK/TAG.fio
ufq_fio_verify() {
	local dev=$1 tag=$2 rc
	shift 2
	fio --name="$tag" --filename="/dev/$dev" --rw=randrw --bsrange=4k-64k \
		--size="${UFQ_VERIFY_SIZE:-16M}" --ioengine=libaio --iodepth=16 \
		--direct=1 --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--verify_backlog=128 --randrepeat=0 --output="$WORK/$tag.fio" \
		"$@" >/dev/null 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		ktap_print_msg "fio $tag on $dev failed ($rc):"
		tail -15 "$WORK/$tag.fio" 2>/dev/null | sed 's/^/# /'
	fi
	return $rc
}

# ufq_start_loader TAG PATTERN CMD...: run a BPF scheduler's loader in the
# background, stdout in $WORK/TAG.out and stderr in $WORK/TAG.err, until
# its stdout has a line matching PATTERN (it attached); sets LOADER_PID.
# Loading and verifying BPF is slow under TCG on a busy host: up to 180 s.
# The output files are emptied first, so that the last loader's lines
# cannot match before the background shell has truncated them.
ufq_start_loader() {
	local tag=$1 pat=$2 i
	shift 2
	: > "$WORK/$tag.out"
	: > "$WORK/$tag.err"
	"$@" > "$WORK/$tag.out" 2> "$WORK/$tag.err" &
	LOADER_PID=$!
	for i in $(seq 1800); do
		grep -q -- "$pat" "$WORK/$tag.out" && return 0
		kill -0 $LOADER_PID 2>/dev/null || break
		sleep 0.1
	done
	ktap_print_msg "$* did not attach:"
	sed 's/^/# /' "$WORK/$tag.err" | tail -20
	kill -9 $LOADER_PID 2>/dev/null
	wait $LOADER_PID 2>/dev/null
	LOADER_PID=
	return 1
}

# ufq_stop_loader [SIGNAL]: signal the loader (default SIGINT: detach and
# exit) and return its exit status
ufq_stop_loader() {
	local rc
	[ -n "$LOADER_PID" ] || return 1
	kill -"${1:-INT}" $LOADER_PID 2>/dev/null
	wait $LOADER_PID 2>/dev/null
	rc=$?
	LOADER_PID=
	return $rc
}

# ufq_setup_devices FAST SLOW: the devices of the UFQ tests.  FAST is a
# memory-backed null_blk, SLOW one with one hardware tag and 1 ms
# completions, on which requests wait in the scheduler (merges, watchdog,
# policies), plus a loop device on a file in $WORK (LOOPDEV).  Sets
# IODEVS to FAST, the loop device and $TEST_DISK if there is one (a
# TEST_DISK that is not a block device: check_test_disk).  Ends the test
# plan with a failure if a device cannot be set up.
ufq_setup_devices() {
	check_test_disk
	nullb_create "$1" 256 || ktap_exit_fail_msg "cannot create null_blk $1"
	nullb_create "$2" 64 hw_queue_depth=1 irqmode=2 completion_nsec=1000000 ||
		ktap_exit_fail_msg "cannot create null_blk $2"
	truncate -s 256M "$WORK/loop.img"
	LOOPDEV=$(losetup -f --show "$WORK/loop.img") ||
		ktap_exit_fail_msg "cannot set up a loop device"
	IODEVS="$1 ${LOOPDEV#/dev/}"
	[ -z "${TEST_DISK:-}" ] || IODEVS="$IODEVS $(dev_name "$TEST_DISK")"
}

# ufq_teardown_devices FAST SLOW: undo ufq_setup_devices, leaving every
# device of IODEVS with no scheduler
ufq_teardown_devices() {
	local d
	for d in $IODEVS $2; do
		echo none > "/sys/block/$d/queue/scheduler" 2>/dev/null
	done
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
	nullb_destroy "$1" 2>/dev/null
	nullb_destroy "$2" 2>/dev/null
}
