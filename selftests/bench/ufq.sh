#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark of the UFQ I/O scheduler: fio 4k random read and a 70/30
# random read/write mix at several queue depths, on a plain null_blk and
# on the virtio-blk disk, under none, mq-deadline, kyber, bfq, ufq with no
# BPF scheduler (its FIFO) and ufq with tools/ufq_iosched's ufq_simple
# attached.  One fio JSON per run goes to
# $HARNESS_SHARED/ufq/<device>_<workload>_<scheduler>_qd<N>.json; the host
# prints IOPS, p99 read latency and ratios to "none" of the same device,
# workload and depth.

DIR=$(dirname "$(readlink -f "$0")")
. "$DIR/../lib/blk.sh"

UFQ_BIN=${UFQ_BIN:-$(dirname "$KSRC")/ufq_iosched/bin}
SCHEDULERS=${SCHEDULERS:-"none mq-deadline kyber bfq ufq ufq_simple"}
WORKLOADS=${WORKLOADS:-"randread randrw"}
DEPTHS=${DEPTHS:-"1 8 32"}
RUNTIME=${RUNTIME:-4}
OUT=$HARNESS_SHARED/ufq
LOG=$OUT/ufq_simple.log
LOADER_PID=
mkdir -p "$OUT"

stop_loader() {
	[ -n "$LOADER_PID" ] || return 0
	kill -INT "$LOADER_PID" 2>/dev/null
	wait "$LOADER_PID"
	local rc=$?
	LOADER_PID=
	return $rc
}

cleanup() {
	stop_loader
	nullb_destroy benchufq
}
trap cleanup EXIT

# start_ufq_simple NAME: ufq on the device with ufq_simple attached
start_ufq_simple() {
	local i
	"$UFQ_BIN/ufq_simple" -i 3600 -d "$1" >> "$LOG" 2>&1 &
	LOADER_PID=$!
	for i in $(seq 1200); do
		grep -q ": attached" "$LOG" && return 0
		kill -0 "$LOADER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "ufq_simple did not attach to $1:"
	cat "$LOG"
	LOADER_PID=
	return 1
}

# fio_run DEV WORKLOAD QD JSON
fio_run() {
	local mix=
	[ "$2" = randrw ] && mix="--rwmixread=70"
	fio --name="$2" --filename="$1" --direct=1 --ioengine=io_uring \
		--rw="$2" $mix --bs=4k --iodepth="$3" --size=256M \
		--time_based --runtime="$RUNTIME" --ramp_time=1 \
		--output-format=json --output="$4" >/dev/null 2>&1
}

# The fastest device (nothing stored), where scheduler overhead shows most
nullb_create benchufq 1024 memory_backed=0 || exit 1
devices="/dev/benchufq"
[ -n "${TEST_DISK:-}" ] && [ -b "$TEST_DISK" ] && devices="$devices $TEST_DISK"

rc=0
for dev in $devices; do
	name=$(dev_name "$dev")
	for sched in $SCHEDULERS; do
		if [ "$sched" = ufq_simple ]; then
			: > "$LOG"
			start_ufq_simple "$name" || { rc=1; continue; }
		elif ! set_scheduler "$dev" "$sched"; then
			echo "cannot select $sched on $name"
			rc=1
			continue
		fi
		for wl in $WORKLOADS; do
			for qd in $DEPTHS; do
				echo "bench: $name $wl $sched qd$qd"
				fio_run "$dev" "$wl" "$qd" "$OUT/${name}_${wl}_${sched}_qd${qd}.json" ||
					{ echo "fio failed: $name $wl $sched qd$qd"; rc=1; }
			done
		done
		if [ "$sched" = ufq_simple ]; then
			stop_loader || { echo "ufq_simple exited with an error:"; cat "$LOG"; rc=1; }
		fi
	done
	set_scheduler "$dev" none
done
exit $rc
