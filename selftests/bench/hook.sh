#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fio's exec_prerun / exec_postrun for the benchmark runs (lib.sh):
#
#   hook.sh pre VARIANT DEV [NR_REQUESTS]
#                              select VARIANT on DEV (and set its
#                              nr_requests, which a scheduler switch
#                              resets), print its state, and last the CPU
#                              time snapshot (snapshot.awk)
#   hook.sh post VARIANT DEV   what follows the snapshot after a run
#   hook.sh stop               detach ufq_simple if it is attached
#
# VARIANT is an elevator name, or ufq_simple: the ufq elevator with
# tools/ufq_iosched's ufq_simple attached (its loader is started here and
# kept running between runs; "ufq" runs detach it, they measure UFQ with no
# BPF scheduler).  For ufq and ufq_simple the queue's debugfs sched and
# stats are printed, and with ufq_simple attached its BPF counters
# ("== bpf_stats", bpftool JSON).  What went wrong goes into an "== error"
# section, which fails the benchmark on the host.  Everything a run is
# measured by happens outside its window: before the snapshot in pre, after
# it in post (lib.sh runs snapshot.awk first).

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/../lib/blk.sh"

STATE=${BENCH_STATE:?}
LOG=$STATE/loader.log
BPFTOOL=${BPFTOOL:-bpftool}

loader_pid() {
	cat "$STATE/loader.pid" 2>/dev/null
}

# The loader is not our child (an earlier hook started it) and the guest's
# init does not reap orphans: an exited loader stays a zombie.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

loader_running() {
	local pid
	pid=$(loader_pid)
	[ -n "$pid" ] && alive "$pid"
}

# loader_output: what the loader started last printed
loader_output() {
	tail -c +$(($(cat "$STATE/loader.offset" 2>/dev/null || echo 0) + 1)) "$LOG"
}

# No time limits in these loops: under the instruction-count clock, guest
# time runs ahead while the guest waits for the host (9p), and the harness
# has a wall-clock limit for the whole run.
loader_start() {
	loader_running && return 0
	touch "$LOG"
	stat -c %s "$LOG" > "$STATE/loader.offset"
	setsid "$UFQ_BIN/ufq_simple" -i 3600 >> "$LOG" 2>&1 < /dev/null &
	echo $! > "$STATE/loader.pid"
	while ! loader_output | grep -q ": attached"; do
		if ! loader_running; then
			echo "ufq_simple did not attach: $(loader_output | tail -3 | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
}

# loader_ejected: fails if the last loader's output reports an eject
loader_ejected() {
	[ -s "$STATE/loader.offset" ] || return 0
	if loader_output | grep -q "ejected\|exit kind=\(bpf\|watchdog\|error\)"; then
		echo "the kernel ejected ufq_simple: $(loader_output | tail -4 | tr '\n' ' ')"
		return 1
	fi
}

loader_stop() {
	local pid
	if loader_running; then
		pid=$(loader_pid)
		kill -INT "$pid"
		while alive "$pid"; do
			sleep 0.1
		done
	fi
	rm -f "$STATE/loader.pid"
	loader_ejected
}

bpf_stats() {
	if [ "$1" = ufq_simple ] && loader_running; then
		echo "== bpf_stats"
		"$BPFTOOL" -j map dump name stats
		echo
	fi
}

case $1 in
stop)
	loader_stop
	;;
pre)
	variant=$2 dev=$3 nr=${4:-}
	dbg=/sys/kernel/debug/block/$(dev_name "$dev")/sched
	err=$(
		case $variant in
		ufq_simple)
			loader_start && elv=ufq ;;
		ufq)
			loader_stop && elv=ufq ;;
		*)
			elv=$variant ;;
		esac
		[ -n "$elv" ] || exit 0
		set_scheduler "$dev" "$elv" || { echo "cannot select $elv on $dev"; exit 0; }
		# none has no scheduler tags: its nr_requests is the device's depth
		if [ -n "$nr" ] && [ "$elv" != none ]; then
			f=/sys/block/$(dev_name "$dev")/queue/nr_requests
			echo "$nr" > "$f" && [ "$(cat "$f")" = "$nr" ] ||
				echo "cannot set nr_requests $nr on $dev"
		fi
	)
	[ -z "$err" ] || printf '== error\n%s\n' "$err"
	bpf_stats "$variant"
	files=
	case $variant in ufq|ufq_simple) files="$dbg/sched $dbg/stats" ;; esac
	# shellcheck disable=SC2086
	exec awk -f "$DIR/snapshot.awk" /proc/timer_list /proc/stat $files
	;;
post)
	bpf_stats "$2"
	;;
*)
	echo "usage: $0 pre|post VARIANT DEV | stop" >&2
	exit 2
	;;
esac
