# SPDX-License-Identifier: GPL-2.0
# Helpers for the UFQ guest selftests (sourced by bash scripts, after
# ktap_helpers.sh).  The debugfs files are described in
# Documentation/block/ufq-iosched.rst.
#
# ufq_fio_verify writes its fio output to $WORK/TAG.fio and reads
# $UFQ_VERIFY_SIZE (default 16M).

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
		i=$(ufq_stat "$d" inserted); di=$(ufq_stat "$d" dispatched)
		m=$(ufq_stat "$d" merged_requests); f=$(ufq_stat "$d" finished)
		q1=$(ufq_stat "$d" queued_fifo); q2=$(ufq_stat "$d" queued_bpf)
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
